"""Frozen result snapshots: a computation stored with its parameters, the design of each
channel, the questionnaire versions, the code version and a hash of its input rows; its
rows are never edited. Recomputing the same inputs gives identical numbers."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select

from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import estimation, frames, microdata
from survey.results.services.periods import parse_period

ROOT = Path(__file__).resolve().parents[3]


@cache
def code_version() -> str:
    """The platform version and a digest of the statistics code (analysis/ and this
    domain's estimation), so a snapshot says which code computed it."""
    digest = hashlib.sha256()
    for folder in ("analysis", "survey/results/services"):
        for path in sorted((ROOT / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"sipas 0.1.0 · stats {digest.hexdigest()[:12]}"


def create(period_text: str, scope_code: str | None, actor: str,
           scope: Scope | None = None) -> ResultSnapshot:
    """A queued snapshot; refuses an unknown period or scope (nothing written)."""
    period = parse_period(period_text)
    unit = None
    if scope_code:
        unit = db.session.scalar(select(Unit).where(Unit.code == scope_code.strip()))
        if unit is None:
            raise ServiceError(_("No unit has the code %(code)s.", code=scope_code), "scope")
    if scope is not None and not (scope.is_administrator and unit is None) and (
            unit is None or not scope.allows("results", unit)):
        raise ServiceError(_("Choose a unit within your scope."), "scope")
    snapshot = ResultSnapshot(
        period=period.label, period_start=period.start, period_end=period.end,
        scope_unit_id=unit.id if unit else None, status="queued", created_by=actor,
        parameters={"period": period.label, "scope": scope_code or None,
                    "ci_proportion": estimation.PROPORTION_METHOD,
                    "ci_mean": estimation.MEAN_METHOD, "alpha": 0.05,
                    "lonely_psu": "adjust", "publication_rules": "NCHS 2017"})
    db.session.add(snapshot)
    db.session.commit()
    return snapshot


def run(snapshot_id: int,
        progress: Callable[[str, int, int], None] | None = None) -> ResultSnapshot:
    """Compute a queued snapshot and store its rows (one transaction); a failure is
    stored on the snapshot with its message."""
    snapshot = db.session.get(ResultSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound("snapshot", snapshot_id)
    snapshot.status = "running"
    db.session.commit()
    try:
        sel = microdata.Selection(parse_period(snapshot.period), snapshot.scope_unit_id,
                                  current_app.config.get("BABEL_DEFAULT_TIMEZONE",
                                                         "Asia/Ho_Chi_Minh"))
        micro = microdata.load(sel)
        units = {u.id: u for u in db.session.scalars(select(Unit))}
        built, input_hash = frames.frames(micro)
        count = sum(len(f.data) for f in built.values())
        rows = estimation.estimate_all(micro, units, progress,
                                       data={k: f.data for k, f in built.items()})
        if rows:
            db.session.execute(insert(ResultRow), [{**r, "snapshot_id": snapshot.id}
                                                   for r in rows])
        snapshot.designs = micro.strata.describe()
        snapshot.questionnaire_versions = [f"{k} v{v}" for k, v in sorted(micro.layouts)]
        snapshot.input_hash = input_hash
        snapshot.n_responses = count
        snapshot.code_version = code_version()
        snapshot.status = "done"
        snapshot.finished_at = utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        failed = db.session.get(ResultSnapshot, snapshot_id)
        assert failed is not None
        failed.status = "failed"
        failed.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        failed.finished_at = utcnow()
        db.session.commit()
        current_app.logger.exception("snapshot %s failed", snapshot_id)
        return failed
    return snapshot


def rows_of(snapshot_id: int) -> list[ResultRow]:
    return list(db.session.scalars(select(ResultRow).where(ResultRow.snapshot_id == snapshot_id)
                                   .order_by(ResultRow.id)))


def get(ref: str | int) -> ResultSnapshot:
    """A snapshot by id, or ``latest`` (the newest finished one)."""
    if str(ref) == "latest":
        snapshot = db.session.scalar(select(ResultSnapshot).where(
            ResultSnapshot.status == "done").order_by(ResultSnapshot.id.desc()))
        if snapshot is None:
            raise ServiceError(_("No finished snapshot yet: compute one first."))
        return snapshot
    try:
        snapshot = db.session.get(ResultSnapshot, int(ref))
    except ValueError:
        snapshot = None
    if snapshot is None:
        raise ServiceError(_("No snapshot %(id)s.", id=ref))
    return snapshot


def visible(scope: Scope, limit: int = 100) -> list[ResultSnapshot]:
    """Snapshots whose rows the scope may read some of: province-wide ones, and those of a
    unit the scope sees or lies within."""
    return [snapshot for snapshot in db.session.scalars(select(ResultSnapshot).order_by(
            ResultSnapshot.id.desc()).limit(limit)) if _readable(scope, snapshot)]


def _readable(scope: Scope, snapshot: ResultSnapshot) -> bool:
    return snapshot.scope_unit_id is None or _touches(scope, snapshot.scope_unit_id)


def _touches(scope: Scope, unit_id: int) -> bool:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        return False
    return scope.allows("results", unit) or any(
        gr.unit_path.startswith(unit.path) for gr in scope.grants
        if "results" in gr.permissions)


def visible_one(scope: Scope, snapshot_id: int) -> ResultSnapshot:
    snapshot = db.session.get(ResultSnapshot, snapshot_id)
    if snapshot is None or not _readable(scope, snapshot):
        raise NotFound("snapshot", snapshot_id)
    return snapshot


def rows_in_scope(scope: Scope, snapshot_id: int) -> list[ResultRow]:
    """The rows of units the scope may see results of; a sector's rows only for a grant
    over the whole province in that sector (or every sector)."""
    unit_ids = set(db.session.scalars(scope.units("results").with_only_columns(Unit.id)))
    roots = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)))}
    sectors_whole: set[str | None] = set()
    for gr in scope.grants:
        if "results" in gr.permissions and gr.unit_id in roots:
            sectors_whole.add(gr.sector)
    out = []
    for row in rows_of(snapshot_id):
        if row.domain == "unit" and row.unit_id in unit_ids:
            out.append(row)
        elif row.domain == "sector" and (None in sectors_whole or row.sector in sectors_whole):
            out.append(row)
    return out


def exportable(scope: Scope, snapshot_id: int) -> ResultSnapshot:
    """A snapshot whose whole microdata the scope may export: its unit (or the province)
    lies within a grant with the export permission over every sector."""
    snapshot = visible_one(scope, snapshot_id)
    root_id = snapshot.scope_unit_id
    unit = db.session.get(Unit, root_id) if root_id is not None else db.session.scalar(
        select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None or not any(
            gr.sector is None and "export" in gr.permissions and gr.covers(unit)
            for gr in scope.grants):
        raise Forbidden("export")
    return snapshot

"""Frozen result snapshots: a computation stored with its parameters, the design of each
channel, the questionnaire versions, the code version and a hash of its input rows; its
rows are never edited. Recomputing the same inputs gives identical numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, false, insert, or_, select, true, update

from survey.campaigns.models import CampaignUnit
from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.transactions import own_transaction
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
        parameters={"period": period.label, "scope": scope_code or None, **METHOD})
    db.session.add(snapshot)
    db.session.commit()
    return snapshot


# How every snapshot estimates, recorded with it.
METHOD = {"ci_proportion": estimation.PROPORTION_METHOD, "ci_mean": estimation.MEAN_METHOD,
          "alpha": 0.05, "lonely_psu": "adjust", "publication_rules": "NCHS 2017"}


def queue_for_campaign(campaign_id: int, period_start: dt.date, period_end: dt.date,
                       actor: str) -> ResultSnapshot:
    """A queued snapshot of a closed campaign's responses alone, estimated with the design
    the campaign stored (basis ``campaign:<id>``); added to the caller's transaction, which
    commits it (the campaign's close)."""
    label = f"{period_start.isoformat()}..{period_end.isoformat()}"
    snapshot = ResultSnapshot(
        period=label, period_start=period_start, period_end=period_end, scope_unit_id=None,
        status="queued", created_by=actor,
        parameters={"period": label, "scope": None, "campaign": campaign_id, **METHOD})
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def run(snapshot_id: int,
        progress: Callable[[str, int, int], None] | None = None) -> ResultSnapshot:
    """Compute a queued snapshot and store its rows (one transaction); a failure is
    stored on the snapshot with its message."""
    snapshot = db.session.get(ResultSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound("snapshot", snapshot_id)
    if not claim(snapshot_id):
        db.session.refresh(snapshot)
        return snapshot  # done, failed, or being computed by a live process
    db.session.refresh(snapshot)
    try:
        with _heartbeat(snapshot_id):
            return _compute(snapshot, progress)
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


HEARTBEAT = dt.timedelta(seconds=10)
STALE = dt.timedelta(minutes=2)  # a running snapshot without heartbeat for this long died


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(ResultSnapshot.status == "queued",
               and_(ResultSnapshot.status == "running",
                    or_(ResultSnapshot.heartbeat_at.is_(None),
                        ResultSnapshot.heartbeat_at < now - STALE)))


def claim(snapshot_id: int) -> bool:
    """Take a snapshot for computing, in one UPDATE: a queued one, or a running one whose
    process stopped beating (it was interrupted by a restart). False when another live
    process has it or it is finished, so that no snapshot is computed twice at once."""
    now = utcnow()
    taken = db.session.execute(
        update(ResultSnapshot).where(ResultSnapshot.id == snapshot_id, _claimable(now))
        .values(status="running", heartbeat_at=now, error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def pending() -> list[int]:
    """Snapshots waiting to be computed, oldest first: queued ones and interrupted ones."""
    return list(db.session.scalars(select(ResultSnapshot.id).where(
        _claimable(utcnow())).order_by(ResultSnapshot.id)))


@contextmanager
def _heartbeat(snapshot_id: int) -> Iterator[None]:
    """Beat every :data:`HEARTBEAT` from a thread of its own, on a connection of its own
    (the computation's transaction holds the rows until its single commit)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not stop.wait(HEARTBEAT.total_seconds()):
                try:
                    with own_transaction() as conn:
                        conn.execute(update(ResultSnapshot).where(
                            ResultSnapshot.id == snapshot_id,
                            ResultSnapshot.status == "running").values(heartbeat_at=utcnow()))
                except Exception:  # an outage: the next beat tries again
                    app.logger.warning("snapshot %s: heartbeat not written", snapshot_id)

    thread = threading.Thread(target=beat, name=f"sipas-heartbeat-{snapshot_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _compute(snapshot: ResultSnapshot,
             progress: Callable[[str, int, int], None] | None) -> ResultSnapshot:
    sel = microdata.Selection(parse_period(snapshot.period), snapshot.scope_unit_id,
                              current_app.config.get("BABEL_DEFAULT_TIMEZONE",
                                                     "Asia/Ho_Chi_Minh"),
                              campaign_id=(snapshot.parameters or {}).get("campaign"))
    micro = microdata.load(sel)
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    built, input_hash = frames.frames(micro)
    count = sum(len(f.data) for f in built.values())
    rows = estimation.estimate_all(micro, units, progress,
                                   data={k: f.data for k, f in built.items()},
                                   with_points=sel.campaign_id is None)
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


def _campaign_units(campaign_id: int) -> list[Unit]:
    return list(db.session.scalars(select(Unit).join(
        CampaignUnit, CampaignUnit.unit_id == Unit.id).where(
        CampaignUnit.campaign_id == campaign_id)))


def _readable(scope: Scope, snapshot: ResultSnapshot) -> bool:
    """Province-wide snapshots and those of a unit the scope sees or lies within; a
    campaign's snapshot only for a scope that may read results of one of the campaign's
    units (Sở GD&ĐT does not learn that a Sở Y tế campaign exists)."""
    campaign_id = (snapshot.parameters or {}).get("campaign")
    if campaign_id is not None:
        return any(scope.allows("results", unit) for unit in _campaign_units(campaign_id))
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


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """Which result rows the scope reads, as a clause: the rows of units it may see results
    of; a sector's rows only for a grant over the whole province in that sector (or every
    sector); never a service point's (read by their unit's page alone,
    dashboard.unit_page)."""
    roots = set(db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))
    whole = {gr.sector for gr in scope.grants if "results" in gr.permissions
             and gr.unit_id in roots}
    units = scope.units("results").with_only_columns(Unit.id)
    sector_rows: ColumnElement[bool] = (
        true() if None in whole else ResultRow.sector.in_(sorted(s for s in whole if s))
        if whole else false())
    return or_(and_(ResultRow.domain == "unit", ResultRow.unit_id.in_(units)),
               and_(ResultRow.domain == "sector", sector_rows))


def rows_in_scope(scope: Scope, snapshot_id: int) -> list[ResultRow]:
    """The snapshot's rows the scope reads (:func:`in_scope`), in the order of their ids."""
    return list(db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == snapshot_id, in_scope(scope)).order_by(ResultRow.id)))


def exportable(scope: Scope, snapshot_id: int) -> ResultSnapshot:
    """A snapshot whose whole microdata the scope may export: its unit (or the province)
    lies within a grant with the export permission over every sector. A campaign's
    snapshot holds that campaign's responses only: a grant with the export permission
    covering every unit the campaign covers is enough (Sở Y tế exports its own campaign)."""
    snapshot = visible_one(scope, snapshot_id)
    campaign_id = (snapshot.parameters or {}).get("campaign")
    if campaign_id is not None:
        units = _campaign_units(campaign_id)
        if units and any("export" in gr.permissions and all(gr.covers(u) for u in units)
                         for gr in scope.grants):
            return snapshot
        raise Forbidden("export")
    root_id = snapshot.scope_unit_id
    unit = db.session.get(Unit, root_id) if root_id is not None else db.session.scalar(
        select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None or not any(
            gr.sector is None and "export" in gr.permissions and gr.covers(unit)
            for gr in scope.grants):
        raise Forbidden("export")
    return snapshot

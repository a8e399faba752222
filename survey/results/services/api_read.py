"""What the read-only results API returns to a unit's API key, as plain JSON values.

A key reads within its unit's subtree only (the same :class:`Scope` rules as a staff
member with the ``results`` permission over that unit: unit rows of its subtree, sector
rows only for a key of the province). *Published* snapshots are readable by every valid
key: their figures are on the public page anyway. A key with ``read_results`` (granted by
an administrator on the unit's token page, or ``flask results api-key``) reads every
finished snapshot, published or not, and the figures the publication rules suppress;
without it a suppressed figure comes back as ``null`` with its ``publication`` and
``flags`` saying why, as on the public page.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from survey.collection.models import ApiKey
from survey.common.access import Grant, Scope
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import snapshots

SECTORS = ("administrative", "health", "education", "other")
BASIS = re.compile(r"^(tokens|open|campaign:\d{1,9})$")
NODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DOMAINS = ("unit", "sector", "point")


class BadFilter(ValueError):
    """A query parameter the API does not accept; ``field`` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class BadPaging(BadFilter):
    """A paging parameter that is not a whole number within ``low``..``high``."""

    def __init__(self, field: str, low: int, high: int) -> None:
        super().__init__(field)
        self.low, self.high = low, high


WHOLE = re.compile(r"^[0-9]{1,12}$")


def whole_number(args: Any, name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` as a whole number in ``low``..``high`` (``default``
    when absent); anything else (negative, a fraction, text, too big): :class:`BadPaging`."""
    raw = args.get(name)
    if raw is None:
        return default
    if not WHOLE.match(raw) or not low <= int(raw) <= high:
        raise BadPaging(name, low, high)
    return int(raw)


@dataclass(frozen=True)
class Reader:
    """An API key as a reader of results."""

    key: ApiKey
    scope: Scope
    all_snapshots: bool  # the key's read_results permission

    @classmethod
    def of(cls, key: ApiKey) -> Reader:
        grant = Grant(None, key.unit_id, key.unit.path, None, frozenset({"view", "results"}))
        return cls(key, Scope((grant,)), bool(key.read_results))


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite hands back naive UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _readable(reader: Reader, snapshot: ResultSnapshot) -> bool:
    return snapshot.status == "done" and (snapshot.published or reader.all_snapshots)


def snapshots_page(reader: Reader, page: int, per_page: int) -> tuple[list[ResultSnapshot], int]:
    """One page of the snapshots the key may read, newest first, and how many there are."""
    found = [s for s in snapshots.visible(reader.scope, limit=100_000) if _readable(reader, s)]
    return found[(page - 1) * per_page: page * per_page], len(found)


def snapshot(reader: Reader, snapshot_id: int) -> ResultSnapshot:
    """A snapshot the key may read; unknown or not readable: :class:`NotFound`; a
    snapshot of a unit outside the key's subtree: :class:`Forbidden`."""
    found = db.session.get(ResultSnapshot, snapshot_id) if 0 < snapshot_id < 2**31 else None
    if found is None or not _readable(reader, found):
        raise NotFound("snapshot", snapshot_id)
    try:
        return snapshots.visible_one(reader.scope, snapshot_id)
    except NotFound:
        raise Forbidden("results") from None


def unit(reader: Reader, unit_id: int) -> Unit:
    """A unit within the key's subtree; unknown: 404, outside: 403."""
    found = db.session.get(Unit, unit_id) if 0 < unit_id < 2**31 else None
    if found is None:
        raise NotFound("unit", unit_id)
    if not reader.scope.allows("results", found):
        raise Forbidden("results")
    return found


def units(reader: Reader) -> list[Unit]:
    """The key's unit and its subtree, depth first (ordered by path)."""
    return list(db.session.scalars(reader.scope.units("results").order_by(Unit.path)))


def parse_filters(args: dict[str, str], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The filters of a results query; anything unknown or malformed: :class:`BadFilter`."""
    out: dict[str, Any] = {}
    for name, value in args.items():
        if name not in allowed:
            raise BadFilter(name)
        if name == "unit":
            if not value.isdigit() or len(value) > 12:
                raise BadFilter(name)
            out[name] = int(value)
        elif (name == "sector" and value not in SECTORS) or (
                name == "basis" and not BASIS.match(value)) or (
                name == "node" and not NODE.match(value)) or (
                name == "domain" and value not in DOMAINS):
            raise BadFilter(name)
        else:
            out[name] = value
    return out


def rows(reader: Reader, snapshot_id: int, filters: dict[str, Any], limit: int,
         offset: int) -> tuple[list[ResultRow], int]:
    """One page of the rows of a readable snapshot within the key's scope, filtered, in
    the order of their ids (the stable order the API's pages follow), and how many rows
    the whole query has: two statements (the page, with LIMIT/OFFSET, and a COUNT)."""
    if "unit" in filters:
        unit(reader, filters["unit"])
    where = [ResultRow.snapshot_id == snapshot_id, snapshots.in_scope(reader.scope)]
    if "unit" in filters:
        where.append(ResultRow.unit_id == filters["unit"])
    where += [getattr(ResultRow, name) == filters[name]
              for name in ("sector", "basis", "node", "domain") if name in filters]
    total = db.session.scalar(select(func.count(ResultRow.id)).where(*where)) or 0
    page = list(db.session.scalars(select(ResultRow).where(*where).order_by(ResultRow.id)
                                   .limit(limit).offset(offset))) if offset < total else []
    return page, int(total)


def latest_for_unit(reader: Reader, unit_id: int, filters: dict[str, Any], limit: int,
                    offset: int) -> tuple[Unit, ResultSnapshot, list[ResultRow], int]:
    """One page of a unit's rows in the newest readable snapshot that has any, and their
    total (see :func:`rows`): :class:`NotFound` when none has."""
    found = unit(reader, unit_id)
    for candidate in snapshots.visible(reader.scope, limit=100_000):
        if not _readable(reader, candidate):
            continue
        has = db.session.scalar(select(ResultRow.id).where(
            ResultRow.snapshot_id == candidate.id, ResultRow.unit_id == found.id,
            ResultRow.domain == "unit").limit(1))
        if has is not None:
            page, total = rows(reader, candidate.id,
                               {**filters, "unit": found.id, "domain": "unit"}, limit, offset)
            return found, candidate, page, total
    raise NotFound("results of unit", unit_id)


# --- JSON ---------------------------------------------------------------------------
def snapshot_json(s: ResultSnapshot) -> dict[str, Any]:
    return {
        "id": s.id, "period": s.period, "period_start": _iso(s.period_start),
        "period_end": _iso(s.period_end), "scope_unit_id": s.scope_unit_id,
        "status": s.status, "published": bool(s.published),
        "published_at": _iso(s.published_at), "finished_at": _iso(s.finished_at),
        "n_responses": s.n_responses,
        "questionnaire_versions": list(s.questionnaire_versions or []),
        "code_version": s.code_version, "input_hash": s.input_hash,
        "parameters": dict(s.parameters or {}),
    }


def unit_json(u: Unit) -> dict[str, Any]:
    return {"id": u.id, "code": u.code, "name": u.name, "kind": str(u.kind),
            "sector": u.sector, "parent_id": u.parent_id,
            "depth": max(u.path.count("/") - 2, 0)}


def row_json(reader: Reader, r: ResultRow) -> dict[str, Any]:
    hidden = r.publication == "suppress" and not reader.all_snapshots
    figure = (lambda v: None) if hidden else _number  # noqa: E731
    return {
        "domain": r.domain, "unit_id": r.unit_id, "unit_code": r.unit_code,
        "unit_name": r.unit_name, "sector": r.sector, "basis": r.basis,
        "probability": bool(r.probability), "questionnaire": r.questionnaire, "node": r.node,
        "rule": r.rule, "estimate": figure(r.estimate), "se": figure(r.se),
        "ci_low": figure(r.ci_low), "ci_high": figure(r.ci_high), "n": r.n,
        "n_eff": _number(r.n_eff), "deff": _number(r.deff), "df": _number(r.df),
        "method": r.method, "publication": r.publication,
        "flags": [f for f in (r.flags or "").split(",") if f],
    }


@use_case
def set_read_results(prefix: str, allowed: bool) -> ApiKey:
    """Grant (or take back) a key's ``read_results`` permission (audited: ``api_key``
    is an audited model). An unknown or revoked key is refused, nothing written."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.strip()))
    if key is None or key.revoked_at is not None:
        raise ServiceError(_("No active API key has the prefix %(prefix)s.", prefix=prefix))
    key.read_results = allowed
    db.session.commit()
    return key

"""Sampling frames: read a CSV or XLSX list, check it row by row, and import it all or
nothing. Only the mapped columns are read; the identifier is stored as an HMAC with the
application secret (keyed by campaign), so no name, phone number or dossier code is ever
stored in clear. A file over the size limit is refused before it is read."""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from survey.campaigns.models import Campaign, CampaignDraw, FrameRow, SamplingFrame
from survey.campaigns.services import allocation
from survey.campaigns.services.campaigns import require_draft
from survey.campaigns.services.frame_files import (
    MAX_SHOWN,
    FrameRefused,
    Problem,
    read_limited,
    table,
)
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db

MAX_ROWS = 500_000


@dataclass(frozen=True)
class Mapping:
    id_column: str
    unit_column: str
    stratum_column: str | None = None
    cluster_column: str | None = None
    size_column: str | None = None


def hasher(campaign: Campaign) -> Callable[[str], str]:
    """``ident -> HMAC-SHA256(secret, "campaign-frame:<id>:<ident>")`` in hex; the keyed
    state is built once per file and copied per row."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    base = hmac.new(key, f"campaign-frame:{campaign.id}:".encode(), hashlib.sha256)

    def digest(ident: str) -> str:
        one = base.copy()
        one.update(ident.encode())
        return one.hexdigest()

    return digest


def ident_hash(campaign: Campaign, ident: str) -> str:
    return hasher(campaign)(ident)


def _positions(header: list[str], mapping: Mapping) -> tuple[dict[str, int], list[Problem]]:
    found = {name.strip().casefold(): i for i, name in enumerate(header)}
    wanted = {"id": mapping.id_column, "unit": mapping.unit_column,
              "stratum": mapping.stratum_column, "cluster": mapping.cluster_column,
              "size": mapping.size_column}
    positions, problems = {}, []
    for role, name in wanted.items():
        if not name:
            continue
        if name.strip().casefold() not in found:
            problems.append(Problem(1, _(
                "Column “%(name)s” is missing. The file has the columns: %(found)s.",
                name=name, found=", ".join(h for h in header if h))))
        else:
            positions[role] = found[name.strip().casefold()]
    return positions, problems


def _size_value(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


ROW_FIELDS = ("row_number", "unit_id", "ident_hash", "stratum", "cluster", "size")
FrameTuple = tuple[int, int, str, str | None, str | None, float | None]


@dataclass
class _Parsed:
    rows: list[FrameTuple]
    problems: list[Problem]
    total_problems: int = 0

    def add(self, problem: Problem) -> None:
        self.total_problems += 1
        if len(self.problems) < MAX_SHOWN:
            self.problems.append(problem)


def _parse(campaign: Campaign, data: bytes, filename: str, mapping: Mapping) -> _Parsed:
    reader = table(data, filename)
    header = next(reader, None)
    if header is None:
        raise FrameRefused([Problem(None, _("The file is empty."))])
    positions, problems = _positions(header, mapping)
    if problems:
        raise FrameRefused(problems)
    units = {(cu.unit.code or "").casefold(): cu.unit_id for cu in campaign.units
             if cu.unit.code}
    out = _Parsed([], [])
    seen: dict[str, int] = {}
    digest = hasher(campaign)
    for number, values in enumerate(reader, start=2):
        if not any(values):
            continue
        if len(out.rows) >= MAX_ROWS:
            raise FrameRefused([Problem(number, _("The frame has more than %(n)d rows.",
                                                  n=MAX_ROWS))])
        row = _row(digest, number, values, positions, units, seen, out)
        if row is not None:
            out.rows.append(row)
    if not out.rows and not out.total_problems:
        out.add(Problem(None, _("The file has a header but no row.")))
    return out


def _row(digest: Callable[[str], str], number: int, values: list[str], positions: dict[str, int],
         units: dict[str, int], seen: dict[str, int], out: _Parsed) -> FrameTuple | None:
    def get(role: str) -> str | None:
        if role not in positions:
            return None
        i = positions[role]
        return values[i].strip() if i < len(values) else ""

    ident, code = get("id") or "", get("unit") or ""
    ok, hashed = True, ""
    if not ident:
        out.add(Problem(number, _("The identifier is empty.")))
        ok = False
    if not code:
        out.add(Problem(number, _("The unit code is empty.")))
        ok = False
    elif code.casefold() not in units:
        out.add(Problem(number, _("Unit code “%(code)s” is not one of the campaign's units.",
                                  code=code)))
        ok = False
    stratum, cluster, size_text = get("stratum"), get("cluster"), get("size")
    if stratum is not None and not stratum:
        out.add(Problem(number, _("The stratum is empty.")))
        ok = False
    if cluster is not None and not cluster:
        out.add(Problem(number, _("The cluster is empty.")))
        ok = False
    size = _size_value(size_text) if size_text is not None else None
    if size_text is not None and size is None:
        out.add(Problem(number, _("The size measure “%(value)s” is not a positive number.",
                                  value=size_text)))
        ok = False
    if ident:
        hashed = digest(ident)
        if hashed in seen:
            out.add(Problem(number, _("The same identifier as row %(row)d.", row=seen[hashed])))
            ok = False
        seen.setdefault(hashed, number)
    if not ok:
        return None
    # A tuple per row (see ROW_FIELDS): half the memory of a dict at 500,000 rows.
    return (number, units[code.casefold()], hashed, (stratum or None) and stratum[:128],
            (cluster or None) and cluster[:128], size)


def _check_allocation(campaign: Campaign, rows: list[FrameTuple], out: _Parsed) -> None:
    """Every unit has rows, and every stratum at least the persons the design asks of it."""
    counts = Counter((r[1], r[3] or "") for r in rows)
    names = {cu.unit_id: cu.unit.name for cu in campaign.units}
    present = {u for u, _s in counts}
    for unit_id, name in names.items():
        if unit_id not in present:
            out.add(Problem(None, _("%(unit)s has no row in the frame (an empty stratum).",
                                    unit=name)))
    if out.total_problems:
        return
    try:
        planned = allocation.planned_sizes(campaign, counts, from_frame=False)
    except ServiceError as err:
        out.add(Problem(None, err.message))
        return
    for (unit_id, stratum), n in sorted(planned.items()):
        if n > counts[(unit_id, stratum)]:
            out.add(Problem(None, _(
                "Stratum %(stratum)s of %(unit)s has %(rows)d rows but the design allocates "
                "%(n)d persons to it.", stratum=stratum or "—", unit=names[unit_id],
                rows=counts[(unit_id, stratum)], n=n)))


@use_case
def import_frame(campaign: Campaign, stream: IO[bytes], filename: str,
                 mapping: Mapping) -> SamplingFrame:
    """Check the whole file and import it, replacing the previous frame; refused with
    every problem found (nothing written) otherwise."""
    require_draft(campaign)
    if db.session.scalar(select(CampaignDraw.id).where(CampaignDraw.campaign_id == campaign.id)):
        raise ServiceError(_("The sample is already drawn from the current frame."))
    data = read_limited(stream)
    parsed = _parse(campaign, data, filename, mapping)
    if not parsed.total_problems:
        _check_allocation(campaign, parsed.rows, parsed)
    if parsed.total_problems:
        raise FrameRefused(parsed.problems, parsed.total_problems)
    old = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    db.session.execute(delete(FrameRow).where(FrameRow.frame_id.in_(old)))
    db.session.execute(delete(SamplingFrame).where(SamplingFrame.campaign_id == campaign.id))
    frame = SamplingFrame(
        campaign_id=campaign.id, filename=filename[:255],
        file_hash=hashlib.sha256(data).hexdigest(), row_count=len(parsed.rows),
        id_column=mapping.id_column, unit_column=mapping.unit_column,
        stratum_column=mapping.stratum_column or None,
        cluster_column=mapping.cluster_column or None, size_column=mapping.size_column or None)
    db.session.add(frame)
    db.session.flush()
    _insert_rows(frame.id, parsed.rows)
    commit_or_refuse()
    return frame


def _insert_rows(frame_id: int, rows: list[FrameTuple]) -> None:
    """COPY on PostgreSQL (in the use case's transaction); elsewhere Core inserts in
    chunks. The ORM's per-row bookkeeping is not needed for these rows."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        columns = ", ".join(("frame_id", *ROW_FIELDS, "status"))
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
                f"COPY frame_row ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((frame_id, *row, "frame"))
        return
    for start in range(0, len(rows), 20_000):
        conn.execute(FrameRow.__table__.insert(), [
            {**dict(zip(ROW_FIELDS, r, strict=True)), "frame_id": frame_id, "status": "frame",
             "reserve_rank": None, "selection_probability": None, "token_id": None}
            for r in rows[start:start + 20_000]])


def frame_of(campaign: Campaign) -> SamplingFrame | None:
    return db.session.scalar(select(SamplingFrame).where(SamplingFrame.campaign_id == campaign.id))

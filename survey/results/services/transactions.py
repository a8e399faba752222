"""Transaction counts a unit reports per service point and month (completed dossiers,
patients, pupils): what open-channel responses are weighted to. Through a CSV upload by
staff or ``POST /api/v1/transactions`` with the unit's API key; both go through
:func:`record`, all or nothing, and setting the same count again changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from survey.common.access import Scope
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import ServicePoint, Unit
from survey.results.models import TransactionCount

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_ROWS = 5000
MAX_COUNT = 10_000_000
COLUMNS = ("service_point_id", "month", "count")


@dataclass(frozen=True)
class CountInput:
    service_point_id: int
    month: dt.date
    count: int


class CountProblem(ServiceError):
    """One input refused: ``field`` names it, ``index`` its place in a batch or file."""

    def __init__(self, message: str, field: str | None, index: int | None = None,
                 status: int = 422) -> None:
        super().__init__(message, field)
        self.index = index
        self.status = status


def parse_month(value: object) -> dt.date:
    text = str(value or "").strip()
    match = MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise CountProblem(_("Write the month as YYYY-MM, e.g. 2026-10."), "month")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_item(raw: Mapping[str, Any]) -> CountInput:
    """One count from JSON (or a CSV line as strings)."""
    extra = set(raw) - set(COLUMNS)
    if extra:
        raise CountProblem(_("Unknown field: %(name)s.", name=sorted(extra)[0]), sorted(extra)[0])
    point = raw.get("service_point_id")
    if isinstance(point, str) and point.strip().isdigit():
        point = int(point.strip())
    if isinstance(point, bool) or not isinstance(point, int) or not 0 < point < 2**31:
        raise CountProblem(_("Give the service point's number (a whole number)."),
                           "service_point_id")
    count = raw.get("count")
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count.strip())
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        raise CountProblem(_("The count must be a whole number from 0 to %(max)d.",
                             max=MAX_COUNT), "count")
    return CountInput(point, parse_month(raw.get("month")), count)


@dataclass(frozen=True)
class Recorded:
    created: int
    updated: int
    unchanged: int


@use_case
def record(scope: Scope, items: Sequence[CountInput], source: str) -> Recorded:
    """Set every count (one transaction). Every point must be within the scope's
    ``report_transactions`` permission; a month in the future is refused."""
    if not items:
        raise CountProblem(_("There are no counts to record."), None)
    seen: set[tuple[int, dt.date]] = set()
    this_month = utcnow().date().replace(day=1)
    for i, item in enumerate(items):
        if (item.service_point_id, item.month) in seen:
            raise CountProblem(_("The same service point and month appear twice."), "month", i)
        seen.add((item.service_point_id, item.month))
        if item.month > this_month:
            raise CountProblem(_("The month has not started yet."), "month", i)
    wanted = {item.service_point_id for item in items}
    allowed = set(db.session.scalars(scope.service_points("report_transactions").with_only_columns(
        ServicePoint.id).where(ServicePoint.id.in_(wanted))))
    for i, item in enumerate(items):
        if item.service_point_id not in allowed:
            # The same answer whether the point is missing or another unit's.
            raise CountProblem(_("Service point %(id)s is not one of yours.",
                                 id=item.service_point_id), "service_point_id", i, status=403)
    existing = {(c.service_point_id, c.month): c for c in db.session.scalars(
        select(TransactionCount).where(TransactionCount.service_point_id.in_(wanted)))}
    created = updated = unchanged = 0
    for item in items:
        row = existing.get((item.service_point_id, item.month))
        if row is None:
            db.session.add(TransactionCount(service_point_id=item.service_point_id,
                                            month=item.month, count=item.count, source=source))
            created += 1
        elif row.count != item.count:
            row.count, row.source, row.updated_at = item.count, source, utcnow()
            updated += 1
        else:
            unchanged += 1
    db.session.commit()
    return Recorded(created, updated, unchanged)


def read_csv(data: bytes) -> list[CountInput]:
    """Counts from a CSV file (``service_point_id,month,count``; UTF-8, BOM allowed);
    every problem line is reported, nothing is kept when one is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError(_("The file is not UTF-8 text; save it as CSV UTF-8.")) from exc
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or set(COLUMNS) - {f.strip() for f in reader.fieldnames}:
        raise ServiceError(_("The first line must name the columns: %(cols)s.",
                             cols=", ".join(COLUMNS)))
    items, problems = [], []
    for row in reader:
        if reader.line_num > MAX_ROWS + 1:
            raise ServiceError(_("At most %(n)d lines per file.", n=MAX_ROWS))
        try:
            items.append(parse_item({k.strip(): v for k, v in row.items() if k}))
        except CountProblem as problem:
            problems.append(_("Line %(line)d: %(message)s", line=reader.line_num,
                              message=problem.message))
    if problems:
        raise ServiceError(" ".join(problems[:20]))
    return items


def counts_of(unit: Unit) -> list[TransactionCount]:
    return list(db.session.scalars(
        select(TransactionCount).join(ServicePoint)
        .where(ServicePoint.unit_id == unit.id)
        .order_by(TransactionCount.month.desc(), TransactionCount.service_point_id)))


def points_of(unit: Unit) -> list[ServicePoint]:
    return list(db.session.scalars(select(ServicePoint).where(ServicePoint.unit_id == unit.id)
                                   .order_by(ServicePoint.name)))

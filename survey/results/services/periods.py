"""Reporting periods: a month (``2026-10``), a quarter (``2026-Q3``), a year (``2026``) or
a date range (``2026-08-01..2026-09-30``); dates are local dates of the platform."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from survey.common.errors import ServiceError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date  # inclusive

    def months(self) -> list[dt.date]:
        """First days of the calendar months the period touches."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append(day)
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return out


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> Period:
    """The period named by ``text``; :class:`ServiceError` with a message a clerk can act
    on when it names none."""
    value = (text or "").strip()
    try:
        if m := _MONTH.match(value):
            year, month = int(m.group(1)), int(m.group(2))
            return Period(value, dt.date(year, month, 1), _month_end(year, month))
        if m := _QUARTER.match(value):
            year, quarter = int(m.group(1)), int(m.group(2))
            first = 3 * quarter - 2
            return Period(f"{year}-Q{quarter}", dt.date(year, first, 1),
                          _month_end(year, first + 2))
        if m := _YEAR.match(value):
            year = int(m.group(1))
            return Period(value, dt.date(year, 1, 1), dt.date(year, 12, 31))
        if m := _RANGE.match(value):
            start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            if end < start:
                raise ServiceError(_("The period ends before it starts."), "period")
            return Period(value, start, end)
    except ValueError as exc:
        raise ServiceError(_("%(value)s is not a valid date.", value=value) + " " + _formats(),
                           "period") from exc
    raise ServiceError(_formats(), "period")


def _formats() -> str:
    return _("Write the period as 2026-10 (a month), 2026-Q3 (a quarter), 2026 (a year) or "
             "2026-08-01..2026-09-30 (a date range).")


def previous(period: Period) -> Period:
    """The period of the same length just before (a month, a quarter, a year)."""
    if _MONTH.match(period.label):
        end = period.start - dt.timedelta(days=1)
        return parse_period(f"{end.year}-{end.month:02d}")
    if _QUARTER.match(period.label):
        end = period.start - dt.timedelta(days=1)
        return parse_period(f"{end.year}-Q{(end.month - 1) // 3 + 1}")
    if _YEAR.match(period.label):
        return parse_period(str(period.start.year - 1))
    days = (period.end - period.start).days + 1
    end = period.start - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    return Period(f"{start.isoformat()}..{end.isoformat()}", start, end)

"""Opening hours of a desk, written the way a Vietnamese office posts them:
``"T2-T6 07:00-17:30; T7 07:30-11:30"`` (T2 = Monday … T7 = Saturday, CN = Sunday).
Standard library only; parsed into ISO weekday → (open, close)."""

from __future__ import annotations

import datetime as dt
import re

DAYS = {"T2": 1, "T3": 2, "T4": 3, "T5": 4, "T6": 5, "T7": 6, "CN": 7}
NAMES = {number: name for name, number in DAYS.items()}
_PART = re.compile(
    r"^(?P<first>T[2-7]|CN)(?:\s*-\s*(?P<last>T[2-7]|CN))?\s+"
    r"(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})$")

Hours = dict[int, tuple[dt.time, dt.time]]
# The hours of a one-stop desk (the administrative working week and Saturday morning).
DESK_DEFAULT = "T2-T6 07:00-17:30; T7 07:30-11:30"
# Points of these unit kinds have no opening hours: patients and parents answer whenever
# they can, in the evening too, and nothing about that is suspicious.
HOURLESS_KINDS = frozenset({"hospital", "school"})


def parse(text: str) -> Hours:
    """The hours a text states; :class:`ValueError` naming the part it cannot read."""
    hours: Hours = {}
    for part in (p.strip() for p in text.upper().replace(",", ";").split(";")):
        if not part:
            continue
        match = _PART.match(part)
        if match is None:
            raise ValueError(part)
        first = DAYS[match["first"]]
        last = DAYS[match["last"]] if match["last"] else first
        try:
            opens = dt.time.fromisoformat(match["open"].zfill(5))
            closes = dt.time.fromisoformat(match["close"].zfill(5))
        except ValueError:
            raise ValueError(part) from None
        if last < first or closes <= opens:
            raise ValueError(part)
        for day in range(first, last + 1):
            if day in hours:
                raise ValueError(part)
            hours[day] = (opens, closes)
    return hours


def format_hours(hours: Hours) -> str:
    """The canonical text: consecutive days with the same hours as one range."""
    parts: list[str] = []
    days = sorted(hours)
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1 and \
                hours[days[j + 1]] == hours[days[i]]:
            j += 1
        opens, closes = hours[days[i]]
        span = NAMES[days[i]] if i == j else f"{NAMES[days[i]]}-{NAMES[days[j]]}"
        parts.append(f"{span} {opens:%H:%M}-{closes:%H:%M}")
        i = j + 1
    return "; ".join(parts)


def is_open(hours: Hours, local: dt.datetime, grace: dt.timedelta) -> bool:
    """Whether ``local`` (a local time) falls within the day's hours, ``grace`` after
    closing included (a citizen answers on the way out)."""
    day = hours.get(local.isoweekday())
    if day is None:
        return False
    opens = dt.datetime.combine(local.date(), day[0], local.tzinfo)
    closes = dt.datetime.combine(local.date(), day[1], local.tzinfo) + grace
    return opens <= local <= closes

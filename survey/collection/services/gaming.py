"""Flags for responses that look like gaming: bursts from one device or one link,
identical answers in a burst, desk and kiosk submissions outside the opening hours of
their service point (only desk-type points have hours; hospitals and schools have none).

``Response.flags`` holds a comma-separated list. Flagged responses are kept but
excluded from indices until a staff member accepts them.
Thresholds come from the configuration (``GAMING_*``); the defaults suit a busy desk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, update

from survey.collection.models import Response
from survey.extensions import db
from survey.org import hours
from survey.org.models import ServicePoint

DEFAULTS: dict[str, Any] = {
    "GAMING_DEVICE_WINDOW_SECONDS": 120,
    "GAMING_DEVICE_MAX": 2,  # more than this many from one device in the window
    "GAMING_LINK_WINDOW_SECONDS": 30,
    "GAMING_LINK_MAX": 4,
    "GAMING_IDENTICAL_WINDOW_SECONDS": 600,
    "GAMING_IDENTICAL_MAX": 2,
    # After a point's closing time (ServicePoint.opening_hours), answers still count as
    # within hours for this long (a citizen answers on the way home).
    "OPENING_GRACE_MINUTES": 120,
}
OPEN_CHANNELS = {"desk_qr", "kiosk"}
FLAG_LABELS = {
    "burst_device": _l("Many responses from one device in a short time"),
    "burst_link": _l("Many responses on one link in a short time"),
    "identical_burst": _l("Identical answers repeated on one link"),
    "off_hours": _l("Submitted outside opening hours"),
}


def outside_hours(when: dt.datetime, opening_hours: str | None,
                  config: Mapping[str, Any], timezone: str) -> bool:
    """Whether ``when`` falls outside a point's opening hours (plus the grace). A point
    without hours (hospitals, schools, or none set) is never outside them."""
    if not opening_hours:
        return False
    try:
        parsed = hours.parse(opening_hours)
    except ValueError:
        return False  # stored hours are checked when saved; never flag on a bad value
    grace = dt.timedelta(minutes=config["OPENING_GRACE_MINUTES"])
    return not hours.is_open(parsed, when.astimezone(ZoneInfo(timezone)), grace)


@dataclass(frozen=True)
class Flagging:
    """The flags of a new response, and those of its bursts whose earlier responses still
    need the flag (the first response that makes a burst flags the whole burst)."""

    flags: list[str]
    companions: list[str]


def _rules(response: Response, cfg: Mapping[str, Any]
           ) -> dict[str, tuple[ColumnElement[bool], int, int]]:
    # "== None" would mean IS NULL in SQL: a response without device or link has no burst.
    same_device = (Response.device_hash == response.device_hash) if response.device_hash \
        else false()
    same_link = (Response.link_id == response.link_id) if response.link_id is not None \
        else false()
    return {
        "burst_device": (same_device, cfg["GAMING_DEVICE_WINDOW_SECONDS"],
                         cfg["GAMING_DEVICE_MAX"]),
        "burst_link": (same_link, cfg["GAMING_LINK_WINDOW_SECONDS"], cfg["GAMING_LINK_MAX"]),
        "identical_burst": (and_(same_link, Response.answers_hash == response.answers_hash),
                            cfg["GAMING_IDENTICAL_WINDOW_SECONDS"], cfg["GAMING_IDENTICAL_MAX"]),
    }


def flags_for(response: Response, config: Mapping[str, Any], timezone: str) -> Flagging:
    """Flags of a response about to be stored, from the responses stored before it, in
    one query (two counts per rule: all, and those not yet flagged)."""
    cfg = {**DEFAULTS, **{k: config[k] for k in DEFAULTS if k in config}}
    now = response.submitted_at
    rules = _rules(response, cfg)
    columns = []
    for condition, seconds, _limit in rules.values():
        window = Response.submitted_at >= now - dt.timedelta(seconds=seconds)
        columns += [func.count().filter(condition, window),
                    func.count().filter(condition, window, Response.review_status == "ok")]
    earliest = now - dt.timedelta(seconds=max(seconds for _c, seconds, _l in rules.values()))
    counts = db.session.execute(
        select(*columns).where(Response.submitted_at >= earliest, Response.submitted_at <= now,
                               or_(*(condition for condition, _s, _l in rules.values())))
    ).one()
    flags: list[str] = []
    companions: list[str] = []
    for i, (name, (_condition, _seconds, limit)) in enumerate(rules.items()):
        if counts[2 * i] >= limit:
            flags.append(name)
            if counts[2 * i + 1]:
                companions.append(name)
    if response.channel in OPEN_CHANNELS and response.service_point_id is not None:
        point = db.session.get(ServicePoint, response.service_point_id)
        if point is not None and outside_hours(now, point.opening_hours, cfg, timezone):
            flags.append("off_hours")
    return Flagging(flags, companions)


def flag_burst_companions(response: Response, flagging: Flagging,
                          config: Mapping[str, Any]) -> None:
    """A burst is flagged as a whole: earlier responses of the same burst get the flag."""
    cfg = {**DEFAULTS, **{k: config[k] for k in DEFAULTS if k in config}}
    rules = _rules(response, cfg)
    for flag in flagging.companions:
        condition, seconds, _limit = rules[flag]
        since = response.submitted_at - dt.timedelta(seconds=seconds)
        db.session.execute(
            update(Response)
            .where(condition, Response.submitted_at >= since,
                   Response.submitted_at <= response.submitted_at, Response.review_status == "ok",
                   ~Response.flags.contains(flag))
            .values(review_status="flagged",
                    flags=case((Response.flags == "", flag), else_=Response.flags + "," + flag))
            .execution_options(synchronize_session=False)
        )

"""Collection monitoring, the page a unit manager opens in the morning: per service point
of the scope, responses today / this week / this month, the last response, the links
silent for N days, the share of flagged responses and the one-time tokens issued and
answered over the last 30 days.

Every figure comes from aggregate queries (GROUP BY in the database), a fixed number of
them whatever the number of responses: no response is loaded. Days, weeks (from Monday)
and months are local to the platform's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from survey.collection.models import DossierToken, PointLink, Response
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.models import ServicePoint, Unit

DEFAULT_SILENT_DAYS = 3
MAX_SILENT_DAYS = 90
RECENT_DAYS = 30  # the window of the flagged share and of the tokens


@dataclass(frozen=True)
class SilentLink:
    link_id: int
    kind: str
    last_response: dt.datetime | None


@dataclass
class PointActivity:
    point_id: int
    point_name: str
    unit_id: int
    unit_name: str
    active: bool
    today: int = 0
    week: int = 0
    month: int = 0
    recent: int = 0
    flagged: int = 0
    last_response: dt.datetime | None = None
    tokens_issued: int = 0
    tokens_answered: int = 0
    silent_links: list[SilentLink] = field(default_factory=list)

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.recent if self.recent else None

    @property
    def answer_rate(self) -> float | None:
        return self.tokens_answered / self.tokens_issued if self.tokens_issued else None


@dataclass(frozen=True)
class Monitoring:
    now: dt.datetime
    silent_days: int
    points: list[PointActivity]

    @property
    def silent_points(self) -> int:
        return sum(1 for p in self.points if p.silent_links)

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.points)


def parse_silent_days(text: str | None) -> int:
    """N of "silent for N days": a whole number of days from 1 to 90 (default 3)."""
    value = (text or "").strip()
    if not value:
        return DEFAULT_SILENT_DAYS
    if not value.isdigit() or not 1 <= int(value) <= MAX_SILENT_DAYS:
        raise ServiceError(_("The number of silent days must be a whole number from 1 to "
                             "%(max)d.", max=MAX_SILENT_DAYS), "silent")
    return int(value)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes (stored in UTC).
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Windows:
    today: dt.datetime
    week: dt.datetime
    month: dt.datetime
    recent: dt.datetime
    silent: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime, silent_days: int, zone: ZoneInfo) -> Windows:
        local = now.astimezone(zone).date()

        def start(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

        return cls(start(local), start(local - dt.timedelta(days=local.weekday())),
                   start(local.replace(day=1)), now - dt.timedelta(days=RECENT_DAYS),
                   now - dt.timedelta(days=silent_days))

    @property
    def earliest(self) -> dt.datetime:
        return min(self.week, self.month, self.recent, self.silent)


def monitoring(scope: Scope, unit: Unit | None, *, now: dt.datetime,
               silent_days: int = DEFAULT_SILENT_DAYS) -> Monitoring:
    """The activity of every service point in the scope's "results" view (within the
    unit's subtree when given), by a fixed number of aggregate queries."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    win = Windows.at(now, silent_days, zone)
    points_q = scope.service_points("results")
    if unit is not None:
        points_q = points_q.where(Unit.path.startswith(unit.path, autoescape=True))
    rows = {pid: PointActivity(pid, name, uid, uname, bool(active))
            for pid, name, active, uid, uname in db.session.execute(
                points_q.with_only_columns(ServicePoint.id, ServicePoint.name,
                                           ServicePoint.active, Unit.id, Unit.name)
                .order_by(Unit.path, ServicePoint.name))}
    in_scope = points_q.with_only_columns(ServicePoint.id).scalar_subquery()
    _count_responses(rows, in_scope, win)
    _last_before_window(rows, [p for p in rows.values() if p.last_response is None])
    _silent_links(rows, in_scope, win)
    _tokens(rows, in_scope, win)
    return Monitoring(now, silent_days, list(rows.values()))


def _since(moment: dt.datetime) -> object:
    return func.sum(case((Response.submitted_at >= moment, 1), else_=0))


def _count_responses(rows: dict[int, PointActivity], in_scope: object, win: Windows) -> None:
    query = (select(Response.service_point_id, _since(win.today), _since(win.week),
                    _since(win.month), _since(win.recent),
                    func.sum(case(((Response.submitted_at >= win.recent)
                                   & (Response.flags != ""), 1), else_=0)),
                    func.max(Response.submitted_at))
             .where(Response.service_point_id.in_(in_scope),
                    Response.submitted_at >= win.earliest)
             .group_by(Response.service_point_id))
    for pid, today, week, month, recent, flagged, last in db.session.execute(query):
        point = rows[pid]
        point.today, point.week, point.month = int(today), int(week), int(month)
        point.recent, point.flagged, point.last_response = int(recent), int(flagged), _utc(last)


def _last_before_window(rows: dict[int, PointActivity], quiet: Iterable[PointActivity]) -> None:
    ids = [p.point_id for p in quiet]
    if not ids:
        return
    query: Select[tuple[int | None, dt.datetime]] = (
        select(Response.service_point_id, func.max(Response.submitted_at))
        .where(Response.service_point_id.in_(ids)).group_by(Response.service_point_id))
    for pid, last in db.session.execute(query):
        rows[pid].last_response = _utc(last)


def _silent_links(rows: dict[int, PointActivity], in_scope: object, win: Windows) -> None:
    """Active links older than N days with no response in the last N days."""
    last_of = dict(db.session.execute(
        select(Response.link_id, func.max(Response.submitted_at))
        .join(PointLink, Response.link_id == PointLink.id)
        .where(PointLink.service_point_id.in_(in_scope), PointLink.revoked_at.is_(None),
               Response.submitted_at >= win.earliest)
        .group_by(Response.link_id)).all())
    links = db.session.execute(
        select(PointLink.id, PointLink.service_point_id, PointLink.kind, PointLink.created_at)
        .where(PointLink.service_point_id.in_(in_scope), PointLink.revoked_at.is_(None))
        .order_by(PointLink.id))
    for link_id, pid, kind, created in links:
        last = _utc(last_of.get(link_id))
        if _utc(created) <= win.silent and (last is None or last < win.silent):  # type: ignore[operator]
            rows[pid].silent_links.append(SilentLink(link_id, kind, last))


def _tokens(rows: dict[int, PointActivity], in_scope: object, win: Windows) -> None:
    query = (select(DossierToken.service_point_id, func.count(),
                    func.count(DossierToken.used_at))
             .where(DossierToken.service_point_id.in_(in_scope), DossierToken.selected,
                    DossierToken.issued_at >= win.recent)
             .group_by(DossierToken.service_point_id))
    for pid, issued, answered in db.session.execute(query):
        rows[pid].tokens_issued, rows[pid].tokens_answered = int(issued), int(answered)

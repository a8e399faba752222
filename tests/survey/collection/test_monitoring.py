"""Collection monitoring: per service point counts by local day / week / month, last
response, silent links, flagged share, tokens; scope; a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from survey.collection.models import DossierToken, PointLink, Response
from survey.collection.services import monitoring
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.models import User
from survey.org.services import units

# Wednesday 18 November 2026, 09:00 in Hà Nội time (UTC+7).
NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def world(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Xã Thử", parent=province, kind="commune")
    school = make_unit("Trường Thử", parent=commune, kind="school", sector="education")
    other = make_unit("Xã Khác", parent=province, kind="commune")
    desk = units.create_point(commune, "Một cửa")
    room = units.create_point(school, "Văn phòng")
    far = units.create_point(other, "Một cửa")
    old = dict(created_at=NOW - 60 * DAY)
    links = {"desk": PointLink(service_point_id=desk.id, token="a" * 32, **old),
             "kiosk": PointLink(service_point_id=desk.id, token="b" * 32, kind="kiosk", **old),
             "room": PointLink(service_point_id=room.id, token="c" * 32, **old),
             "new": PointLink(service_point_id=room.id, token="d" * 32,
                              created_at=NOW - DAY),
             "revoked": PointLink(service_point_id=room.id, token="e" * 32,
                                  revoked_at=NOW - 10 * DAY, **old),
             "far": PointLink(service_point_id=far.id, token="f" * 32, **old)}
    db.session.add_all(links.values())
    db.session.commit()
    make_user("xa", "unit_manager", commune)
    make_user("khac", "unit_manager", other)
    make_user("nhaplieu", "clerk", province)
    login("xa")
    return {"commune": commune, "school": school, "other": other, "desk": desk.id,
            "room": room.id, "far": far.id, "links": {k: v.id for k, v in links.items()}}


def respond(db: Any, unit: Any, point: int, link: int | None, when: dt.datetime,
            flags: str = "", n: int = 1) -> None:
    db.session.add_all(Response(
        questionnaire_key="desk_rating", questionnaire_version=1, channel="desk_qr",
        unit_id=unit.id, service_point_id=point, link_id=link, submitted_at=when, flags=flags,
        review_status="flagged" if flags else "ok", client_submission_id=uuid.uuid4().hex)
        for _ in range(n))
    db.session.commit()


@pytest.fixture
def activity(db: Any, world: dict[str, Any]) -> dict[str, Any]:
    c, desk, room, ln = world["commune"], world["desk"], world["room"], world["links"]
    respond(db, c, desk, ln["desk"], NOW - dt.timedelta(hours=1), n=2)       # today
    respond(db, c, desk, ln["desk"], NOW - dt.timedelta(hours=8))            # today; UTC: the 17th
    respond(db, c, desk, ln["desk"], NOW - dt.timedelta(hours=10))           # yesterday (local)
    respond(db, c, desk, ln["desk"], NOW - 2 * DAY, flags="burst")           # Monday
    respond(db, c, desk, ln["desk"], NOW - 5 * DAY)                          # last week, November
    respond(db, c, desk, ln["kiosk"], NOW - 20 * DAY)                        # October 29
    respond(db, world["school"], room, ln["room"], NOW - 40 * DAY)           # long ago
    respond(db, world["other"], world["far"], ln["far"], NOW - dt.timedelta(hours=2), n=4)
    db.session.add_all([
        DossierToken(unit_id=c.id, service_point_id=desk, dossier_hash=f"h{i}",
                     token_hash=f"t{i}", issued_at=NOW - 3 * DAY,
                     used_at=NOW - DAY if i < 2 else None) for i in range(5)] + [
        DossierToken(unit_id=c.id, service_point_id=desk, dossier_hash="x", selected=False,
                     issued_at=NOW - 3 * DAY),
        DossierToken(unit_id=c.id, service_point_id=desk, dossier_hash="y", token_hash="ty",
                     issued_at=NOW - 45 * DAY)])
    db.session.commit()
    return world


def scope_of(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def test_counts_per_point(db: Any, activity: dict[str, Any]) -> None:
    data = monitoring.monitoring(scope_of(db, "xa"), None, now=NOW)
    by_id = {p.point_id: p for p in data.points}
    assert set(by_id) == {activity["desk"], activity["room"]}  # not the other commune's
    desk, room = by_id[activity["desk"]], by_id[activity["room"]]
    # local days: 01:00 today counts today though it is the 17th in UTC; the week
    # began on Monday the 16th; the 13th is last week but this month
    assert (desk.today, desk.week, desk.month) == (3, 5, 6)
    assert desk.last_response == NOW - dt.timedelta(hours=1)
    assert (desk.recent, desk.flagged) == (7, 1) and desk.flagged_share == pytest.approx(1 / 7)
    assert (desk.tokens_issued, desk.tokens_answered) == (5, 2)  # selected, last 30 days
    assert (room.today, room.week, room.month, room.recent) == (0, 0, 0, 0)
    assert room.last_response == NOW - 40 * DAY  # found outside the window
    assert room.flagged_share is None and room.answer_rate is None
    # silent: the kiosk (20 days) and the room's old link; not the new or revoked one
    assert [s.link_id for s in desk.silent_links] == [activity["links"]["kiosk"]]
    assert [s.link_id for s in room.silent_links] == [activity["links"]["room"]]
    assert data.silent_points == 2 and data.total("today") == 3
    # with N = 30 the kiosk (20 days) is no longer silent; with N = 1 the desk's link is
    quiet = monitoring.monitoring(scope_of(db, "xa"), None, now=NOW, silent_days=30)
    assert [p.silent_links for p in quiet.points if p.point_id == activity["desk"]] == [[]]
    assert {s.link_id for p in monitoring.monitoring(scope_of(db, "xa"), None, now=NOW,
                                                       silent_days=1).points
            for s in p.silent_links} >= {activity["links"]["kiosk"]}
    school = monitoring.monitoring(scope_of(db, "xa"), activity["school"], now=NOW)
    assert [p.point_id for p in school.points] == [activity["room"]]


@pytest.mark.parametrize("text", ["0", "91", "-1", "ba", "2.5"])
def test_bad_silent_days_are_refused(app: Any, text: str) -> None:
    with pytest.raises(ServiceError) as err:
        monitoring.parse_silent_days(text)
    assert err.value.field == "silent"
    assert monitoring.parse_silent_days("") == 3 and monitoring.parse_silent_days(" 7 ") == 7


def test_page_scope_and_messages(client: Any, login: Any, activity: dict[str, Any],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.collection.views import monitoring as view

    monkeypatch.setattr(view, "utcnow", lambda: NOW)
    html = client.get("/staff/collect/monitoring").get_data(as_text=True)
    assert "Văn phòng" in html and 'class="alert"' in html and "im lặng" in html
    assert "5 / 2 (40.0 %)" in html and "1 / 7" in html
    assert client.get(f"/staff/collect/monitoring?unit={activity['other'].id}").status_code == 404
    html = client.get("/staff/collect/monitoring?silent=abc").get_data(as_text=True)
    assert "Số ngày không có phiếu phải là số nguyên từ 1 đến 90." in html
    client.post("/logout")
    login("khac")
    html = client.get("/staff/collect/monitoring").get_data(as_text=True)
    assert "Xã Khác" in html and "Văn phòng" not in html
    client.post("/logout")
    login("nhaplieu")
    assert client.get("/staff/collect/monitoring").status_code == 403


@contextmanager
def counting(db: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_a_bounded_number_of_queries_whatever_the_responses(db: Any,
                                                           activity: dict[str, Any]) -> None:
    scope = scope_of(db, "xa")
    with counting(db) as few:
        small = monitoring.monitoring(scope, None, now=NOW)
    respond(db, activity["commune"], activity["desk"], activity["links"]["desk"],
            NOW - dt.timedelta(hours=4), n=200)
    respond(db, activity["school"], activity["room"], None, NOW - DAY, n=50)
    with counting(db) as many:
        big = monitoring.monitoring(scope, None, now=NOW)
    assert len(many) == len(few) <= 6
    assert big.total("week") == small.total("week") + 250
    assert not any("FROM response" in s and "GROUP BY" not in s for s in many)

"""Opening hours belong to desk-type service points: written like a posted sign, edited
on the point form, refused for hospital and school points and when unreadable."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.models import AuditLog, ServicePoint
from survey.org import hours


def test_parse_and_format() -> None:
    parsed = hours.parse("t2-t6 7:00-17:30, T7 07:30 - 11:30")
    assert parsed[1] == (dt.time(7), dt.time(17, 30)) and 7 not in parsed
    assert parsed[6] == (dt.time(7, 30), dt.time(11, 30))
    assert hours.format_hours(parsed) == "T2-T6 07:00-17:30; T7 07:30-11:30"
    assert hours.format_hours(hours.parse("T2 08:00-12:00; T4 08:00-12:00; CN 08:00-10:00")) \
        == "T2 08:00-12:00; T4 08:00-12:00; CN 08:00-10:00"
    assert hours.parse("") == {}


@pytest.mark.parametrize("bad", ["T2-T6", "T8 07:00-17:00", "T2-T6 25:00-26:00",
                                 "T2-T6 17:00-07:00", "T6-T2 07:00-17:00",
                                 "T2-T6 07:00-17:00; T5 08:00-09:00", "thứ hai 7-17"])
def test_unreadable_hours(bad: str) -> None:
    with pytest.raises(ValueError):
        hours.parse(bad)


@pytest.fixture
def tree(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Xã Hòa Bình", parent=province, kind="commune")
    hospital = make_unit("Bệnh viện", parent=province, kind="hospital", sector="health")
    make_user("quantri", "administrator", province)
    login("quantri")
    return {"commune": commune, "hospital": hospital}


def point_of(db: Any, name: str) -> ServicePoint:
    db.session.expire_all()
    found: ServicePoint = db.session.scalar(select(ServicePoint).where(ServicePoint.name == name))
    return found


def test_a_desk_gets_the_usual_hours_and_can_change_them(client: Any, db: Any,
                                                         tree: dict[str, Any]) -> None:
    commune = tree["commune"]
    form = client.get(f"/staff/units/{commune.id}/points/new").get_data(as_text=True)
    assert "Giờ mở cửa" in form and hours.DESK_DEFAULT in form
    assert client.post(f"/staff/units/{commune.id}/points/new", data={
        "name": "Một cửa", "active": "y", "opening_hours": hours.DESK_DEFAULT}).status_code == 302
    point = point_of(db, "Một cửa")
    assert point.opening_hours == hours.DESK_DEFAULT
    assert client.post(f"/staff/points/{point.id}/edit", data={
        "name": "Một cửa", "active": "y", "opening_hours": "t2-t7 7:30-11:30"}).status_code == 302
    assert point_of(db, "Một cửa").opening_hours == "T2-T7 07:30-11:30"
    assert client.post(f"/staff/points/{point.id}/edit", data={
        "name": "Một cửa", "active": "y", "opening_hours": ""}).status_code == 302
    assert point_of(db, "Một cửa").opening_hours is None


def test_unreadable_hours_are_refused_and_nothing_is_written(client: Any, db: Any,
                                                             tree: dict[str, Any]) -> None:
    commune = tree["commune"]
    client.post(f"/staff/units/{commune.id}/points/new", data={
        "name": "Một cửa", "active": "y", "opening_hours": hours.DESK_DEFAULT})
    point = point_of(db, "Một cửa")
    audit = db.session.scalar(select(func.count()).select_from(AuditLog))
    page = client.post(f"/staff/points/{point.id}/edit", data={
        "name": "Đổi tên", "active": "y", "opening_hours": "T2-T6 25:00-26:00"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Không đọc được “T2-T6 25:00-26:00”." in html
    assert point_of(db, "Một cửa").opening_hours == hours.DESK_DEFAULT
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audit


def test_hospital_points_have_no_hours(client: Any, db: Any, tree: dict[str, Any]) -> None:
    hospital = tree["hospital"]
    form = client.get(f"/staff/units/{hospital.id}/points/new").get_data(as_text=True)
    assert 'name="opening_hours"' not in form
    assert "không có giờ mở cửa" in form
    page = client.post(f"/staff/units/{hospital.id}/points/new", data={
        "name": "Khoa Nội", "active": "y", "opening_hours": hours.DESK_DEFAULT})
    assert "Điểm phục vụ của bệnh viện và trường học không có giờ mở cửa" in page.get_data(
        as_text=True)
    assert point_of(db, "Khoa Nội") is None
    assert client.post(f"/staff/units/{hospital.id}/points/new", data={
        "name": "Khoa Nội", "active": "y"}).status_code == 302
    assert point_of(db, "Khoa Nội").opening_hours is None

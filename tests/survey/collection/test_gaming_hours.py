"""The "outside opening hours" flag uses the hours of the response's service point: desk
points have them, hospital and school points have none and are never flagged for the
time of day."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from survey.collection.services import gaming
from survey.models import Response
from survey.org.services import units

TZ = "Asia/Ho_Chi_Minh"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local time in the week of Monday 30 November 2026 (day 0 = Monday), as UTC."""
    local = dt.datetime(2026, 11, 30, hour, minute, tzinfo=ZoneInfo(TZ)) + dt.timedelta(days=day)
    return local.astimezone(dt.UTC)


@pytest.fixture
def points(db: Any, make_unit: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Xã Hòa Bình", parent=province, kind="commune")
    hospital = make_unit("Bệnh viện", parent=province, kind="hospital", sector="health")
    school = make_unit("Trường", parent=province, kind="school", sector="education")
    return {
        "desk": units.create_point(commune, "Một cửa",
                                   opening_hours="T2-T6 07:00-17:30; T7 07:30-11:30"),
        "desk_without_hours": units.create_point(commune, "Quầy phụ"),
        "hospital": units.create_point(hospital, "Khoa Nội"),
        "school": units.create_point(school, "Phòng tiếp phụ huynh"),
    }


def flags(point: Any, when: dt.datetime, channel: str = "desk_qr") -> list[str]:
    response = Response(channel=channel, unit_id=point.unit_id, service_point_id=point.id,
                        submitted_at=when, answers_hash="h", questionnaire_key="desk_rating",
                        questionnaire_version=1, client_submission_id="x")
    return gaming.flags_for(response, {}, TZ).flags


@pytest.mark.parametrize(("when", "outside"), [
    (at(0, 10), False),       # Monday morning
    (at(0, 7, 0), False),     # opening
    (at(0, 6, 30), True),     # before opening
    (at(0, 19, 0), False),    # within the grace after 17:30
    (at(0, 21, 0), True),     # evening
    (at(5, 11, 0), False),    # Saturday morning
    (at(5, 15, 0), True),     # Saturday afternoon, past the grace
    (at(6, 10, 0), True),     # Sunday: closed
])
def test_a_desk_is_flagged_outside_its_hours(points: dict[str, Any], when: dt.datetime,
                                             outside: bool) -> None:
    assert ("off_hours" in flags(points["desk"], when)) is outside
    assert ("off_hours" in flags(points["desk"], when, "kiosk")) is outside


@pytest.mark.parametrize("name", ["hospital", "school", "desk_without_hours"])
def test_points_without_hours_are_never_flagged_for_the_time(points: dict[str, Any],
                                                             name: str) -> None:
    for when in (at(0, 21), at(6, 3), at(2, 23, 59)):
        assert "off_hours" not in flags(points[name], when)


def test_other_channels_are_not_flagged(points: dict[str, Any]) -> None:
    assert "off_hours" not in flags(points["desk"], at(0, 21), "token")

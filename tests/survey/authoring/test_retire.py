"""Retiring or deleting a questionnaire version asks first, on a page (no JavaScript)
naming what will stop working; `questionnaires sync` never undoes a staff decision."""

from __future__ import annotations

from typing import Any

import pytest

from survey.authoring.services import drafts
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.org.services import units
from tests.survey.authoring.helpers import BASE, row_of, snapshot


@pytest.fixture
def staff(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    province = make_unit("Tỉnh Thử", code="99")
    hospital = make_unit("Bệnh viện", parent=province, kind="hospital", sector="health")
    points = [units.create_point(hospital, f"Khoa {n}") for n in range(4)]
    for point in points:
        point.questionnaire_key = "health_outpatient"
        links.create_link(point)
    links.create_link(points[0], "kiosk")
    links.revoke_link(links.create_link(points[1], "kiosk"))  # revoked: not counted
    units.update_point(points[3], points[3].name, None, False)  # inactive: not counted
    db.session.commit()
    make_user("quantri", "administrator", province)
    login("quantri")
    return {"points": points}


def test_retire_asks_first_and_names_the_qr_codes_that_stop(
        client: Any, db: Any, staff: dict[str, Any]) -> None:
    row = row_of(db, "health_outpatient", 1)
    structure = client.get(f"{BASE}/{row.id}").get_data(as_text=True)
    assert f'href="{BASE}/{row.id}/retire"' in structure  # a link to the page, not a POST
    before = snapshot(db)
    page = client.get(f"{BASE}/{row.id}/retire")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Thôi dùng health_outpatient v1?" in html
    assert "4 mã QR và liên kết kiosk tại 3 điểm phục vụ đang mở bộ câu hỏi này." in html
    assert "Chúng sẽ ngừng hoạt động" in html
    assert f'action="{BASE}/{row.id}/retire"' in html and "<script" not in html
    assert snapshot(db) == before  # asking changes nothing
    assert client.post(f"{BASE}/{row.id}/retire").status_code == 302
    assert row_of(db, "health_outpatient", 1).status == "retired"


def test_retire_page_names_the_version_that_takes_over(client: Any, db: Any,
                                                       staff: dict[str, Any]) -> None:
    source = row_of(db, "health_outpatient", 1)
    client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
    client.post(f"{BASE}/{row_of(db, 'health_outpatient', 2).id}/publish")
    newer = row_of(db, "health_outpatient", 2)
    assert newer.status == "published"
    html = client.get(f"{BASE}/{newer.id}/retire").get_data(as_text=True)
    assert "Chúng sẽ mở health_outpatient v1 thay thế." in html
    older = client.get(f"{BASE}/{source.id}/retire").get_data(as_text=True)
    assert "Đang dùng một phiên bản mới hơn đã công bố; không mã QR nào thay đổi." in older


def test_delete_draft_asks_first(client: Any, db: Any, staff: dict[str, Any]) -> None:
    source = row_of(db, "desk_rating", 1)
    client.post(f"{BASE}/{source.id}/clone", data={"new_key": ""})
    draft = row_of(db, "desk_rating", 2)
    html = client.get(f"{BASE}/{draft.id}/delete").get_data(as_text=True)
    assert "Xoá bản nháp desk_rating v2?" in html
    assert row_of(db, "desk_rating", 2) is not None
    assert client.post(f"{BASE}/{draft.id}/delete").status_code == 302
    assert row_of(db, "desk_rating", 2) is None


def test_sync_never_brings_back_a_version_staff_retired(db: Any, runner: Any,
                                                        staff: dict[str, Any]) -> None:
    drafts.retire(row_of(db, "health_outpatient", 1))
    report = questionnaire_versions.sync()
    assert "health_outpatient v1" in report.kept
    assert "health_outpatient v1" not in report.updated
    assert row_of(db, "health_outpatient", 1).status == "retired"
    result = runner.invoke(args=["questionnaires", "sync"])
    assert result.exit_code == 0, result.output
    assert "health_outpatient v1: retired by staff, stays retired" in result.output
    assert row_of(db, "health_outpatient", 1).status == "retired"

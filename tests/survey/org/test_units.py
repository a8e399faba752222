"""Units and service points through the staff UI: happy paths, bad input, audit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from survey.models import AuditLog, ServicePoint, Unit


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin_tree(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    dept = make_unit("Sở Nội vụ", parent=province)
    make_user("quantri", "administrator", province)
    login("quantri")
    return {"province": province, "dept": dept}


def test_create_unit_through_the_form(client: Any, db: Any, admin_tree: dict[str, Any]) -> None:
    province = admin_tree["province"]
    response = client.post("/staff/units/new", data={
        "name": "Xã Hòa Bình", "kind": "commune", "sector": "administrative", "code": "99001",
        "parent_id": province.id, "valid_from": "2025-07-01"})
    assert response.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.code == "99001"))
    assert unit.name == "Xã Hòa Bình" and unit.parent_id == province.id
    assert unit.path == f"{province.path}{unit.id}/"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Xã Hòa Bình" in page and "Đã tạo đơn vị" in page
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "unit",
                                                      AuditLog.action == "create")).all()
    assert any(a.after["name"] == "Xã Hòa Bình" and a.actor_label == "quantri"
               and a.entity_id == str(unit.id) for a in audit)


BAD_UNITS = [
    ({"name": "", "kind": "commune", "sector": "administrative"}, "Mục này bắt buộc."),
    ({"name": "X", "kind": "spaceship", "sector": "administrative"}, "Lựa chọn không hợp lệ."),
    ({"name": "X", "kind": "commune", "sector": "military"}, "Lựa chọn không hợp lệ."),
    ({"name": "X", "kind": "commune", "sector": "administrative", "code": "99"},
     "Mã 99 đã được dùng cho Tỉnh Thử."),
    ({"name": "X", "kind": "commune", "sector": "administrative", "valid_from": "2025-07-01",
      "valid_to": "2024-01-01"}, "Ngày hết hiệu lực không được trước ngày bắt đầu hiệu lực."),
    ({"name": "X", "kind": "commune", "sector": "administrative", "valid_from": "1/7/2025"},
     "Ngày không hợp lệ"),
    ({"name": "X" * 300, "kind": "commune", "sector": "administrative"},
     "Không được dài quá 255 ký tự."),
]


@pytest.mark.parametrize(("values", "message"), BAD_UNITS)
def test_bad_unit_input_is_refused_and_writes_nothing(
    client: Any, db: Any, admin_tree: dict[str, Any], values: dict[str, str], message: str
) -> None:
    before_units, before_audit = count(db, Unit), count(db, AuditLog)
    data = {"parent_id": admin_tree["province"].id, **values}
    response = client.post("/staff/units/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(db, Unit) == before_units and count(db, AuditLog) == before_audit


def test_parent_outside_scope_is_refused(client: Any, db: Any, make_unit: Any,
                                         make_user: Any, login: Any) -> None:
    mine = make_unit("Tỉnh A", code="01")
    other = make_unit("Tỉnh B", code="02")
    make_user("a", "unit_manager", mine)
    login("a")
    response = client.post("/staff/units/new", data={
        "name": "Lạc", "kind": "commune", "sector": "administrative", "parent_id": other.id})
    assert response.status_code == 200
    assert "Lựa chọn không hợp lệ." in response.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.name == "Lạc")) is None


def test_edit_and_move_unit_moves_its_subtree(client: Any, db: Any, make_unit: Any,
                                              admin_tree: dict[str, Any]) -> None:
    province, dept = admin_tree["province"], admin_tree["dept"]
    other = make_unit("Sở Tư pháp", parent=province)
    child = make_unit("Phòng Hộ tịch", parent=dept, kind="other")
    response = client.post(f"/staff/units/{dept.id}/edit", data={
        "name": "Sở Nội vụ (mới)", "kind": "department", "sector": "administrative",
        "parent_id": other.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert dept.name == "Sở Nội vụ (mới)" and dept.parent_id == other.id
    assert dept.path == f"{other.path}{dept.id}/"
    assert child.path == f"{dept.path}{child.id}/"
    update = db.session.scalars(select(AuditLog).where(AuditLog.action == "update")).all()
    assert any(a.before.get("name") == "Sở Nội vụ" and a.after.get("name") == "Sở Nội vụ (mới)"
               for a in update)


def test_cannot_move_a_unit_under_itself(client: Any, db: Any, make_unit: Any,
                                         admin_tree: dict[str, Any]) -> None:
    dept = admin_tree["dept"]
    child = make_unit("Phòng", parent=dept, kind="other")
    response = client.post(f"/staff/units/{dept.id}/edit", data={
        "name": "Đổi tên", "kind": "department", "sector": "administrative",
        "parent_id": child.id})
    assert "Không thể chuyển một đơn vị vào bên trong chính nó." in response.get_data(as_text=True)
    db.session.expire_all()
    assert dept.name == "Sở Nội vụ" and dept.parent_id == admin_tree["province"].id


def test_delete_unit_only_when_unused(client: Any, db: Any, admin_tree: dict[str, Any]) -> None:
    province_id, dept_id = admin_tree["province"].id, admin_tree["dept"].id
    response = client.post(f"/staff/units/{province_id}/delete", follow_redirects=True)
    assert "không xóa được" in response.get_data(as_text=True)
    assert client.post(f"/staff/units/{dept_id}/delete").status_code == 302
    remaining = set(db.session.scalars(select(Unit.id)))
    assert province_id in remaining and dept_id not in remaining
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "delete")) is not None


def test_service_points_create_edit_delete(client: Any, db: Any,
                                           admin_tree: dict[str, Any]) -> None:
    dept = admin_tree["dept"]
    assert client.post(f"/staff/units/{dept.id}/points/new",
                       data={"name": "Quầy số 1", "active": "y"}).status_code == 302
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.unit_id == dept.id))
    # duplicate name: refused, nothing written
    response = client.post(f"/staff/units/{dept.id}/points/new", data={"name": "Quầy số 1"})
    assert "Đơn vị đã có điểm phục vụ trùng tên." in response.get_data(as_text=True)
    assert count(db, ServicePoint) == 1
    response = client.post(f"/staff/units/{dept.id}/points/new", data={"name": "  "})
    assert "Mục này bắt buộc." in response.get_data(as_text=True)
    assert client.post(f"/staff/points/{point.id}/edit",
                       data={"name": "Quầy số 2"}).status_code == 302
    db.session.expire_all()
    assert point.name == "Quầy số 2" and point.active is False
    assert client.post(f"/staff/points/{point.id}/delete").status_code == 302
    assert count(db, ServicePoint) == 0


def test_english_switch(client: Any, admin_tree: dict[str, Any]) -> None:
    assert "Đơn vị" in client.get("/staff/units").get_data(as_text=True)
    client.get("/lang/en")
    html = client.get("/staff/units").get_data(as_text=True)
    assert "<h1>Units</h1>" in html and 'lang="en"' in html


def test_deleting_a_row_with_a_deferred_column_is_audited(db: Any) -> None:
    from survey.models import QuestionnaireVersion
    from survey.org.services.audit import acting_as

    db.session.add(QuestionnaireVersion(key="thu", version=1, definition={"a": 1}, hash="h"))
    db.session.commit()
    db.session.expunge_all()
    row = db.session.scalar(select(QuestionnaireVersion))  # definition not loaded
    with acting_as(None, "test"):
        db.session.delete(row)
        db.session.commit()
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "delete"))
    assert audit.entity == "questionnaire_version" and audit.before["definition"] == {"a": 1}


def test_successor_after_a_reform(client: Any, db: Any, make_unit: Any,
                                  admin_tree: dict[str, Any]) -> None:
    province, dept = admin_tree["province"], admin_tree["dept"]
    merged = make_unit("Sở Nội vụ (sau sáp nhập)", parent=province)
    data = {"name": "Sở Nội vụ", "kind": "department", "sector": "administrative",
            "parent_id": province.id, "valid_to": "2025-06-30", "valid_from": "2020-01-01"}
    page = client.get(f"/staff/units/{dept.id}/edit").get_data(as_text=True)
    assert "Không có đơn vị kế thừa" in page
    itself = client.post(f"/staff/units/{dept.id}/edit", data={**data, "successor_id": dept.id})
    assert "Lựa chọn không hợp lệ." in itself.get_data(as_text=True)
    assert client.post(f"/staff/units/{dept.id}/edit",
                       data={**data, "successor_id": merged.id}).status_code == 302
    db.session.expire_all()
    assert dept.successor_id == merged.id
    detail = client.get(f"/staff/units/{dept.id}").get_data(as_text=True)
    assert "Đơn vị kế thừa" in detail and "Sở Nội vụ (sau sáp nhập)" in detail
    assert client.post(f"/staff/units/{dept.id}/edit",
                       data={**data, "successor_id": 0}).status_code == 302
    db.session.expire_all()
    assert dept.successor_id is None
    assert "successor_id" not in client.get("/staff/units/new").get_data(as_text=True)


def test_a_unit_cannot_succeed_itself_in_the_service(db: Any, make_unit: Any) -> None:
    from survey.common.errors import ServiceError
    from survey.org.services import units as unit_service

    unit = make_unit("Tỉnh", code="98")
    with pytest.raises(ServiceError, match="không thể kế thừa"):
        unit_service.update_unit(unit, {"name": "Tỉnh", "kind": "province",
                                        "sector": "administrative", "code": "98"}, None, unit)
    db.session.rollback()
    assert db.session.get(Unit, unit.id).successor_id is None

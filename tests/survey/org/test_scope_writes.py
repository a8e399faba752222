"""Every unit and service-point write checks the editor's scope on the object before and
after the change: nobody moves a unit out of their scope, changes the sector of the unit
their role starts at, or creates a unit they could not see. Refused in Vietnamese, with
nothing written (no row, no audit entry)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.models import AuditLog, ServicePoint, Unit
from survey.org.services import units as unit_service

REFUSAL = "Thay đổi này sẽ đưa đơn vị ra ngoài phạm vi của bạn; chưa có gì được lưu."


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def tree(db: Any, make_unit: Any, make_user: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    ward = make_unit("Phường Tân Ninh", parent=province, kind="commune")
    other_ward = make_unit("Phường Hòa Thành", parent=province, kind="commune")
    hospital = make_unit("Bệnh viện Đa khoa", parent=province, kind="hospital",
                         sector="health")
    clinic = make_unit("Khoa Nội", parent=hospital, kind="other", sector="health")
    school = make_unit("Trường Tiểu học Tân Ninh", parent=ward, kind="school",
                       sector="education")
    annex = make_unit("Điểm trường phụ", parent=ward, kind="other", sector="education")
    users = {
        "admin": make_user("quantri", "administrator", province),
        "soyte": make_user("soyte", "sector_manager", province, "health"),
        "benhvien": make_user("benhvien", "unit_manager", hospital),
        "xa": make_user("xa", "unit_manager", ward),
    }
    return {"province": province, "ward": ward, "other_ward": other_ward,
            "hospital": hospital, "clinic": clinic, "school": school, "annex": annex,
            "users": users}


def scope_of(tree: dict[str, Any], name: str) -> Scope:
    return Scope.for_user(tree["users"][name])


def values_of(unit: Unit, **changes: Any) -> dict[str, Any]:
    values = {k: getattr(unit, k) for k in unit_service.UNIT_FIELDS}
    return {**values, **changes}


def refused(db: Any, call: Any) -> None:
    """``call`` is refused with the scope message and writes nothing."""
    units, points, audit = count(db, Unit), count(db, ServicePoint), count(db, AuditLog)
    with pytest.raises(ServiceError) as err:
        call()
    assert err.value.message == REFUSAL
    db.session.expire_all()
    assert (count(db, Unit), count(db, ServicePoint), count(db, AuditLog)) == (
        units, points, audit)


def test_a_hospital_manager_cannot_move_his_hospital_to_another_sector(
        db: Any, tree: dict[str, Any]) -> None:
    hospital = tree["hospital"]
    refused(db, lambda: unit_service.update_unit(
        hospital, values_of(hospital, sector="education"), scope=scope_of(tree, "benhvien")))
    assert db.session.get(Unit, hospital.id).sector == "health"
    # his own unit's name is his to edit
    unit_service.update_unit(hospital, values_of(hospital, name="Bệnh viện Đa khoa tỉnh"),
                             scope=scope_of(tree, "benhvien"))
    assert db.session.get(Unit, hospital.id).name == "Bệnh viện Đa khoa tỉnh"


def test_a_sector_manager_cannot_move_a_hospital_out_of_his_sector(
        db: Any, tree: dict[str, Any]) -> None:
    hospital = tree["hospital"]
    refused(db, lambda: unit_service.update_unit(
        hospital, values_of(hospital, sector="education"), scope=scope_of(tree, "soyte")))
    assert db.session.get(Unit, hospital.id).sector == "health"


def test_a_unit_manager_cannot_move_the_root_of_his_role(db: Any, tree: dict[str, Any]) -> None:
    hospital, clinic = tree["hospital"], tree["clinic"]
    refused(db, lambda: unit_service.update_unit(
        hospital, values_of(hospital), tree["ward"], scope=scope_of(tree, "benhvien")))
    assert db.session.get(Unit, hospital.id).parent_id == tree["province"].id
    assert db.session.get(Unit, clinic.id).path == f"{hospital.path}{clinic.id}/"


def test_nobody_moves_a_unit_out_of_their_subtree(db: Any, tree: dict[str, Any]) -> None:
    school, ward = tree["school"], tree["ward"]
    for target in (tree["province"], tree["other_ward"]):
        refused(db, lambda target=target: unit_service.update_unit(
            school, values_of(school), target, scope=scope_of(tree, "xa")))
        moved = db.session.get(Unit, school.id)
        assert moved.parent_id == ward.id and moved.path == f"{ward.path}{school.id}/"
    # inside his subtree a move is his to make
    unit_service.update_unit(school, values_of(school), tree["annex"], scope=scope_of(tree, "xa"))
    db.session.expire_all()
    assert school.parent_id == tree["annex"].id


def test_a_sector_manager_cannot_create_a_unit_outside_his_scope(
        db: Any, tree: dict[str, Any]) -> None:
    new = {"name": "Trung tâm Lạc", "kind": "other", "sector": "administrative"}
    refused(db, lambda: unit_service.create_unit(tree["hospital"], new,
                                                 scope=scope_of(tree, "soyte")))
    refused(db, lambda: unit_service.create_unit(tree["ward"], new,
                                                 scope=scope_of(tree, "soyte")))
    assert db.session.scalar(select(Unit).where(Unit.name == "Trung tâm Lạc")) is None
    made = unit_service.create_unit(tree["hospital"], {**new, "sector": "health"},
                                    scope=scope_of(tree, "soyte"))
    assert made.path.startswith(tree["hospital"].path)


def test_service_points_only_inside_the_scope(db: Any, tree: dict[str, Any]) -> None:
    refused(db, lambda: unit_service.create_point(tree["school"], "Phòng tiếp phụ huynh",
                                                  scope=scope_of(tree, "benhvien")))
    point = unit_service.create_point(tree["school"], "Phòng tiếp phụ huynh")
    refused(db, lambda: unit_service.update_point(point, "Phòng khác", None, True,
                                                  scope=scope_of(tree, "soyte")))
    refused(db, lambda: unit_service.delete_point(point, scope=scope_of(tree, "benhvien")))
    assert db.session.get(ServicePoint, point.id).name == "Phòng tiếp phụ huynh"
    unit_service.update_point(point, "Phòng khác", None, True, scope=scope_of(tree, "xa"))
    assert db.session.get(ServicePoint, point.id).name == "Phòng khác"


def test_the_edit_page_refuses_a_sector_change_in_vietnamese(
        client: Any, db: Any, tree: dict[str, Any], login: Any) -> None:
    hospital = tree["hospital"]
    login("benhvien")
    audit = count(db, AuditLog)
    response = client.post(f"/staff/units/{hospital.id}/edit", data={
        "name": hospital.name, "kind": "hospital", "sector": "education"})
    assert response.status_code == 200
    assert REFUSAL in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Unit, hospital.id).sector == "health"
    assert count(db, AuditLog) == audit


def test_the_create_page_refuses_a_unit_the_sector_manager_could_not_see(
        client: Any, db: Any, tree: dict[str, Any], login: Any) -> None:
    login("soyte")
    units = count(db, Unit)
    response = client.post("/staff/units/new", data={
        "name": "Trường Lạc", "kind": "school", "sector": "education",
        "parent_id": tree["hospital"].id})
    assert response.status_code == 200 and REFUSAL in response.get_data(as_text=True)
    assert count(db, Unit) == units


def test_deleting_a_unit_or_a_point_asks_first(client: Any, db: Any, tree: dict[str, Any],
                                               login: Any) -> None:
    annex = tree["annex"]
    point = unit_service.create_point(annex, "Phòng tiếp dân")
    annex_id = annex.id
    login("quantri")
    detail = client.get(f"/staff/units/{annex.id}").get_data(as_text=True)
    assert f'href="/staff/units/{annex.id}/delete"' in detail
    page = client.get(f"/staff/units/{annex.id}/delete").get_data(as_text=True)
    assert "Xóa Điểm trường phụ?" in page and "đặt ngày hết hiệu lực" in page
    edit = client.get(f"/staff/points/{point.id}/edit").get_data(as_text=True)
    assert f'href="/staff/points/{point.id}/delete"' in edit
    page = client.get(f"/staff/points/{point.id}/delete").get_data(as_text=True)
    assert "Xóa Phòng tiếp dân?" in page and "mọi mã QR" in page
    db.session.expire_all()
    assert db.session.get(ServicePoint, point.id) is not None  # asking deletes nothing
    assert client.post(f"/staff/points/{point.id}/delete").status_code == 302
    assert client.post(f"/staff/units/{annex_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, annex_id) is None

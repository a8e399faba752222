"""Accounts and roles through the staff UI and the CLI."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from survey.models import AuditLog, RoleAssignment, User


def n_users(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def tree(db: Any, make_unit: Any, make_user: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    health = make_unit("Sở Y tế", parent=province, sector="health")
    hospital = make_unit("Bệnh viện A", parent=health, kind="hospital", sector="health")
    admin = make_user("quantri", "administrator", province)
    return {"province": province, "health": health, "hospital": hospital, "admin": admin}


GOOD = {"username": "bacsi.an", "full_name": "Nguyễn An", "password": "mat-khau-789",
        "confirm": "mat-khau-789", "role": "unit_manager", "sector": ""}


def test_create_account_with_role(client: Any, db: Any, tree: dict[str, Any],
                                  login: Any) -> None:
    login("quantri")
    response = client.post("/staff/users/new", data={**GOOD, "unit_id": tree["hospital"].id})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "bacsi.an"))
    assert user.check_password("mat-khau-789") and "mat-khau" not in user.password_hash
    assert [(a.role, a.unit_id) for a in user.roles] == [("unit_manager", tree["hospital"].id)]
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "user_account")).all()
    assert audit and all("password_hash" not in (a.after or {}) for a in audit)


BAD = [
    ({"username": "Bác sĩ"}, "chữ thường không dấu"),
    ({"username": "quantri"}, "Tên đăng nhập quantri đã có người dùng."),
    ({"password": "short1", "confirm": "short1"}, "ít nhất 10 ký tự"),
    ({"password": "abcdefghijkl", "confirm": "abcdefghijkl"}, "gồm cả chữ và số"),
    ({"confirm": "khac-nhau-000"}, "Hai mật khẩu không khớp nhau."),
    ({"full_name": ""}, "Mục này bắt buộc."),
    ({"email": "not-an-email"}, "Hãy nhập địa chỉ thư điện tử hợp lệ."),
    ({"role": "emperor"}, "Lựa chọn không hợp lệ."),
    ({"role": "sector_manager"}, "Quản lý ngành phải được gắn với một ngành."),
    ({"sector": "military"}, "Lựa chọn không hợp lệ."),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_account_input_writes_nothing(client: Any, db: Any, tree: dict[str, Any],
                                          login: Any, change: dict[str, str],
                                          message: str) -> None:
    login("quantri")
    before = n_users(db), db.session.scalar(select(func.count()).select_from(RoleAssignment))
    response = client.post("/staff/users/new",
                           data={**GOOD, "unit_id": tree["hospital"].id, **change})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    after = n_users(db), db.session.scalar(select(func.count()).select_from(RoleAssignment))
    assert after == before


def test_sector_manager_cannot_grant_outside_or_above(client: Any, db: Any, tree: dict[str, Any],
                                                      make_user: Any, login: Any) -> None:
    make_user("soyte", "sector_manager", tree["province"], sector="health")
    login("soyte")
    # The province is not in the health scope: not even a choice.
    response = client.post("/staff/users/new", data={**GOOD, "unit_id": tree["province"].id})
    assert "Lựa chọn không hợp lệ." in response.get_data(as_text=True)
    # Administrator is above a sector manager.
    response = client.post("/staff/users/new", data={**GOOD, "role": "administrator",
                                                     "unit_id": tree["hospital"].id})
    assert "nằm ngoài phạm vi của bạn" in response.get_data(as_text=True)
    # Narrowing to another sector is refused too.
    response = client.post("/staff/users/new", data={**GOOD, "sector": "education",
                                                     "unit_id": tree["hospital"].id})
    assert "nằm ngoài phạm vi của bạn" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "bacsi.an")) is None
    ok = client.post("/staff/users/new", data={**GOOD, "unit_id": tree["hospital"].id})
    assert ok.status_code == 302


def test_roles_add_remove_and_password(client: Any, db: Any, tree: dict[str, Any],
                                       make_user: Any, login: Any) -> None:
    target = make_user("phantich", "analyst", tree["hospital"])
    login("quantri")
    url = f"/staff/users/{target.id}"
    assert client.post(f"{url}/roles", data={"role-role": "analyst",
                                             "role-unit_id": tree["health"].id,
                                             "role-sector": ""}).status_code == 302
    db.session.expire_all()
    assert len(target.roles) == 2
    page = client.post(f"{url}/roles", data={"role-role": "analyst",
                                             "role-unit_id": tree["health"].id,
                                             "role-sector": ""}, follow_redirects=True)
    assert "Tài khoản đã có vai trò này." in page.get_data(as_text=True)
    first = target.roles[0].id
    assert client.post(f"{url}/roles/remove", data={"assignment_id": first}).status_code == 302
    db.session.expire_all()
    assert [a.id for a in target.roles] != [first] and len(target.roles) == 1
    page = client.post(f"{url}/password", data={"pw-password": "ngan", "pw-confirm": "ngan"},
                       follow_redirects=True)
    assert "Mật khẩu phải có ít nhất 10 ký tự." in page.get_data(as_text=True)
    assert client.post(f"{url}/password", data={"pw-password": "mat-khau-moi-1",
                                                "pw-confirm": "mat-khau-moi-1"}).status_code == 302
    db.session.expire_all()
    assert target.check_password("mat-khau-moi-1")


def test_admin_cannot_remove_own_admin_role(client: Any, db: Any, tree: dict[str, Any],
                                            login: Any) -> None:
    login("quantri")
    admin = tree["admin"]
    page = client.post(f"/staff/users/{admin.id}/roles/remove",
                       data={"assignment_id": admin.roles[0].id}, follow_redirects=True)
    assert "Bạn không thể tự gỡ vai trò quản trị viên của mình." in page.get_data(as_text=True)
    db.session.expire_all()
    assert len(admin.roles) == 1


def test_disabled_account_cannot_sign_in(client: Any, db: Any, tree: dict[str, Any]) -> None:
    tree["admin"].active = False
    db.session.commit()
    response = client.post("/login", data={"username": "quantri", "password": "mat-khau-123"})
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)


def test_cli_users_create(runner: Any, db: Any, tree: dict[str, Any]) -> None:
    result = runner.invoke(args=["users", "create", "canbo", "--full-name", "Cán bộ Một",
                                 "--role", "clerk", "--unit-code", "99",
                                 "--password", "mat-khau-456"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "canbo"))
    assert user.roles[0].role == "clerk"
    audit = db.session.scalar(select(AuditLog).where(AuditLog.actor_label == "cli:users create"))
    assert audit is not None
    bad = runner.invoke(args=["users", "create", "canbo2", "--full-name", "X",
                              "--unit-code", "00000", "--role", "clerk",
                              "--password", "mat-khau-456"])
    assert bad.exit_code != 0 and "No unit has the code 00000" in bad.output
    weak = runner.invoke(args=["users", "create", "canbo3", "--full-name", "X",
                               "--password", "123"])
    assert weak.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.username.in_(["canbo2", "canbo3"]))) == 0

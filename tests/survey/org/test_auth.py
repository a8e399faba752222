"""Sign-in, throttling, CSRF and the language switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_app, twin_context


def test_login_page_is_vietnamese(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html and "Đăng nhập dành cho cán bộ" in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html


def test_login_logout(client: Any, db: Any, make_unit: Any, make_user: Any) -> None:
    make_user("canbo", "analyst", make_unit("Tỉnh", code="99"))
    bad = client.post("/login", data={"username": "canbo", "password": "sai-mat-khau-1"})
    assert bad.status_code == 200 and "Sai tên đăng nhập hoặc mật khẩu." in bad.get_data(
        as_text=True)
    nobody = client.post("/login", data={"username": "khongco", "password": "x"})
    assert "Sai tên đăng nhập hoặc mật khẩu." in nobody.get_data(as_text=True)
    empty = client.post("/login", data={"username": "", "password": ""})
    assert "Mục này bắt buộc." in empty.get_data(as_text=True)
    ok = client.post("/login?next=/staff/units", data={"username": "CanBo ",
                                                       "password": "mat-khau-123"})
    assert ok.headers["Location"] == "/staff/units"
    assert client.get("/staff/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_next_cannot_leave_the_site(client: Any, db: Any, make_unit: Any,
                                    make_user: Any) -> None:
    make_user("canbo", "analyst", make_unit("Tỉnh", code="99"))
    ok = client.post("/login?next=//evil.example/x", data={"username": "canbo",
                                                           "password": "mat-khau-123"})
    assert ok.headers["Location"] == "/staff/"


def test_login_is_throttled(database_url: str, tmp_path: Path, _schema: None) -> None:
    app = make_app(database_url, tmp_path / "i", RATELIMIT_ENABLED=True)
    with twin_context(app):
        client = app.test_client()
        codes = [client.post("/login", data={"username": "x", "password": "y"}).status_code
                 for _ in range(7)]
        last = client.post("/login", data={"username": "x", "password": "y"})
    # three free failures, the fourth is checked and starts a wait (test_throttle.py)
    assert codes[:4] == [200] * 4 and codes[4:] == [429] * 3
    assert "Đăng nhập sai quá nhiều lần. Hãy chờ" in last.get_data(as_text=True)


def test_csrf_is_enforced(database_url: str, tmp_path: Path, _schema: None) -> None:
    app = make_app(database_url, tmp_path / "i", WTF_CSRF_ENABLED=True)
    with twin_context(app):
        response = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_language_switch(client: Any) -> None:
    client.get("/lang/en?next=/login")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Staff sign-in" in html
    client.get("/lang/xx")
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    client.get("/lang/vi")
    assert "Đăng nhập dành cho cán bộ" in client.get("/login").get_data(as_text=True)


def test_error_pages_are_friendly(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Không tìm thấy trang" in response.get_data(
        as_text=True)

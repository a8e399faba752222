"""Replacing or revoking a point's link and revoking an API key ask first, on a page
without JavaScript that says what stops working; asking changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from survey.collection.services import apikeys, links
from survey.models import ApiKey, AuditLog, PointLink, ServicePoint
from survey.org.services import units

BASE = "/staff/collect"


def state(db: Any) -> tuple[Any, ...]:
    db.session.expire_all()
    return (db.session.execute(select(PointLink.id, PointLink.revoked_at)).all(),
            db.session.execute(select(ApiKey.id, ApiKey.revoked_at)).all(),
            db.session.scalar(select(func.count()).select_from(AuditLog)))


@pytest.fixture
def desk(db: Any, make_unit: Any, make_user: Any, login: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    commune = make_unit("Xã Hòa Bình", parent=province, kind="commune")
    point = units.create_point(commune, "Bộ phận Một cửa")
    poster, kiosk = links.create_link(point), links.create_link(point, "kiosk")
    key, _full = apikeys.create_key(commune, "Hệ thống một cửa tỉnh")
    make_user("xa", "unit_manager", commune)
    login("xa")
    return {"unit": commune.id, "point": point.id, "poster": poster.token,
            "kiosk": kiosk.token, "key": key.id, "prefix": key.prefix}


def test_the_unit_page_links_to_the_confirmation_pages(client: Any, desk: dict[str, Any]) -> None:
    html = client.get(f"{BASE}/units/{desk['unit']}").get_data(as_text=True)
    assert f'href="{BASE}/points/{desk["point"]}/links/poster/replace"' in html
    assert f'href="{BASE}/points/{desk["point"]}/links/kiosk/revoke"' in html
    tokens = client.get(f"{BASE}/units/{desk['unit']}/tokens").get_data(as_text=True)
    assert f'href="{BASE}/api-keys/{desk["key"]}/revoke"' in tokens


def test_replacing_the_poster_link_asks_first(client: Any, db: Any,
                                              desk: dict[str, Any]) -> None:
    before = state(db)
    page = client.get(f"{BASE}/points/{desk['point']}/links/poster/replace")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script" not in html
    assert "Thay đường dẫn của Bộ phận Một cửa?" in html
    assert "Mã QR của Bộ phận Một cửa trên mọi áp phích đã in sẽ ngừng hoạt động ngay" in html
    assert "in và dán mã QR mới" in html
    assert state(db) == before and links.resolve_link(desk["poster"]) is not None
    assert client.post(f"{BASE}/points/{desk['point']}/links/poster/replace").status_code == 302
    assert links.resolve_link(desk["poster"]) is None


def test_revoking_the_kiosk_link_asks_first(client: Any, db: Any, desk: dict[str, Any]) -> None:
    before = state(db)
    html = client.get(f"{BASE}/points/{desk['point']}/links/kiosk/revoke").get_data(as_text=True)
    assert "Thu hồi đường dẫn của Bộ phận Một cửa?" in html
    assert "Máy tính bảng kiosk của Bộ phận Một cửa sẽ ngừng hiển thị bảng hỏi ngay." in html
    assert state(db) == before
    client.post(f"{BASE}/points/{desk['point']}/links/kiosk/revoke")
    assert links.active_link(db.session.get(ServicePoint, desk["point"]), "kiosk") is None


def test_revoking_an_api_key_asks_first(client: Any, db: Any, desk: dict[str, Any]) -> None:
    before = state(db)
    html = client.get(f"{BASE}/api-keys/{desk['key']}/revoke").get_data(as_text=True)
    assert f"Thu hồi khóa API {desk['prefix']}?" in html
    assert "không thể phát mã dùng một lần hay báo số giao dịch nữa" in html
    assert state(db) == before
    client.post(f"{BASE}/api-keys/{desk['key']}/revoke")
    assert db.session.get(ApiKey, desk["key"]).revoked_at is not None


def test_the_confirmation_pages_keep_to_the_scope(client: Any, db: Any, desk: dict[str, Any],
                                                  make_unit: Any, make_user: Any,
                                                  login: Any) -> None:
    other = make_unit("Xã Khác", parent=db.session.get(ServicePoint, desk["point"]).unit.parent,
                      kind="commune")
    make_user("khac", "unit_manager", other)
    client.post("/logout")
    login("khac")
    assert client.get(f"{BASE}/points/{desk['point']}/links/poster/replace").status_code == 404
    assert client.get(f"{BASE}/api-keys/{desk['key']}/revoke").status_code == 404

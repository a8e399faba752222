"""Granting and withdrawing an API key's read_results (the results API's unpublished
snapshots and suppressed figures) from the unit's token page: administrators only, a
confirmation page saying what changes, audited, and refusals that change nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.collection.services import apikeys
from survey.common.access import Scope
from survey.common.errors import Forbidden, ServiceError
from survey.models import ApiKey, AuditLog, User


@pytest.fixture
def keys(db: Any, make_unit: Any, make_user: Any) -> dict[str, Any]:
    root = make_unit("Tỉnh Khoá", code="96")
    ward = make_unit("Phường Khoá", root, kind="commune", code="96.1")
    other = make_unit("Tỉnh Khác", code="95")
    province_key, _full = apikeys.create_key(root, "Cổng dữ liệu tỉnh")
    ward_key, _full = apikeys.create_key(ward, "Một cửa phường")
    foreign_key, _full = apikeys.create_key(other, "Hệ thống tỉnh khác")
    make_user("quantri", "administrator", root)
    make_user("quanly", "unit_manager", ward)
    make_user("nganh", "sector_manager", root, sector="administrative")
    make_user("phantich", "analyst", root)
    return {"root": root, "ward": ward, "province": province_key, "ward_key": ward_key,
            "foreign": foreign_key}


def _audit(db: Any, key: ApiKey) -> list[AuditLog]:
    """The audit rows that changed the key's read_results."""
    return [e for e in db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "api_key", AuditLog.entity_id == str(key.id),
        AuditLog.action == "update").order_by(AuditLog.id)) if "read_results" in e.after]


def _flag(db: Any, key_id: int) -> bool:
    db.session.expire_all()
    return bool(db.session.get(ApiKey, key_id).read_results)


def test_an_administrator_grants_and_withdraws_after_confirming(
        client: Any, login: Any, db: Any, keys: dict[str, Any]) -> None:
    key = keys["ward_key"]
    login("quantri")
    page = client.get(f"/staff/collect/units/{keys['ward'].id}/tokens").get_data(as_text=True)
    assert "published only" in page or "chỉ kết quả đã công bố" in page
    link = re.search(rf'href="(/staff/collect/api-keys/{key.id}/read-results\?allow=1)"', page)
    assert link is not None
    confirm = client.get(link.group(1))
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and key.prefix in html and "Phường Khoá" in html
    assert "Một cửa phường" in html and 'name="allow" value="1"' in html
    assert not _flag(db, key.id)  # the confirmation page changes nothing
    done = client.post(f"/staff/collect/api-keys/{key.id}/read-results", data={"allow": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith(
        f"/units/{keys['ward'].id}/tokens")
    assert _flag(db, key.id)
    [entry] = _audit(db, key)
    assert entry.before == {"read_results": False} and entry.after == {"read_results": True}
    assert entry.actor_id == db.session.scalar(
        select(User.id).where(User.username == "quantri"))
    page = client.get(f"/staff/collect/units/{keys['ward'].id}/tokens").get_data(as_text=True)
    assert f"/api-keys/{key.id}/read-results?allow=0" in page
    html = client.get(f"/staff/collect/api-keys/{key.id}/read-results?allow=0").get_data(
        as_text=True)
    assert key.prefix in html and 'value="0"' in html
    client.post(f"/staff/collect/api-keys/{key.id}/read-results", data={"allow": "0"})
    assert not _flag(db, key.id)
    assert [e.after for e in _audit(db, key)] == [{"read_results": True},
                                                  {"read_results": False}]


@pytest.mark.parametrize("username", ["quanly", "nganh"])
def test_managers_who_create_keys_may_not_grant_it(client: Any, login: Any, db: Any,
                                                   keys: dict[str, Any], username: str) -> None:
    key = keys["ward_key"]
    login(username)
    page = client.get(f"/staff/collect/units/{keys['ward'].id}/tokens")
    assert page.status_code == 200  # they manage the unit's keys ...
    assert "read-results" not in page.get_data(as_text=True)  # ... but not this right
    assert client.get(f"/staff/collect/api-keys/{key.id}/read-results?allow=1"
                      ).status_code == 403
    assert client.post(f"/staff/collect/api-keys/{key.id}/read-results",
                       data={"allow": "1"}).status_code == 403
    assert not _flag(db, key.id) and _audit(db, key) == []
    with pytest.raises(Forbidden):
        apikeys.set_read_results(Scope.for_user(db.session.scalar(
            select(User).where(User.username == username))), key, True)
    assert not _flag(db, key.id)


def test_an_analyst_cannot_even_open_it(client: Any, login: Any, db: Any,
                                        keys: dict[str, Any]) -> None:
    login("phantich")
    response = client.post(f"/staff/collect/api-keys/{keys['ward_key'].id}/read-results",
                           data={"allow": "1"})
    assert response.status_code == 403  # in view, but not a unit they manage
    assert not _flag(db, keys["ward_key"].id)


@pytest.mark.parametrize("which", ["unknown", "foreign"])
def test_an_unknown_or_foreign_key_is_a_clear_404(client: Any, login: Any, db: Any,
                                                  keys: dict[str, Any], which: str) -> None:
    key_id = keys["foreign"].id if which == "foreign" else 987654
    login("quantri")
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    for response in (client.get(f"/staff/collect/api-keys/{key_id}/read-results?allow=1"),
                     client.post(f"/staff/collect/api-keys/{key_id}/read-results",
                                 data={"allow": "1"})):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert str(key_id) in html
        assert "nothing was changed" in html or "không có gì bị thay đổi" in html
    assert not _flag(db, keys["foreign"].id)
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


@pytest.mark.parametrize("allow", ["", "yes", "2"])
def test_a_bad_choice_is_refused(client: Any, login: Any, db: Any, keys: dict[str, Any],
                                 allow: str) -> None:
    login("quantri")
    key = keys["province"]
    response = client.post(f"/staff/collect/api-keys/{key.id}/read-results",
                           data={"allow": allow})
    assert response.status_code == 400
    assert "allow=1" in response.get_data(as_text=True)
    assert not _flag(db, key.id) and _audit(db, key) == []


def test_a_revoked_key_or_no_change_is_said_and_nothing_written(
        client: Any, login: Any, db: Any, keys: dict[str, Any]) -> None:
    login("quantri")
    key = keys["province"]
    response = client.post(f"/staff/collect/api-keys/{key.id}/read-results",
                           data={"allow": "0"}, follow_redirects=True)
    assert response.status_code == 200
    assert key.prefix in response.get_data(as_text=True)  # "already reads published only"
    assert _audit(db, key) == []
    apikeys.revoke_key(key)
    response = client.post(f"/staff/collect/api-keys/{key.id}/read-results",
                           data={"allow": "1"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "revoked" in html or "đã bị thu hồi" in html
    assert not _flag(db, key.id) and _audit(db, key) == []
    with pytest.raises(ServiceError):
        apikeys.set_read_results(Scope.for_user(db.session.scalar(
            select(User).where(User.username == "quantri"))), key, True)

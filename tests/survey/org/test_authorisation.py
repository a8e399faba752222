"""Authorisation matrix: every staff endpoint × demo role × scope.

The expected outcome comes from an oracle written here independently of
``survey.common.access``: which units each demo account must see, and which roles
may manage units and accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.demo import seed as demo
from survey.extensions import db
from survey.models import ServicePoint, Unit, User
from tests.conftest import make_app, twin_context

MANAGERS = {"admin", "soyte", "sogddt", "benhvien", "xa"}
ALL_USERS = ["admin", "soyte", "sogddt", "benhvien", "xa", "phantich", "phantich.yte", "nhaplieu"]


@pytest.fixture(scope="module")
def demo_app(_schema: None, database_url: str, tmp_path_factory: Any) -> Iterator[Flask]:
    app = make_app(database_url, Path(tmp_path_factory.mktemp("inst")))
    with twin_context(app):
        demo.seed(responses=False)
        yield app


def visible_codes(username: str) -> set[str]:
    """The oracle: the official/demo codes of the units each account must see."""
    units = db.session.scalars(select(Unit)).all()
    by_code = {u.code: u for u in units}
    commune = by_code[demo.existing_accounts()[4].unit]  # the 'xa' manager's commune
    rules = {
        "admin": lambda u: True,
        "phantich": lambda u: True,
        "soyte": lambda u: u.sector == "health",
        "phantich.yte": lambda u: u.sector == "health",
        "sogddt": lambda u: u.sector == "education",
        "benhvien": lambda u: u.code == "80.BV01",
        "xa": lambda u: u.id == commune.id or u.parent_id == commune.id,
        "nhaplieu": lambda u: u.code == "80.TTPVHCC",
    }
    return {u.code or "" for u in units if rules[username](u)}


@pytest.fixture(scope="module")
def clients(demo_app: Flask) -> dict[str, FlaskClient]:
    out = {}
    for username in ALL_USERS:
        client = demo_app.test_client()
        response = client.post("/login", data={"username": username,
                                               "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302
        out[username] = client
    return out


def _codes_in_unit_list(client: FlaskClient) -> set[str]:
    codes: set[str] = set()
    page = 1
    while True:
        html = client.get(f"/staff/units?page={page}").get_data(as_text=True)
        rows = re.findall(r"<tr><td><a href=\"/staff/units/\d+\">.*?</td>\s*<td>.*?</td>"
                          r"<td>.*?</td><td>(.*?)</td></tr>", html, re.S)
        codes |= {unescape(code) for code in rows}
        if "»" not in html.split("pager")[-1] or f"page={page + 1}" not in html:
            return codes
        page += 1


@pytest.mark.parametrize("username", ALL_USERS)
def test_unit_list_shows_exactly_the_scope(clients: dict[str, FlaskClient], username: str) -> None:
    assert _codes_in_unit_list(clients[username]) == visible_codes(username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_unit_pages_by_scope(clients: dict[str, FlaskClient], username: str) -> None:
    client = clients[username]
    visible = visible_codes(username)
    units = db.session.scalars(select(Unit).order_by(Unit.id)).all()
    communes = [u for u in units if u.kind == "commune"]
    # Every non-commune unit, plus communes with and without children (the scope edges).
    sample = [u for u in units if u.kind != "commune"] + communes[:3] + [
        u for u in communes if u.children][:3]
    for unit in sample:
        seen = (unit.code or "") in visible
        detail = client.get(f"/staff/units/{unit.id}").status_code
        edit = client.get(f"/staff/units/{unit.id}/edit").status_code
        new_point = client.get(f"/staff/units/{unit.id}/points/new").status_code
        delete = client.post(f"/staff/units/{unit.id}/delete").status_code
        if not seen:
            assert (detail, edit, new_point, delete) == (404, 404, 404, 404), unit.name
        else:
            assert detail == 200
            expected = 200 if username in MANAGERS else 403
            assert (edit, new_point) == (expected, expected), unit.name
            # Demo units all have children or service points: an allowed delete is refused
            # with a message (302 back), never performed.
            assert delete == (302 if username in MANAGERS else 403)
        assert db.session.get(Unit, unit.id) is not None


@pytest.mark.parametrize("username", ALL_USERS)
def test_service_points_by_scope(clients: dict[str, FlaskClient], username: str) -> None:
    client = clients[username]
    visible = visible_codes(username)
    points = db.session.scalars(select(ServicePoint)).all()
    for point in points[:: max(1, len(points) // 60)]:
        seen = (point.unit.code or "") in visible
        edit = client.get(f"/staff/points/{point.id}/edit").status_code
        if not seen:
            assert edit == 404
            assert client.post(f"/staff/points/{point.id}/delete").status_code == 404
            assert db.session.get(ServicePoint, point.id) is not None
        else:
            assert edit == (200 if username in MANAGERS else 403)


@pytest.mark.parametrize("username", ALL_USERS)
def test_global_pages_by_role(clients: dict[str, FlaskClient], username: str) -> None:
    client = clients[username]
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/units").status_code == 200
    manager = username in MANAGERS
    assert client.get("/staff/units/new").status_code == (200 if manager else 403)
    assert client.get("/staff/users").status_code == (200 if manager else 403)
    assert client.get("/staff/users/new").status_code == (200 if manager else 403)
    assert client.get("/staff/audit").status_code == (200 if username == "admin" else 403)


@pytest.mark.parametrize("username", ALL_USERS)
def test_accounts_by_scope(clients: dict[str, FlaskClient], username: str) -> None:
    client = clients[username]
    visible = visible_codes(username)
    listing = client.get("/staff/users").get_data(as_text=True)
    for user in db.session.scalars(select(User)).all():
        in_view = username in MANAGERS and any(
            (a.unit.code or "") in visible for a in user.roles)
        assert client.get(f"/staff/users/{user.id}").status_code == (
            200 if in_view else (404 if username in MANAGERS else 403))
        assert (f">{user.username}</a>" in listing) == in_view, user.username
        manageable = username in MANAGERS and all(
            (a.unit.code or "") in visible for a in user.roles)
        status = client.post(f"/staff/users/{user.id}/password",
                             data={"pw-password": "x", "pw-confirm": "y"}).status_code
        if manageable:
            assert status == 302
        else:
            assert status in (403, 404)


def test_anonymous_is_sent_to_login(demo_app: Flask) -> None:
    client = demo_app.test_client()
    for url in ["/staff/", "/staff/units", "/staff/users", "/staff/audit", "/staff/units/1"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def _sample_url(rule: Any) -> str:
    values = dict(rule.defaults or {})  # a rule with defaults builds only with them
    for arg in rule.arguments - set(values):
        converter = rule._converters[arg]
        items = getattr(converter, "items", None)  # any(...) converters
        values[arg] = sorted(items)[0] if items else 1
    return rule.build(values)[1]


def test_every_staff_endpoint_requires_sign_in(demo_app: Flask) -> None:
    """A guard for endpoints added later: no /staff page answers an anonymous visitor."""
    client = demo_app.test_client()
    rules = [r for r in demo_app.url_map.iter_rules() if r.rule.startswith("/staff")]
    assert len(rules) > 20
    for rule in rules:
        url = _sample_url(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"]


def test_every_staff_endpoint_refuses_a_signed_in_account_without_roles(
        demo_app: Flask) -> None:
    from survey.models import User as UserModel

    user = UserModel(username="khongvaitro", full_name="Không vai trò")
    user.set_password("mat-khau-123")
    db.session.add(user)
    db.session.commit()
    client = demo_app.test_client()
    client.post("/login", data={"username": "khongvaitro", "password": "mat-khau-123"})
    try:
        for rule in demo_app.url_map.iter_rules():
            if not rule.rule.startswith("/staff") or rule.rule in ("/staff/",) \
                    or rule.rule.startswith("/staff/account"):
                continue  # one's own account is anybody's who is signed in
            url = _sample_url(rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                status = client.open(url, method=method).status_code
                if rule.rule.startswith("/staff/units") and rule.rule.count("/") <= 2 \
                        and method == "GET":
                    continue  # the (empty) lists of one's own units
                assert status in (403, 404), (method, url, status)
    finally:
        db.session.delete(db.session.get(UserModel, user.id))
        db.session.commit()


# --- API keys: a unit's key acts over its unit's subtree, through the same Scope ---------
KEY_UNITS = ["80.BV01", "80.TTPVHCC", "80.SYT"]


def _subtree_codes(code: str) -> set[str]:
    """The oracle for a key: its unit and everything below it (by parent links)."""
    units = db.session.scalars(select(Unit)).all()
    by_parent: dict[int | None, list[Unit]] = {}
    for unit in units:
        by_parent.setdefault(unit.parent_id, []).append(unit)
    root = next(u for u in units if u.code == code)
    seen, todo = set(), [root]
    while todo:
        unit = todo.pop()
        seen.add(unit.code or "")
        todo.extend(by_parent.get(unit.id, []))
    return seen


@pytest.fixture(scope="module")
def api_keys(demo_app: Flask) -> dict[str, str]:
    from survey.collection.services import apikeys

    out = {}
    for code in KEY_UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        out[code] = apikeys.create_key(unit, f"Hệ thống một cửa {code}")[1]
    return out


@pytest.mark.parametrize("code", KEY_UNITS)
def test_api_key_scope_is_its_units_subtree(api_keys: dict[str, str], code: str) -> None:
    from survey.collection.services import apikeys
    from survey.common.access import Scope

    key = apikeys.authenticate(f"Bearer {api_keys[code]}")
    assert key is not None
    scope = Scope.for_api_key(key)
    seen = {u.code or "" for u in db.session.scalars(scope.units("issue_tokens"))}
    assert seen == _subtree_codes(code)
    # A key grants nothing staff do: no viewing, managing, results or exports.
    for permission in ("view", "manage_units", "manage_users", "results", "export"):
        assert not scope.has(permission), permission


@pytest.mark.parametrize("code", KEY_UNITS)
def test_api_key_issues_tokens_only_inside_its_subtree(demo_app: Flask, api_keys: dict[str, str],
                                                       code: str) -> None:
    import hashlib

    client = demo_app.test_client()
    inside = _subtree_codes(code)
    points = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    sample = [p for p in points if (p.unit.code or "") in inside][:3] + \
        [p for p in points if (p.unit.code or "") not in inside][::25]
    assert len(sample) > 5
    assert any((p.unit.code or "") in inside for p in sample), "no point inside to try"
    for n, point in enumerate(sample):
        body = {"dossier_hash": hashlib.sha256(f"{code}-{point.id}-{n}".encode()).hexdigest(),
                "procedure_field": "Hộ tịch", "channel": "direct",
                "completed_at": "2026-11-20T09:00:00+07:00", "service_point_id": point.id}
        response = client.post("/api/v1/tokens", json=body,
                               headers={"Authorization": f"Bearer {api_keys[code]}"})
        expected = 201 if (point.unit.code or "") in inside else 403
        assert response.status_code == expected, (point.unit.code, response.json)


def test_api_keys_open_no_staff_page(demo_app: Flask, api_keys: dict[str, str]) -> None:
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {api_keys['80.SYT']}"}
    for url in ["/staff/", "/staff/units", "/staff/users", "/staff/collect/"]:
        response = client.get(url, headers=headers)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_revoked_key_has_an_empty_scope(demo_app: Flask, api_keys: dict[str, str]) -> None:
    from survey.collection.services import apikeys
    from survey.common.access import Scope

    key = apikeys.authenticate(f"Bearer {api_keys['80.TTPVHCC']}")
    assert key is not None
    apikeys.revoke_key(key)
    assert Scope.for_api_key(key).grants == ()
    response = demo_app.test_client().post(
        "/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {api_keys['80.TTPVHCC']}"})
    assert response.status_code == 401


# --- review of flagged responses: analysts see, managers decide ----------------------
@pytest.mark.parametrize("username", ALL_USERS)
def test_review_decisions_by_role(clients: dict[str, FlaskClient], username: str) -> None:
    """Accepting or rejecting a flagged response changes the indices: the managers of its
    unit decide; analysts see it without deciding; others neither."""
    import uuid

    from survey.models import AuditLog, Response

    hospital = db.session.scalar(select(Unit).where(Unit.code == "80.BV01"))
    flagged = Response(questionnaire_key="desk_rating", questionnaire_version=1,
                       channel="desk_qr", unit_id=hospital.id, flags="burst",
                       client_submission_id=uuid.uuid4().hex, review_status="flagged")
    db.session.add(flagged)
    db.session.commit()
    client = clients[username]
    seen = "80.BV01" in visible_codes(username)
    try:
        listing = client.get("/staff/collect/reviews")
        assert listing.status_code == (403 if username == "nhaplieu" else 200)
        html = listing.get_data(as_text=True)
        assert (f"#{flagged.id}<" in html) == seen
        may_decide = seen and username in MANAGERS
        action = f'action="/staff/collect/reviews/{flagged.id}"'
        assert (action in html) == may_decide
        status = client.post(f"/staff/collect/reviews/{flagged.id}",
                             data={"decision": "rejected"}).status_code
        expected = 302 if may_decide else (404 if not seen and username != "nhaplieu" else 403)
        assert status == expected
        db.session.expire_all()
        assert db.session.get(Response, flagged.id).review_status == (
            "rejected" if may_decide else "flagged")
    finally:
        for row in db.session.scalars(select(AuditLog).where(
                AuditLog.entity == "response", AuditLog.entity_id == str(flagged.id))):
            db.session.delete(row)
        db.session.delete(db.session.get(Response, flagged.id))
        db.session.commit()

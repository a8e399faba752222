"""Security headers on every response: a citizen page, a staff page, sign-in, the API,
a static file, an error page, a download; HSTS in production only; the remember-me cookie."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey import ROOT
from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links
from survey.org.services import units
from tests.conftest import make_app

STRONG = "Yq3v_Jw8tZbP0kR7mXc2LhN5sDf9GaE1uVo6iTy4WeQ"


def policy(response: Any) -> dict[str, list[str]]:
    csp = response.headers.get("Content-Security-Policy", "")
    out = {}
    for directive in filter(None, (d.strip() for d in csp.split(";"))):
        name, *values = directive.split()
        out[name] = values
    return out


def assert_secure(response: Any) -> None:
    csp = policy(response)
    assert csp.get("default-src") == ["'none'"], csp
    assert csp.get("script-src") == ["'self'"]  # no inline script, no eval
    assert csp.get("style-src") == ["'self'"]
    assert csp.get("object-src", csp["default-src"]) == ["'none'"]
    assert csp.get("base-uri") == ["'none'"] and csp.get("form-action") == ["'self'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # development


@pytest.fixture
def desk(db: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                        "sector": "administrative", "code": "99"})
    point = units.create_point(province, "Quầy số 1")
    point.questionnaire_key = "desk_rating"
    db.session.commit()
    return {"unit": province, "point": point, "link": links.create_link(point)}


def test_citizen_pages(client: Any, desk: dict[str, Any]) -> None:
    start = client.get(f"/q/{desk['link'].token}")
    assert start.status_code == 302
    assert_secure(start)
    page = client.get(start.headers["Location"])
    assert page.status_code == 200
    assert_secure(page)
    assert page.headers["Cache-Control"] == "no-store"
    unknown = client.get("/t/khong-co-ma-nay")
    assert unknown.status_code == 404
    assert_secure(unknown)


def test_staff_pages_and_sign_in(client: Any, make_unit: Any, make_user: Any,
                                 login: Any) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert_secure(page)
    assert page.headers["Cache-Control"] == "no-store"
    make_user("quantri", "administrator", make_unit("Tỉnh Thử", code="99"))
    signed_in = login("quantri")
    assert_secure(signed_in)
    assert signed_in.headers["Cache-Control"] == "no-store"
    for url in ("/staff/", "/staff/units", "/staff/collect/reviews", "/"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert_secure(response)
        assert response.headers["Cache-Control"] == "no-store", url
    missing = client.get("/staff/units/999999")
    assert missing.status_code == 404
    assert_secure(missing)
    assert missing.headers["Cache-Control"] == "no-store"


def test_downloads_keep_their_cache_headers(client: Any, desk: dict[str, Any],
                                            make_user: Any, login: Any) -> None:
    make_user("quantri", "administrator", desk["unit"])
    login("quantri")
    response = client.get(f"/staff/collect/points/{desk['point'].id}/qr.svg")
    assert response.status_code == 200
    assert_secure(response)
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


def test_api(client: Any) -> None:
    response = client.post("/api/v1/tokens", json={})
    assert response.status_code == 401
    assert_secure(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/nothing-here").headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_cache_headers(client: Any) -> None:
    for name in ("style.css", "kiosk.js"):
        with client.get(f"/static/{name}") as response:
            assert response.status_code == 200
            assert_secure(response)
            assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_and_secure_remember_cookie_in_production(tmp_path: Path) -> None:
    app = create_production_app(tmp_path)
    for url in ("/login", "/static/style.css"):
        with app.test_client().get(url) as response:
            assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def create_production_app(tmp_path: Path) -> Flask:
    return make_app("sqlite://", tmp_path, ENV="production", SECRET_KEY=STRONG,
                    PUBLIC_BASE_URL="https://khaosat.tayninh.gov.vn")


def test_remember_me_cookie_is_lax_and_http_only(client: Any, make_unit: Any,
                                                 make_user: Any) -> None:
    make_user("quantri", "administrator", make_unit("Tỉnh Thử", code="99"))
    response = client.post("/login", data={"username": "quantri", "password": "mat-khau-123",
                                           "remember": "y"})
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith("remember_token=")]
    assert len(cookies) == 1
    attributes = [a.strip().lower() for a in cookies[0].split(";")]
    assert "samesite=lax" in attributes and "httponly" in attributes
    assert "secure" not in attributes  # development: plain http on 127.0.0.1


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|"
                    r"javascript:", re.I)


def test_templates_have_nothing_the_policy_would_block() -> None:
    """A guard for pages added later: the policy allows no inline script or style."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []

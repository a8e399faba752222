"""Faults on the citizen path and the API: Redis away, the database away, values the
database refuses, a revoked link on another worker, and rate-limit keys that the client
cannot choose (issue 11). Each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import apikeys, flow, links
from survey.common.errors import is_data_error, is_outage
from survey.extensions import db as _db
from survey.extensions import limiter
from survey.models import DossierToken, PointLink, Response, User
from survey.org.services import units
from tests.conftest import (
    FAST_HASH,
    ExpiringClient,
    empty_tables,
    is_postgres,
    make_app,
    twin_context,
)
from tests.survey.collection.points import first_page, sid

DESK_OK = {"muc_do_hai_long": "1", "tong_thoi_gian": "2", "mot_cua": "1", "gop_y": "Tốt lắm"}


def n_responses() -> int:
    return int(_db.session.scalar(select(func.count()).select_from(Response)))


def make_desk() -> dict[str, Any]:
    questionnaire_versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                        "sector": "administrative", "code": "99"})
    point = units.create_point(province, "Quầy số 1")
    point.questionnaire_key = "desk_rating"
    point.kiosk_pin_hash = generate_password_hash("2468")
    other = units.create_point(province, "Quầy số 2")
    other.questionnaire_key = "desk_rating"
    _db.session.commit()
    return {"unit": province, "point": point, "link": links.create_link(point),
            "kiosk": links.create_link(point, "kiosk"), "other": links.create_link(other)}


@pytest.fixture
def desk(db: Any) -> dict[str, Any]:
    return make_desk()


@contextmanager
def database_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ORM statement fails as it does while PostgreSQL restarts."""
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError(
            "connection to server at 127.0.0.1, port 5432 failed: Connection refused"))

    with monkeypatch.context() as patched:
        patched.setattr(Session, "execute", down)
        yield


# --- the database away -----------------------------------------------------------------
def test_outage_on_every_citizen_page_is_the_send_again_page(
        client: Any, db: Any, desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    key, kiosk = desk["link"].token, desk["kiosk"].token
    url, html = first_page(client, "q", key)
    secret = links.new_secret()
    db.session.add(DossierToken(unit_id=desk["unit"].id, token_hash=links.hash_secret(secret),
                                dossier_hash="b" * 64, selection_probability=1.0))
    db.session.commit()
    links.invalidate()  # link resolution itself must meet the outage, not a cached copy
    with database_down(monkeypatch):
        for path in (f"/q/{key}", url, f"/q/{key}/thanks", f"/k/{kiosk}/exit",
                     f"/t/{secret}", f"/t/{secret}/p/1"):
            got = client.get(path)
            page = got.get_data(as_text=True)
            assert got.status_code == 503, (path, got.status_code)
            assert "chưa được lưu" in page and "Thử lại" in page, path
        posted = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
        page = posted.get_data(as_text=True)
        assert posted.status_code == 503
        # what the citizen typed comes back, ready to be sent again as it was
        assert 'name="gop_y" value="Tốt lắm"' in page
        assert f'name="submission_id" value="{sid(html)}"' in page
        pin = client.post(f"/k/{kiosk}/exit", data={"pin": "2468"})
        assert pin.status_code == 503
    assert n_responses() == 0
    again = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    assert again.status_code == 302 and n_responses() == 1


def test_outage_on_staff_pages_is_a_503_even_signed_in(
        client: Any, db: Any, make_unit: Any, make_user: Any, login: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_user("quantri", "administrator", make_unit("Tỉnh"))
    login("quantri")
    with database_down(monkeypatch):
        got = client.get("/staff/units")
    assert got.status_code == 503 and "Tạm thời gián đoạn" in got.get_data(as_text=True)


def test_outage_on_the_api_is_a_json_503(client: Any, db: Any, desk: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _key, full = apikeys.create_key(desk["unit"], "Một cửa")
    with database_down(monkeypatch):
        got = client.post("/api/v1/tokens", json={"dossier_hash": "c" * 64},
                          headers={"Authorization": f"Bearer {full}"})
    assert got.status_code == 503 and got.json["error"]["code"] == "unavailable"


def test_outage_and_data_errors_are_told_apart(db: Any) -> None:
    refused = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert is_outage(refused) and not is_data_error(refused)
    nul = DataError("INSERT", {}, Exception("PostgreSQL text fields cannot contain NUL"))
    assert is_data_error(nul) and not is_outage(nul)
    assert is_data_error(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))


@pytest.mark.skipif(not is_postgres(), reason="PostgreSQL refuses NUL bytes; SQLite stores them")
def test_a_real_nul_byte_is_a_data_error_and_a_400_not_the_send_again_page(
        client: Any, db: Any, desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    target = flow.resolve("q", desk["link"].token, "desk_rating")
    answers = {"muc_do_hai_long": 1, "tong_thoi_gian": 2, "mot_cua": 1, "gop_y": "a\x00b"}
    with pytest.raises(Exception) as caught:
        flow.submit(target, answers, "nul-byte-0001", device_id="d", ip=None)
    real = caught.value
    assert is_data_error(real) and not is_outage(real), repr(real)
    assert n_responses() == 0
    # The view tells it from an outage: 400 and a clear message, never "send again".
    url, html = first_page(client, "q", desk["link"].token)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise real

    monkeypatch.setattr(flow, "submit", refuse)
    got = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    page = got.get_data(as_text=True)
    assert got.status_code == 400 and "không thể lưu" in page and "Gửi lại" not in page


# --- a revoked link stops at once on every worker --------------------------------------
def test_revoked_link_refuses_answers_on_a_worker_that_cached_it(
        client: Any, db: Any, desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)  # this worker caches the link
    # Another worker revokes it: its commit does not reach this process's cache.
    db.session.execute(update(PointLink).where(PointLink.id == desk["link"].id)
                       .values(revoked_at=dt.datetime.now(dt.UTC)))
    db.session.commit()
    got = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    assert got.status_code == 404 and "không hợp lệ" in got.get_data(as_text=True)
    assert n_responses() == 0
    assert client.get(url).status_code == 404  # and this worker's cache forgot it


# --- Redis away --------------------------------------------------------------------------
@contextmanager
def app_with_redis_down(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Like conftest.twin_context, but the app is built after its twin: the limiter is
    one object, and the app built last gives it its storage (here a closed port)."""
    twin = make_app(database_url, tmp_path / "t", RATELIMIT_ENABLED=True)
    app = make_app(database_url, tmp_path / "i", RATELIMIT_ENABLED=True,
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",  # nothing listens there
                   SUBMIT_RATE_LIMIT="3 per minute", PASSWORD_HASH_METHOD=FAST_HASH)
    app.test_client_class = ExpiringClient
    with twin.app_context():
        try:
            yield app
        finally:
            empty_tables()
            _db.engine.dispose()
    with app.app_context():
        _db.engine.dispose()
    # The shared limiter back on memory://, and out of its fallback mode (no public
    # way): the next tests' limits must count in one storage from their first request.
    make_app(database_url, tmp_path / "j", RATELIMIT_ENABLED=True)
    limiter._storage_dead = False


@pytest.mark.real_commits
def test_redis_down_falls_back_to_memory_limits_and_logs_once(
        database_url: str, tmp_path: Path, _schema: None, db: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    with app_with_redis_down(database_url, tmp_path) as app, caplog.at_level(logging.WARNING):
        desk = make_desk()
        user = User(username="canbo", full_name="Cán bộ")
        user.set_password("mat-khau-123")
        _db.session.add(user)
        _db.session.commit()
        phone, staff = app.test_client(), app.test_client()
        url, html = first_page(phone, "q", desk["link"].token)
        stored = phone.post(url, data={**DESK_OK, "submission_id": sid(html)})
        signed_in = staff.post("/login", data={"username": "canbo", "password": "mat-khau-123"})
        codes = [phone.post(url, data={}).status_code for _ in range(3)]
        assert stored.status_code == 302 and n_responses() == 1
        assert signed_in.status_code == 302
        assert codes == [200, 200, 429]  # the limits still hold, in memory
    fell_back = [r for r in caplog.records if "falling back" in r.getMessage()]
    assert len(fell_back) == 1


# --- rate-limit keys the client cannot choose ------------------------------------------
@contextmanager
def limited(database_url: str, tmp_path: Path, **limits: Any) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path / "i", RATELIMIT_ENABLED=True, **limits)
    with twin_context(app):
        yield app


@pytest.mark.real_commits
def test_kiosk_pin_guesses_are_limited_per_link_whatever_the_device(
        database_url: str, tmp_path: Path, _schema: None, db: Any) -> None:
    with limited(database_url, tmp_path, KIOSK_PIN_RATE_LIMIT="3 per minute") as app:
        key = make_desk()["kiosk"].token
        codes = [app.test_client().post(f"/k/{key}/exit", data={"pin": f"{n:04d}"}).status_code
                 for n in range(4)]  # a fresh device cookie each time
        other_address = app.test_client().post(f"/k/{key}/exit", data={"pin": "2468"},
                                               environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert codes == [200, 200, 200, 429] and other_address.status_code == 429


@pytest.mark.real_commits
def test_api_quota_is_keyed_by_the_verified_key_not_its_public_prefix(
        database_url: str, tmp_path: Path, _schema: None, db: Any) -> None:
    with limited(database_url, tmp_path, API_RATE_LIMIT="2 per minute") as app:
        unit = make_desk()["unit"]
        _key, full = apikeys.create_key(unit, "Một cửa")
        forged = {"Authorization": f"Bearer {full.split('.')[0]}.not-the-secret"}
        client = app.test_client()
        answers = [client.post("/api/v1/tokens", json={}, headers=forged) for _ in range(3)]
        junk = [a.status_code for a in answers]
        said = re.search(r"chờ (\d+) giây", answers[-1].json["error"]["message"])
        assert said and abs(int(said.group(1)) - int(answers[-1].headers["Retry-After"])) <= 1
        real = client.post("/api/v1/tokens", headers={"Authorization": f"Bearer {full}"},
                           json={"dossier_hash": "d" * 64, "procedure_field": "Hộ tịch",
                                 "channel": "direct",
                                 "completed_at": "2026-11-20T14:30:00+07:00"})
    assert junk == [401, 401, 429]  # the forger's address ran out, not the key
    assert real.status_code == 201, real.json


@pytest.mark.real_commits
def test_junk_from_one_nat_address_locks_one_link_briefly_and_says_how_long(
        database_url: str, tmp_path: Path, _schema: None, db: Any) -> None:
    with limited(database_url, tmp_path, SUBMIT_LINK_RATE_LIMIT="3 per minute") as app:
        desk = make_desk()
        a, b = desk["link"].token, desk["other"].token
        # junk to desk A, a new device cookie each time, all from the office's address
        codes = [app.test_client().post(f"/q/{a}/p/1", data={}).status_code for _ in range(4)]
        refused = app.test_client().post(f"/q/{a}/p/1", data={})
        other_desk = app.test_client().post(f"/q/{b}/p/1", data={})
    assert codes == [200, 200, 200, 429] and refused.status_code == 429
    assert other_desk.status_code == 200  # the other desks of the office still work
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 60
    page = refused.get_data(as_text=True)
    said = re.search(r"Vui lòng chờ (\d+) giây", page)
    assert said and abs(int(said.group(1)) - wait) <= 1, page[-600:]


# --- the body limit holds for chunked bodies ------------------------------------------
def test_chunked_body_past_the_citizen_limit_is_413_and_stores_nothing(
        client: Any, db: Any, desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)
    body = "&".join(f"{k}={v}" for k, v in {**DESK_OK, "submission_id": sid(html)}.items())
    body = (body + "&pad=" + "x" * 100_000).encode()
    got = client.post(url, input_stream=io.BytesIO(body),
                      content_type="application/x-www-form-urlencoded",
                      headers={"Transfer-Encoding": "chunked"},
                      environ_overrides={"wsgi.input_terminated": True})
    assert got.status_code == 413 and "quá lớn" in got.get_data(as_text=True)
    assert n_responses() == 0

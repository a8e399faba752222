"""POST /api/v1/tokens: authentication, validation, atomic batches, idempotency, 1-in-k
selection, expiry, rate limit. Every refused call writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey.collection.services import apikeys, links, tokens
from survey.extensions import db as _db
from survey.models import ApiKey, AuditLog, DossierToken, TokenSampler
from tests.conftest import is_postgres, make_app

NOW = "2026-11-20T14:30:00+07:00"


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def dossier(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {"dossier_hash": hashlib.sha256(f"HS-{n}".encode()).hexdigest(),
            "procedure_field": "Hộ tịch", "channel": "direct", "completed_at": NOW, **extra}


@pytest.fixture
def setup(db: Any, make_unit: Any) -> dict[str, Any]:
    province = make_unit("Tỉnh Thử", code="99")
    centre = make_unit("Trung tâm Phục vụ hành chính công", parent=province,
                       kind="service_centre")
    other = make_unit("Xã Khác", parent=province, kind="commune")
    from survey.org.services import units

    desk = units.create_point(centre, "Quầy Hộ tịch")
    desk.questionnaire_key = "desk_rating"
    far = units.create_point(other, "Quầy xã")
    db.session.commit()
    _key, full = apikeys.create_key(centre, "Hệ thống một cửa")
    return {"centre": centre, "other": other, "desk": desk, "far": far, "key": full,
            "unit_id": centre.id, "desk_id": desk.id, "far_id": far.id}


@contextmanager
def variant(app: Flask, **overrides: Any) -> Iterator[Flask]:
    """Another app on the same database with other settings; its connections are closed
    at the end (PostgreSQL would otherwise see them garbage-collected mid-suite)."""
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.instance_path), **overrides)
    try:
        yield other
    finally:
        with other.app_context():
            _db.engine.dispose()


def post(client: Any, body: Any, key: str | None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if isinstance(body, (bytes, str)):
        return client.post("/api/v1/tokens", data=body, headers=headers,
                           content_type="application/json", **kwargs)
    return client.post("/api/v1/tokens", json=body, headers=headers, **kwargs)


def test_issue_one_token(client: Any, db: Any, app: Flask, setup: dict[str, Any]) -> None:
    response = post(client, dossier(), setup["key"])
    assert response.status_code == 201, response.json
    token = response.json["token"]
    assert token["selected"] is True and token["selection_probability"] == 1.0
    assert token["already_issued"] is False
    assert token["url"].startswith(app.config["PUBLIC_BASE_URL"] + "/t/")
    secret = token["url"].rsplit("/", 1)[1]
    row = db.session.scalar(select(DossierToken))
    assert row.token_hash == links.hash_secret(secret) and secret not in (row.token_hash or "")
    assert links.resolve_token(secret).id == row.id
    assert row.unit_id == setup["unit_id"] and row.channel == "direct"
    assert row.dossier_hash == dossier()["dossier_hash"]
    assert row.expires_at - row.issued_at == dt.timedelta(days=30)
    expires = dt.datetime.fromisoformat(token["expires_at"])
    assert expires.replace(tzinfo=None) == row.expires_at.replace(tzinfo=None, microsecond=0)
    key = db.session.scalar(select(ApiKey))
    assert key.last_used_at is not None


def test_token_ttl_is_configurable(app: Flask, db: Any, setup: dict[str, Any]) -> None:
    with variant(app, TOKEN_TTL_DAYS=7) as other:
        response = post(other.test_client(), dossier(), setup["key"])
    expires = dt.datetime.fromisoformat(response.json["token"]["expires_at"])
    now = dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=7) - dt.timedelta(minutes=1) < expires - now <= dt.timedelta(days=7)
    assert tokens.expiry_text(expires) == "Hạn dùng đến " + expires.astimezone(
        tokens.local_zone()).strftime("%d/%m/%Y")


def test_resend_is_idempotent(client: Any, db: Any, setup: dict[str, Any]) -> None:
    first = post(client, dossier(), setup["key"])
    again = post(client, dossier(), setup["key"])
    assert first.status_code == 201 and again.status_code == 200
    token = again.json["token"]
    assert token["already_issued"] is True and token["url"] is None
    assert token["expires_at"] == first.json["token"]["expires_at"]
    assert count(db, DossierToken) == 1


def test_batch_is_issued_together(client: Any, db: Any, setup: dict[str, Any]) -> None:
    post(client, dossier(1), setup["key"])
    body = {"tokens": [dossier(1), dossier(2, service_point_id=setup["desk_id"]), dossier(3)]}
    response = post(client, body, setup["key"])
    assert response.status_code == 201
    got = response.json["tokens"]
    assert [t["already_issued"] for t in got] == [True, False, False]
    assert got[0]["url"] is None and got[1]["url"] and got[2]["url"]
    assert count(db, DossierToken) == 3
    at_desk = db.session.scalar(
        select(DossierToken).where(DossierToken.service_point_id.is_not(None)))
    assert at_desk.questionnaire_key == "desk_rating"  # the point's questionnaire


def test_bad_item_in_batch_writes_nothing(client: Any, db: Any, setup: dict[str, Any]) -> None:
    body = {"tokens": [dossier(1), dossier(2, channel="fax"), dossier(3)]}
    response = post(client, body, setup["key"])
    assert response.status_code == 422
    error = response.json["error"]
    assert error["field"] == "tokens[1].channel" and error["code"] == "invalid_field"
    assert "direct, online, postal" in error["message"] and error["message_en"]
    assert count(db, DossierToken) == 0 and count(db, TokenSampler) == 0


MALFORMED_BATCHES = [
    ({"tokens": [dossier(1), dossier(1)]}, "tokens[1].dossier_hash"),
    ({"tokens": [dossier(1), "x"]}, "tokens[1]"),
    ({"tokens": []}, "tokens"),
    ({"tokens": dossier(1)}, "tokens"),
    ({"tokens": [dossier(1)], "extra": 1}, "tokens"),
]


def test_malformed_batches(client: Any, db: Any, setup: dict[str, Any]) -> None:
    # One test looping over the cases: each test's app setup costs more than the calls.
    for body, field in MALFORMED_BATCHES:
        response = post(client, body, setup["key"])
        assert response.status_code == 422 and response.json["error"]["field"] == field, body
    assert count(db, DossierToken) == 0


def test_more_than_500_is_too_many(client: Any, db: Any, setup: dict[str, Any]) -> None:
    response = post(client, {"tokens": [dossier(i) for i in range(501)]}, setup["key"])
    assert response.status_code == 413 and response.json["error"]["code"] == "too_many"
    assert count(db, DossierToken) == 0


def test_missing_or_wrong_key_is_401(client: Any, db: Any, setup: dict[str, Any]) -> None:
    for header in (None, "Bearer", "Bearer nonsense", "Basic abc",
                   "Bearer 0123456789ab.wrong-secret", "Bearer " + "a" * 200):
        headers = {"Authorization": header} if header else {}
        response = client.post("/api/v1/tokens", json=dossier(), headers=headers)
        error = response.json["error"]
        assert response.status_code == 401 and error["code"] == "unauthorized", header
        assert error["message"] == "Khóa API thiếu, sai hoặc đã bị thu hồi."
        assert error["message_en"] == "Missing, wrong or revoked API key."
    assert count(db, DossierToken) == 0


def test_wrong_secret_and_revoked_key_are_401(client: Any, db: Any,
                                              setup: dict[str, Any]) -> None:
    prefix = setup["key"].split(".")[0]
    assert post(client, dossier(), prefix + ".x" * 20).status_code == 401
    apikeys.revoke_key(db.session.scalar(select(ApiKey)))
    assert post(client, dossier(), setup["key"]).status_code == 401
    assert count(db, DossierToken) == 0


def test_point_outside_the_keys_unit_is_403(client: Any, db: Any,
                                            setup: dict[str, Any]) -> None:
    for point_id in (setup["far_id"], 999999):
        response = post(client, dossier(service_point_id=point_id), setup["key"])
        assert response.status_code == 403
        assert response.json["error"]["field"] == "service_point_id"
    assert count(db, DossierToken) == 0


def test_invalid_json_is_400(client: Any, db: Any, setup: dict[str, Any]) -> None:
    for body in (b"{not json", b"", "[1, 2]", b"null", b"\xff\xfe", '"text"'):
        response = post(client, body, setup["key"])
        assert response.status_code == 400, body
        assert response.json["error"]["code"] == "invalid_json"
    assert count(db, DossierToken) == 0


BAD_FIELDS = [
    ({"dossier_hash": None}, "dossier_hash", "Mục này bắt buộc."),
    ({"dossier_hash": "abc"}, "dossier_hash", "64 ký tự thập lục phân"),
    ({"dossier_hash": 12}, "dossier_hash", "chuỗi văn bản"),
    ({"procedure_field": ""}, "procedure_field", "Mục này bắt buộc."),
    ({"procedure_field": "x" * 256}, "procedure_field", "255"),
    ({"channel": None}, "channel", "Mục này bắt buộc."),
    ({"channel": "fax"}, "channel", "direct, online, postal"),
    ({"completed_at": None}, "completed_at", "Mục này bắt buộc."),
    ({"completed_at": "20/11/2026"}, "completed_at", "không hợp lệ"),
    ({"completed_at": "2026-11-20T14:30:00"}, "completed_at", "múi giờ"),
    ({"completed_at": "2099-01-01T00:00:00+07:00"}, "completed_at", "tương lai"),
    ({"service_point_id": "5"}, "service_point_id", "số nguyên"),
    ({"service_point_id": True}, "service_point_id", "số nguyên"),
    ({"questionnaire_key": "khong_co"}, "questionnaire_key", "Không có phiếu khảo sát"),
    ({"dossier_code": "HS-1"}, "dossier_code", "không bao giờ gửi mã"),
    ({"colour": "red"}, "colour", "Trường không được hỗ trợ"),
]


def test_invalid_fields_are_422_naming_the_field(client: Any, db: Any,
                                                 setup: dict[str, Any]) -> None:
    for change, field, message in BAD_FIELDS:
        body = {k: v for k, v in {**dossier(), **change}.items() if v is not None}
        response = post(client, body, setup["key"])
        assert response.status_code == 422, (change, response.json)
        error = response.json["error"]
        assert error["field"] == field and message in error["message"], (change, error)
        assert error["message_en"] != error["message"]
        batch = post(client, {"tokens": [dossier(7), body]}, setup["key"])
        assert batch.status_code == 422 and batch.json["error"]["field"] == f"tokens[1].{field}"
    assert count(db, DossierToken) == 0 and count(db, TokenSampler) == 0


def test_one_in_four_selects_exactly_a_quarter(client: Any, db: Any,
                                               setup: dict[str, Any]) -> None:
    tokens.configure_sampler(setup["centre"], 4)
    start = db.session.scalar(select(TokenSampler.start))
    got = []
    for chunk in range(4):  # arrivals over several calls keep one systematic sequence
        body = {"tokens": [dossier(chunk * 25 + i) for i in range(25)]}
        got += post(client, body, setup["key"]).json["tokens"]
    assert sum(t["selected"] for t in got) == 25
    assert {t["selection_probability"] for t in got} == {0.25}
    assert [i for i, t in enumerate(got) if t["selected"]] == list(range(start, 100, 4))
    assert all((t["url"] is None) != t["selected"] for t in got)
    assert count(db, DossierToken) == 100  # not selected dossiers are counted too
    assert db.session.scalar(select(func.count()).where(DossierToken.token_hash.is_not(None))) == 25
    assert db.session.scalar(select(TokenSampler.counter)) == 100


def test_sampler_setting_is_audited_but_its_counter_is_not(db: Any,
                                                           setup: dict[str, Any]) -> None:
    tokens.configure_sampler(setup["centre"], 3)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "token_sampler")).all()
    assert len(audit) == 1 and audit[0].after["k"] == 3 and "counter" not in audit[0].after


def test_rate_limit_json_and_no_csrf_needed(app: Flask, db: Any, setup: dict[str, Any]) -> None:
    with variant(app, RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True,
                 API_RATE_LIMIT="2 per minute", MAX_CONTENT_LENGTH=20000) as limited:
        client = limited.test_client()
        assert post(client, dossier(1), setup["key"]).status_code == 201  # no CSRF token
        assert post(client, dossier(2), setup["key"]).status_code == 201
        response = post(client, dossier(3), setup["key"])
        assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
        assert count(db, DossierToken) == 2
        other_key = apikeys.create_key(setup["centre"], "Khóa khác")[1]
        big = {"tokens": [dossier(i) for i in range(200)]}
        response = post(client, big, other_key)
        assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert count(db, DossierToken) == 2


def test_unknown_api_route_and_method_are_json(client: Any, setup: dict[str, Any]) -> None:
    response = client.get("/api/v1/tokens")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


@pytest.mark.skipif(not is_postgres(), reason="concurrent writers need PostgreSQL")
@pytest.mark.real_commits
def test_concurrent_batches_keep_one_systematic_sequence(app: Flask, db: Any,
                                                         setup: dict[str, Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tokens.configure_sampler(setup["centre"], 4)
    # Several keys of one unit (one key's calls queue on its last_used_at row anyway).
    keys = [setup["key"]] + [apikeys.create_key(setup["centre"], f"Khóa {i}")[1]
                             for i in range(7)]

    def send(chunk: int) -> list[dict[str, Any]]:
        body = {"tokens": [dossier(chunk * 20 + i) for i in range(20)]}
        response = post(app.test_client(), body, keys[chunk % 8])
        assert response.status_code == 201, response.json
        return list(response.json["tokens"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = [t for batch in pool.map(send, range(16)) for t in batch]
    # Without the row lock, overlapping batches read the same counter: lost updates.
    assert len(got) == 320 and sum(t["selected"] for t in got) == 80
    assert db.session.scalar(select(TokenSampler.counter)) == 320

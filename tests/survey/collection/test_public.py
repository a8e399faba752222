"""Citizen pages: answering through a desk link, a kiosk and a one-time token;
idempotency, bad input, privacy, gaming flags, outages."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import links, submission
from survey.models import Answer, DossierToken, Response
from survey.org.services import units
from tests.conftest import make_app, twin_context
from tests.survey.collection.points import first_page, sid

DESK_OK = {"muc_do_hai_long": "1", "tong_thoi_gian": "2", "mot_cua": "1", "gop_y": "Tốt lắm"}


def n_responses(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


@pytest.fixture
def desk(db: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                        "sector": "administrative", "code": "99"})
    point = units.create_point(province, "Quầy số 1")
    point.questionnaire_key = "desk_rating"
    point.kiosk_pin_hash = generate_password_hash("2468")
    db.session.commit()
    sipas_point = units.create_point(province, "Điểm khảo sát SIPAS")
    sipas_point.questionnaire_key = "sipas_2023"
    db.session.commit()
    return {"unit": province, "point": point, "link": links.create_link(point),
            "kiosk": links.create_link(point, "kiosk"), "sipas": links.create_link(sipas_point)}


def test_desk_page_renders_accessibly(client: Any, desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)
    assert url.endswith("/p/1")
    assert '<html lang="vi">' in html and "Phiếu đánh giá" in html
    assert "<fieldset" in html and "<legend>" in html and 'type="radio"' in html
    assert "không lưu địa chỉ IP" in html.replace("\n", " ") or "địa chỉ IP" in html
    assert "Tỉnh Thử · Quầy số 1" in html
    assert "<script" not in html and "http://" not in html.split("</head>")[0].replace(
        'http-equiv', '')


def test_submit_stores_one_anonymous_response(client: Any, db: Any, desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)
    data = {**DESK_OK, "submission_id": sid(html)}
    response = client.post(url, data=data, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    assert "Cảm ơn" in client.get(response.headers["Location"]).get_data(as_text=True)
    stored = db.session.scalars(select(Response)).all()
    assert len(stored) == 1
    row = stored[0]
    assert (row.channel, row.unit_id, row.service_point_id, row.link_id) == (
        "desk_qr", desk["unit"].id, desk["point"].id, desk["link"].id)
    assert (row.questionnaire_key, row.questionnaire_version) == ("desk_rating", 1)
    assert row.ip_hash and "203.0.113.9" not in row.ip_hash and len(row.ip_hash) == 64
    assert row.device_hash and row.review_status in ("ok", "flagged")
    answers = {a.item_id: (a.value_num, a.value_text) for a in row.answers}
    assert answers["muc_do_hai_long"] == (1.0, None) and answers["gop_y"] == (None, "Tốt lắm")
    # a double tap / network retry with the same submission id stores nothing more
    again = client.post(url, data=data)
    assert again.status_code == 302 and n_responses(db) == 1


def test_missing_and_invalid_answers_are_explained_and_write_nothing(
        client: Any, db: Any, desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)
    response = client.post(url, data={"submission_id": sid(html), "tong_thoi_gian": "2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Vui lòng trả lời câu hỏi này." in page
    assert 'role="alert"' in page and 'href="#q-muc_do_hai_long"' in page
    assert 'value="2" checked' in page  # the answer given is kept
    bad = client.post(url, data={"submission_id": sid(html), "muc_do_hai_long": "9",
                                 "tong_thoi_gian": "7"})
    assert "Lựa chọn không hợp lệ." in bad.get_data(as_text=True)
    long_text = client.post(url, data={**DESK_OK, "gop_y": "x" * 5000,
                                       "submission_id": sid(html)})
    assert "dài quá" in long_text.get_data(as_text=True)
    assert n_responses(db) == 0 and db.session.scalar(
        select(func.count()).select_from(Answer)) == 0


def test_english_form(client: Any, desk: dict[str, Any]) -> None:
    client.get("/lang/en")
    _, html = first_page(client, "q", desk["link"].token)
    assert '<html lang="en">' in html and "one-stop" in html


def test_unknown_revoked_and_inactive_links(client: Any, db: Any, desk: dict[str, Any]) -> None:
    for url in ("/q/does-not-exist", "/q/" + "x" * 100, f"/k/{desk['link'].token}",
                f"/q/{desk['kiosk'].token}"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Đường dẫn khảo sát không hợp lệ" in response.get_data(as_text=True)
    links.revoke_link(desk["link"])
    assert client.get(f"/q/{desk['link'].token}").status_code == 404
    assert client.post(f"/q/{desk['link'].token}/p/1", data=DESK_OK).status_code == 404
    assert n_responses(db) == 0


def test_honeypot_pretends_success_and_stores_nothing(client: Any, db: Any,
                                                      desk: dict[str, Any]) -> None:
    url, html = first_page(client, "q", desk["link"].token)
    response = client.post(url, data={**DESK_OK, "submission_id": sid(html),
                                      "website": "http://spam.example"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    assert n_responses(db) == 0


def test_multi_page_sipas_keeps_answers_and_skips_hidden_pages(
        client: Any, db: Any, desk: dict[str, Any]) -> None:
    from survey.collection.services import flow

    defn = questionnaire_versions.definition_of(
        questionnaire_versions.latest_published("sipas_2023"))
    screens = flow.screens(defn)
    screen_of = {i.id: s.number for s in screens for i in s.items}
    service_block = {s.number for s in screens if s.page == 4}  # after the filter question
    assert len(screens) > len(defn.pages)  # long pages are cut into screens
    assert max(len(s.items) for s in screens) <= flow.MAX_ITEMS_PER_SCREEN
    url, html = first_page(client, "q", desk["sipas"].token)
    base = url.rsplit("/", 1)[0]
    assert f"Trang 1 / {len(screens)}" in html
    given = {"gioi_tinh": "1", "c8_thu_tuc_hanh_chinh": "false", "c9_01": "4", "c9_02": "5"}
    visited, page = [], 1
    r = client.post(url, data={"submission_id": sid(html), "gioi_tinh": "1"})
    back = client.get(f"{base}/1").get_data(as_text=True)  # going back keeps the answer
    assert re.search(r'name="gioi_tinh" value="1" checked', back)
    while True:
        visited.append(page)
        location = r.headers["Location"]
        if location.endswith("/thanks"):
            break
        page = int(location.rsplit("/", 1)[1])
        assert page > visited[-1]
        here = {i.id for i in flow.page_items(defn, page)}
        label = client.get(f"{base}/{page}").get_data(as_text=True)
        assert f"Trang {page} / {len(screens)}" in label  # the total never changes
        r = client.post(f"{base}/{page}", data={k: v for k, v in given.items() if k in here})
    # no administrative procedure: every screen of the service block is skipped
    assert not service_block & set(visited)
    assert screen_of["c8_thu_tuc_hanh_chinh"] in visited and screen_of["c9_01"] in visited
    row = db.session.scalar(select(Response))
    answers = {a.item_id: a.value_num for a in row.answers}
    assert answers == {"gioi_tinh": 1.0, "c8_thu_tuc_hanh_chinh": 0.0, "c9_01": 4.0,
                       "c9_02": 5.0}


def test_kiosk_resets_and_exits_with_pin(client: Any, db: Any, desk: dict[str, Any]) -> None:
    key = desk["kiosk"].token
    url, html = first_page(client, "k", key)
    assert 'http-equiv="refresh"' in html and f"/k/{key}?reset=1" in html
    client.post(url, data={"submission_id": sid(html), "tong_thoi_gian": "2"})  # incomplete
    url2, html2 = first_page(client, "k", key)  # next respondent: nothing carried over
    assert 'value="2" checked' not in html2 and sid(html2) != sid(html)
    done = client.post(url2, data={**DESK_OK, "submission_id": sid(html2)})
    thanks = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in thanks and db.session.scalar(select(Response)).channel == \
        "kiosk"
    wrong = client.post(f"/k/{key}/exit", data={"pin": "0000"})
    assert "Sai mã PIN." in wrong.get_data(as_text=True)
    right = client.post(f"/k/{key}/exit", data={"pin": "2468"})
    assert "Đã kết thúc chế độ kiosk" in right.get_data(as_text=True)


def _token(db: Any, desk: dict[str, Any], **values: Any) -> str:
    secret = links.new_secret()
    db.session.add(DossierToken(unit_id=desk["unit"].id, service_point_id=desk["point"].id,
                                token_hash=links.hash_secret(secret), dossier_hash="a" * 64,
                                selection_probability=0.25, **values))
    db.session.commit()
    return secret


def test_one_time_token(client: Any, db: Any, desk: dict[str, Any]) -> None:
    secret = _token(db, desk, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    url, html = first_page(client, "t", secret)
    assert client.post(url, data={**DESK_OK, "submission_id": sid(html)}).status_code == 302
    row = db.session.scalar(select(Response))
    assert row.channel == "token" and row.selection_probability == 0.25
    assert db.session.scalar(select(DossierToken)).used_at is not None
    again = client.get(f"/t/{secret}")
    assert again.status_code == 200 and "đã được trả lời" in again.get_data(as_text=True)
    unknown = client.get("/t/unknown-secret")
    assert unknown.status_code == 404
    assert "Đường dẫn khảo sát không hợp lệ" in unknown.get_data(as_text=True)
    assert n_responses(db) == 1


def test_expired_token(client: Any, db: Any, desk: dict[str, Any]) -> None:
    secret = _token(db, desk, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    response = client.get(f"/t/{secret}")
    assert response.status_code == 410 and "hết hạn" in response.get_data(as_text=True)
    assert client.get(f"/t/{secret}/p/1").status_code == 410
    assert client.post(f"/t/{secret}/p/1", data=DESK_OK).status_code == 410
    assert n_responses(db) == 0


def test_database_outage_gives_retry_page_and_loses_nothing_silently(
        client: Any, db: Any, desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url, html = first_page(client, "q", desk["link"].token)

    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(submission, "submit", down)
    response = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "chưa được lưu" in page and 'name="muc_do_hai_long" value="1"' in page
    assert n_responses(db) == 0
    monkeypatch.undo()
    retry = client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    assert retry.status_code == 302 and n_responses(db) == 1


def test_bursts_from_one_device_are_flagged(client: Any, db: Any, desk: dict[str, Any]) -> None:
    for _ in range(3):
        url, html = first_page(client, "q", desk["link"].token)
        client.post(url, data={**DESK_OK, "submission_id": sid(html)})
    rows = db.session.scalars(select(Response).order_by(Response.id)).all()
    assert len(rows) == 3
    assert all(r.review_status == "flagged" for r in rows)
    assert "burst_device" in rows[-1].flags and "identical_burst" in rows[-1].flags
    assert not any(r.counts_in_indices for r in rows)
    counted = select(func.count()).select_from(Response).where(Response.counts_in_indices)
    assert db.session.scalar(counted) == 0
    rows[0].review_status = "accepted"
    db.session.commit()
    assert db.session.scalar(counted) == 1


def test_request_too_large(database_url: str, tmp_path: Path, _schema: None) -> None:
    app = make_app(database_url, tmp_path / "i", PUBLIC_MAX_CONTENT_LENGTH=1000)
    with twin_context(app):
        response = app.test_client().post("/q/x/p/1", data={"gop_y": "x" * 5000})
        assert response.status_code == 413
        assert "quá lớn" in response.get_data(as_text=True)
        assert db_count() == 0


def db_count() -> int:
    from survey.extensions import db

    return n_responses(db)


@pytest.mark.real_commits
def test_rate_limit_keys_on_link_and_device(database_url: str, tmp_path: Path,
                                            _schema: None, db: Any) -> None:
    app = make_app(database_url, tmp_path / "i", RATELIMIT_ENABLED=True,
                   SUBMIT_RATE_LIMIT="3 per minute")
    with twin_context(app):
        questionnaire_versions.sync()
        unit = units.create_unit(None, {"name": "T", "kind": "province",
                                        "sector": "administrative"})
        link = links.create_link(units.create_point(unit, "Q"))
        phone_a, phone_b = app.test_client(), app.test_client()
        codes = [phone_a.post(f"/q/{link.token}/p/1", data={}).status_code for _ in range(4)]
        other = phone_b.post(f"/q/{link.token}/p/1", data={}).status_code
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert other == 200  # another phone behind the same address is not locked out


def test_csrf_protects_citizen_forms(database_url: str, tmp_path: Path, _schema: None) -> None:
    app = make_app(database_url, tmp_path / "i", WTF_CSRF_ENABLED=True)
    with twin_context(app):
        questionnaire_versions.sync()
        unit = units.create_unit(None, {"name": "T", "kind": "province",
                                        "sector": "administrative"})
        link = links.create_link(units.create_point(unit, "Q"))
        client = app.test_client()
        assert client.post(f"/q/{link.token}/p/1", data=DESK_OK).status_code == 400
        html = client.get(f"/q/{link.token}/p/1").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        ok = client.post(f"/q/{link.token}/p/1", data={**DESK_OK, "csrf_token": token,
                                                       "submission_id": sid(html)})
        assert ok.status_code == 302


@pytest.mark.parametrize("key", ["desk", "sipas"])
def test_page_weight_under_30_kb(client: Any, desk: dict[str, Any], key: str) -> None:
    link = desk["link"] if key == "desk" else desk["sipas"]
    url, html = first_page(client, "q", link.token)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert stylesheet, "the citizen page links no stylesheet"
    with client.get(stylesheet.group(1)) as served:
        assert served.status_code == 200 and served.mimetype == "text/css"
        css = served.get_data()
    weight = len(gzip.compress(html.encode())) + len(gzip.compress(css))
    assert weight <= 30 * 1024, weight

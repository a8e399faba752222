"""Bad input on every public form and API endpoint: a 4xx with a clear message, nothing
written, never a 500 (issue 11). Named cases first (each failed before its fix), then a
generator (hypothesis) sending NUL bytes, lone surrogates, huge integers, nested JSON
and wrong types to the citizen pages, the kiosk exit, the sign-in form and the API."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from survey.authoring.services import versions as questionnaire_versions
from survey.collection.services import apikeys, links
from survey.extensions import db as _db
from survey.models import Answer, AuditLog, DossierToken, Response
from survey.org.services import units
from tests.survey.collection.points import first_page, sid

DESK_OK = {"muc_do_hai_long": "1", "tong_thoi_gian": "2", "mot_cua": "1", "gop_y": "Tốt lắm"}
NOW = "2026-11-20T14:30:00+07:00"
FORM = "application/x-www-form-urlencoded"


def count(model: Any) -> int:
    return int(_db.session.scalar(select(func.count()).select_from(model)))


def written() -> tuple[int, ...]:
    return count(Response), count(Answer), count(DossierToken), count(AuditLog)


@pytest.fixture
def site(db: Any, make_user: Any) -> dict[str, Any]:
    questionnaire_versions.sync()
    province = units.create_unit(None, {"name": "Tỉnh Thử", "kind": "province",
                                        "sector": "administrative", "code": "99"})
    point = units.create_point(province, "Quầy số 1")
    point.questionnaire_key = "desk_rating"
    point.kiosk_pin_hash = generate_password_hash("2468")
    clinic = units.create_point(province, "Phòng khám")
    clinic.questionnaire_key = "health_outpatient"  # every item optional
    db.session.commit()
    make_user("quantri", "administrator", province)
    _key, full = apikeys.create_key(province, "Một cửa")
    return {"unit": province, "link": links.create_link(point).token,
            "kiosk": links.create_link(point, "kiosk").token,
            "clinic": links.create_link(clinic).token, "api_key": full,
            "point_id": point.id}


def post_form(client: Any, url: str, pairs: list[tuple[str, str]]) -> Any:
    """URL-encoded as a browser would, lone surrogates included (as their UTF-8 bytes)."""
    body = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    return client.post(url, data=body, content_type=FORM)


def api(client: Any, body: Any, key: str | None, path: str = "/api/v1/tokens") -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, headers=headers, content_type="application/json")


def dossier(**extra: Any) -> dict[str, Any]:
    return {"dossier_hash": "e" * 64, "procedure_field": "Hộ tịch", "channel": "direct",
            "completed_at": NOW, **extra}


# --- named cases ------------------------------------------------------------------------
def test_nul_bytes_anywhere_are_a_400_that_writes_nothing(
        client: Any, site: dict[str, Any], login: Any) -> None:
    url, html = first_page(client, "q", site["link"])
    before = written()
    answers = {**DESK_OK, "submission_id": sid(html)}
    cases = [
        client.get("/q/ab%00cd"), client.get("/q/ab%00cd/p/1"),
        client.get(f"/q/{site['link']}?reset=%00"),
        post_form(client, url, [*answers.items(), ("gop_y", "a\x00b")]),
        post_form(client, url, [*{**answers, "gop_y": "Tốt\x00"}.items()]),
        post_form(client, f"/k/{site['kiosk']}/exit", [("pin", "24\x0068")]),
        post_form(client, "/login", [("username", "quan\x00tri"), ("password", "x")]),
    ]
    for got in cases:
        page = got.get_data(as_text=True)
        assert got.status_code == 400, (got.request.path, got.status_code)
        assert "không được phép" in page, page[-400:]
    login("quantri")
    for path in ("/staff/units?q=%00", "/staff/units?kind=%00&sector=x",
                 "/staff/collection?q=a%00"):
        assert client.get(path).status_code == 400, path
    for path in ("/staff/units?page=" + "9" * 20, "/staff/units/" + "9" * 20,
                 "/staff/collection?page=" + "9" * 20):  # past 64 bits: SQLite's driver
        assert client.get(path).status_code in (400, 404), path
    got = api(client, dossier(procedure_field="Hộ\x00 tịch"), site["api_key"])
    assert got.status_code == 400 and got.json["error"]["code"] == "bad_input"
    assert "NUL" in got.json["error"]["message_en"]
    assert written() == before


def test_lone_surrogates_and_deep_json_are_refused(client: Any, site: dict[str, Any]) -> None:
    before = written()
    # json.dumps writes the lone surrogate as the escape \ud800, as a careless client would
    raw = json.dumps(dossier(procedure_field="\ud800"))
    assert "\\ud800" in raw
    got = api(client, raw, site["api_key"])
    assert got.status_code == 400 and got.json["error"]["code"] == "bad_input"
    for depth in (40, 100_000):  # past the limit; past Python's recursion limit
        got = api(client, "[" * depth + "]" * depth, site["api_key"])
        assert got.status_code == 400, depth
        assert "nested" in got.json["error"]["message_en"]
    # A surrogate in a form arrives as invalid UTF-8: replaced, never a 500.
    url, html = first_page(client, "q", site["link"])
    got = post_form(client, url, [*DESK_OK.items(), ("submission_id", sid(html)),
                                  ("gop_y", "a\ud800b")])
    assert got.status_code in (302, 400)
    assert written()[2:] == before[2:]


def test_api_integers_out_of_range_and_times_before_year_one(
        client: Any, site: dict[str, Any]) -> None:
    before = written()
    for point in (2**40, -1, 0, 2**63):
        got = api(client, dossier(service_point_id=point), site["api_key"])
        assert got.status_code == 422, (point, got.json)
        assert got.json["error"]["field"] == "service_point_id"
    for when in ("0001-01-01T00:00:00+07:00", "0001-01-01T05:00:00+14:00", "1899-12-31T00:00Z",
                 "9999-12-31T23:59:59-12:00", "not a time", "2026-02-30T10:00:00+07:00"):
        for _resend in range(2):  # a resend gets the same answer, not a 500
            got = api(client, {"tokens": [dossier(), dossier(dossier_hash="f" * 64,
                                                            completed_at=when)]},
                      site["api_key"])
            assert got.status_code == 422, (when, got.json)
            assert got.json["error"]["field"] == "tokens[1].completed_at"
    assert written() == before  # the batch is atomic: its good first item was not stored


def test_honeypot_sent_twice_stores_nothing(client: Any, site: dict[str, Any]) -> None:
    url, html = first_page(client, "q", site["link"])
    got = post_form(client, url, [*DESK_OK.items(), ("submission_id", sid(html)),
                                  ("website", ""), ("website", "http://spam.example")])
    assert got.status_code == 302 and got.headers["Location"].endswith("/thanks")
    assert count(Response) == 0


def test_a_blank_response_to_an_all_optional_form_is_refused(
        client: Any, site: dict[str, Any]) -> None:
    url, _html = first_page(client, "q", site["clinic"])
    base = url.rsplit("/", 1)[0]
    page, got = 1, None
    for _ in range(10):
        got = client.post(f"{base}/{page}", data={})
        if got.status_code != 302:
            break
        page = int(got.headers["Location"].rsplit("/", 1)[1]) if "/p/" in \
            got.headers["Location"] else page
    assert got is not None and got.status_code == 200
    assert "Vui lòng trả lời ít nhất một câu hỏi trước khi gửi." in got.get_data(as_text=True)
    assert count(Response) == 0


# --- the generator ----------------------------------------------------------------------
NASTY = st.sampled_from([
    "\x00", "a\x00b", "\ud800", "x\udfffy", "", " ", "x" * 5000, str(2**40), str(2**63),
    "-1", "1e999", "NaN", "0", "9" * 400, "' OR 1=1 --", "<script>alert(1)</script>",
    "%00", "../../etc/passwd", "１２３", "\u202e", "true", "[]", "{}",
    "0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-12:00", "2026-11-20T14:30:00",
])
TEXT = st.one_of(NASTY, st.text(max_size=40))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                   st.sampled_from([2**31, 2**40, -2**63, 2**64]),
                   st.floats(allow_nan=False), TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
TOKEN_FIELDS = ("dossier_hash", "procedure_field", "channel", "completed_at",
                "service_point_id", "questionnaire_key", "dossier_code")
TOKEN_BODY = st.one_of(
    JSON,
    st.fixed_dictionaries({}, optional={k: JSON for k in TOKEN_FIELDS}),
    st.builds(lambda items: {"tokens": items},
              st.lists(st.fixed_dictionaries({}, optional={k: JSON for k in TOKEN_FIELDS}),
                       max_size=3)),
    st.integers(min_value=1, max_value=60).map(lambda d: "[" * d + "]" * d),
)
HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
# A valid dossier with one field made nasty: the value reaches validation and, if that
# lets it through, the database.
MUTATED_DOSSIER = st.builds(lambda h, field, value: {**dossier(dossier_hash=h), field: value},
                            HEX64, st.sampled_from(TOKEN_FIELDS[1:5]),
                            st.one_of(NASTY, SCALAR, JSON))
SUBMISSION_ID = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=8,
                        max_size=64)
# A complete desk answer with one value made nasty, under a fresh submission id.
MUTATED_ANSWER = st.builds(
    lambda sub, field, value: [*{**DESK_OK, field: value}.items(), ("submission_id", sub)],
    SUBMISSION_ID, st.sampled_from(sorted(DESK_OK)), TEXT)
FIELDS = st.sampled_from(["muc_do_hai_long", "tong_thoi_gian", "mot_cua", "gop_y",
                          "submission_id", "website", "pin", "csrf_token", "username",
                          "password", "remember", "x\x00y", "\ud800"])
PAIRS = st.lists(st.tuples(FIELDS, TEXT), max_size=8)
FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _refused_writes_nothing(got: Any, before: tuple[int, ...]) -> None:
    assert got.status_code < 500, (got.request.path, got.status_code,
                                   got.get_data(as_text=True)[:300])
    if got.status_code >= 400:
        assert written() == before, got.request.path


@FUZZ
@given(target=st.sampled_from(["q", "k", "exit", "login", "key"]),
       pairs=st.one_of(PAIRS, MUTATED_ANSWER), key=TEXT)
def test_fuzz_public_forms(client: Any, site: dict[str, Any], target: str,
                           pairs: list[tuple[str, str]], key: str) -> None:
    url = {"q": f"/q/{site['link']}/p/1", "k": f"/k/{site['kiosk']}/p/1",
           "exit": f"/k/{site['kiosk']}/exit", "login": "/login",
           "key": f"/q/{quote(key.encode('utf-8', 'surrogatepass'), safe='')}/p/1"}[target]
    before = written()
    _refused_writes_nothing(post_form(client, url, pairs), before)
    query = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    _refused_writes_nothing(client.get(f"{url}?{query}"), before)


@FUZZ
@given(body=st.one_of(TOKEN_BODY, MUTATED_DOSSIER),
       path=st.sampled_from(["/api/v1/tokens", "/api/v1/transactions"]),
       keyed=st.booleans())
def test_fuzz_api(client: Any, site: dict[str, Any], body: Any, path: str,
                  keyed: bool) -> None:
    before = written()
    got = api(client, body, site["api_key"] if keyed else None, path)
    _refused_writes_nothing(got, before)
    assert got.is_json and ("error" in got.json) == (got.status_code >= 400)

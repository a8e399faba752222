"""The read-only results API: a unit's key reads published snapshots of its subtree; the
read_results permission adds unpublished snapshots and suppressed figures; 401 without a
key, 403 outside the subtree, 404 unknown, 400 for a bad filter, JSON errors throughout."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from survey.collection.services import apikeys
from survey.common.access import Scope
from survey.models import ApiKey, ServicePoint, Unit, User
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import api_read, publication
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


@pytest.fixture
def api(db: Any, two_months: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    root = two_months["root"]
    commune = db.session.get(Unit, db.session.get(ServicePoint, two_months["points"][1]).unit_id)
    other = db.session.get(Unit, db.session.get(ServicePoint, two_months["points"][2]).unit_id)
    _row, province_key = apikeys.create_key(root, "Cổng dữ liệu tỉnh")
    _row, commune_key = apikeys.create_key(commune, "Hệ thống một cửa xã 1")
    snaps = {s.period: s for s in db.session.scalars(select(ResultSnapshot))}
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    publication.set_published(admin, snaps["2026-10"].id, True, "tinh")
    return {"root": root, "commune": commune, "other": other, "province": province_key,
            "commune_key": commune_key, "oct": snaps["2026-10"], "sep": snaps["2026-09"],
            **two_months}


def _get(client: Any, path: str, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(f"/api/v1{path}", headers=headers)


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json
    body = response.get_json()["error"]
    assert body["message"] and body["message_en"]
    if code:
        assert body["code"] == code
    return body


def test_without_a_valid_key_every_endpoint_is_401(client: Any, api: dict[str, Any]) -> None:
    for path in ("/snapshots", f"/snapshots/{api['oct'].id}",
                 f"/snapshots/{api['oct'].id}/results", "/units",
                 f"/units/{api['root'].id}/results"):
        _error(_get(client, path), 401, "unauthorized")
        _error(_get(client, path, "0123456789ab.wrong"), 401, "unauthorized")


def test_a_key_lists_published_snapshots_only(client: Any, api: dict[str, Any]) -> None:
    body = _get(client, "/snapshots", api["province"]).get_json()
    assert [s["id"] for s in body["snapshots"]] == [api["oct"].id]
    assert body["total"] == 1 and body["page"] == 1
    assert body["snapshots"][0]["published"] is True
    assert body["snapshots"][0]["period"] == "2026-10"
    body = _error(_get(client, f"/snapshots/{api['sep'].id}", api["province"]), 404, "not_found")
    assert "may not read" in body["message_en"] and "không được đọc" in body["message"]
    _error(_get(client, f"/snapshots/{api['sep'].id}/results", api["province"]), 404)
    _error(_get(client, "/snapshots/999999", api["province"]), 404)
    _error(_get(client, "/snapshots/99999999999999999999", api["province"]), 404)


def test_read_results_adds_unpublished_snapshots_and_suppressed_figures(
        client: Any, db: Any, api: dict[str, Any]) -> None:
    prefix = api["province"].split(".")[0]
    rows = _get(client, f"/snapshots/{api['oct'].id}/results?unit={api['other'].id}",
                api["province"]).get_json()["results"]
    hidden = [r for r in rows if r["publication"] == "suppress"]
    assert hidden and all(r["estimate"] is None and r["ci_low"] is None for r in hidden)
    api_read.set_read_results(prefix, True)
    assert db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)).read_results
    body = _get(client, "/snapshots", api["province"]).get_json()
    assert {s["id"] for s in body["snapshots"]} == {api["oct"].id, api["sep"].id}
    assert _get(client, f"/snapshots/{api['sep'].id}", api["province"]).status_code == 200
    rows = _get(client, f"/snapshots/{api['oct'].id}/results?unit={api['other'].id}",
                api["province"]).get_json()["results"]
    shown = {(r["node"], r["basis"]): r for r in rows}
    for r in hidden:
        same = shown[(r["node"], r["basis"])]
        stored = db.session.scalar(select(ResultRow).where(
            ResultRow.snapshot_id == api["oct"].id, ResultRow.unit_id == api["other"].id,
            ResultRow.domain == "unit", ResultRow.node == r["node"],
            ResultRow.basis == r["basis"]))
        assert same["estimate"] == stored.estimate


def test_set_read_results_refuses_an_unknown_key(db: Any, api: dict[str, Any]) -> None:
    from survey.common.errors import ServiceError

    with pytest.raises(ServiceError, match="tiền tố"):
        api_read.set_read_results("ffffffffffff", True)


def test_the_cli_grants_read_results(runner: Any, db: Any, api: dict[str, Any]) -> None:
    prefix = api["commune_key"].split(".")[0]
    out = runner.invoke(args=["results", "api-key", prefix])
    assert out.exit_code == 0 and "read_results = True" in out.output
    assert db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)).read_results
    assert runner.invoke(args=["results", "api-key", "nope"]).exit_code != 0


def test_results_match_the_snapshot_rows(client: Any, db: Any, api: dict[str, Any]) -> None:
    body = _get(client, f"/snapshots/{api['oct'].id}/results?unit={api['commune'].id}"
                        "&basis=open", api["province"]).get_json()
    stored = {(r.node, r.domain): r for r in db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == api["oct"].id, ResultRow.unit_id == api["commune"].id,
        ResultRow.basis == "open", ResultRow.domain.in_(("unit", "point"))))}
    assert body["snapshot_id"] == api["oct"].id
    assert {(r["node"], r["domain"]) for r in body["results"]} <= set(stored)
    assert any(r["domain"] == "unit" for r in body["results"])
    for r in body["results"]:
        row = stored[(r["node"], r["domain"])]
        if row.publication != "suppress":
            assert (r["estimate"], r["ci_low"], r["ci_high"], r["n"]) == (
                row.estimate, row.ci_low, row.ci_high, row.n)
        assert r["probability"] is False and r["basis"] == "open"
    node = body["results"][0]["node"]
    only = _get(client, f"/snapshots/{api['oct'].id}/results?node={node}&domain=unit",
                api["province"]).get_json()["results"]
    assert only and {r["node"] for r in only} == {node} and {r["domain"] for r in only} == {
        "unit"}


def test_a_commune_key_sees_its_subtree_only(client: Any, api: dict[str, Any]) -> None:
    key = api["commune_key"]
    units = _get(client, "/units", key).get_json()["units"]
    assert [u["id"] for u in units] == [api["commune"].id]
    everything = _get(client, "/units", api["province"]).get_json()["units"]
    assert everything[0]["id"] == api["root"].id and everything[0]["depth"] == 0
    assert {api["commune"].id, api["other"].id} <= {u["id"] for u in everything}
    rows = _get(client, f"/snapshots/{api['oct'].id}/results", key).get_json()["results"]
    assert rows and {r["unit_id"] for r in rows} == {api["commune"].id}
    assert all(r["domain"] != "sector" for r in rows)  # sectors: province keys only
    _error(_get(client, f"/snapshots/{api['oct'].id}/results?unit={api['other'].id}", key),
           403, "forbidden")
    _error(_get(client, f"/units/{api['other'].id}/results", key), 403, "forbidden")
    _error(_get(client, f"/units/{api['root'].id}/results", key), 403)
    _error(_get(client, "/units/99999999/results", key), 404)


def test_a_unit_snapshot_outside_the_key_is_403(client: Any, db: Any,
                                                api: dict[str, Any]) -> None:
    other = ResultSnapshot(period="2026-10", period_start=api["oct"].period_start,
                           period_end=api["oct"].period_end, status="done", published=True,
                           scope_unit_id=api["other"].id)
    db.session.add(other)
    db.session.commit()
    _error(_get(client, f"/snapshots/{other.id}", api["commune_key"]), 403)
    assert _get(client, f"/snapshots/{other.id}", api["province"]).status_code == 200


def test_a_units_latest_results(client: Any, api: dict[str, Any]) -> None:
    body = _get(client, f"/units/{api['commune'].id}/results", api["commune_key"]).get_json()
    assert body["unit"]["id"] == api["commune"].id and body["snapshot"]["id"] == api["oct"].id
    assert body["results"] and {r["unit_id"] for r in body["results"]} == {api["commune"].id}
    assert {r["domain"] for r in body["results"]} == {"unit"}
    tokens = _get(client, f"/units/{api['commune'].id}/results?basis=tokens",
                  api["commune_key"]).get_json()["results"]
    assert all(r["basis"] == "tokens" for r in tokens)


@pytest.mark.parametrize("query, field", [
    ("unit=abc", "unit"), ("sector=space", "sector"), ("basis=phone", "basis"),
    ("node=a%20b", "node"), ("domain=world", "domain"), ("colour=red", "colour")])
def test_bad_filters_are_400(client: Any, api: dict[str, Any], query: str, field: str) -> None:
    body = _error(_get(client, f"/snapshots/{api['oct'].id}/results?{query}", api["province"]),
                  400, "bad_filter")
    assert body["field"] == field


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("page=x", "page"), ("per_page=201", "per_page"), ("q=1", "q")])
def test_bad_paging_is_400(client: Any, api: dict[str, Any], query: str, field: str) -> None:
    assert _error(_get(client, f"/snapshots?{query}", api["province"]), 400)["field"] == field


def test_paging(client: Any, db: Any, api: dict[str, Any]) -> None:
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    publication.set_published(admin, api["sep"].id, True, "tinh")
    first = _get(client, "/snapshots?per_page=1", api["province"]).get_json()
    second = _get(client, "/snapshots?per_page=1&page=2", api["province"]).get_json()
    past = _get(client, "/snapshots?per_page=1&page=3", api["province"]).get_json()
    assert first["total"] == second["total"] == 2
    assert [s["id"] for s in first["snapshots"] + second["snapshots"]] == [
        api["oct"].id, api["sep"].id]
    assert past["snapshots"] == []


def test_a_revoked_key_reads_nothing(client: Any, db: Any, api: dict[str, Any]) -> None:
    key = db.session.scalar(select(ApiKey).where(
        ApiKey.prefix == api["province"].split(".")[0]))
    apikeys.revoke_key(key)
    _error(_get(client, "/snapshots", api["province"]), 401)

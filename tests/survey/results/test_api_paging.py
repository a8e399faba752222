"""Paging of the results API: ``limit`` (default 500, at most 5000) rows from ``offset``,
in a stable order; ``total``, ``next`` and an RFC 8288 Link header; a bad paging value is
a 400 naming the parameter."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from survey.results.views import api_results
from tests.survey.results.test_api_results import _error, _get, api  # noqa: F401
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


def _relative(url: str) -> str:
    """``http://localhost/api/v1/x?y`` → ``/x?y`` (what ``_get`` takes)."""
    parts = urlsplit(url)
    assert parts.path.startswith("/api/v1/")
    return parts.path.removeprefix("/api/v1") + (f"?{parts.query}" if parts.query else "")


def _walk(client: Any, path: str, key: str) -> tuple[list[dict[str, Any]], int]:
    """Every page from ``path`` on, following ``next``; the rows and the number of pages."""
    rows: list[dict[str, Any]] = []
    pages = 0
    while path:
        response = _get(client, path, key)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        body = response.get_json()
        pages += 1
        assert body["offset"] == len(rows)
        rows += body["results"]
        assert body["total"] >= len(rows)
        if body["next"] is None:
            assert "Link" not in response.headers
            assert len(rows) == body["total"]
            break
        assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        assert len(body["results"]) == body["limit"]
        path = _relative(body["next"])
        assert pages < 1000
    return rows, pages


def _identity(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["domain"], row["unit_id"], row["unit_name"], row["basis"],
            row["questionnaire"], row["node"])


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_walking_every_page_gives_every_row_once(client: Any, api: dict[str, Any],  # noqa: F811
                                                 limit: int) -> None:
    path = f"/snapshots/{api['oct'].id}/results"
    whole = _get(client, path, api["province"]).get_json()
    assert whole["limit"] == api_results.DEFAULT_LIMIT and whole["offset"] == 0
    assert whole["next"] is None and whole["total"] == len(whole["results"])
    assert whole["total"] > 50  # so that every limit here gives several pages
    rows, pages = _walk(client, f"{path}?limit={limit}", api["province"])
    assert rows == whole["results"]  # same rows, same order: no loss, no duplicate
    assert len({_identity(r) for r in rows}) == len(rows)
    assert pages == -(-whole["total"] // limit)


def test_filters_are_kept_from_page_to_page(client: Any, api: dict[str, Any]) -> None:  # noqa: F811
    path = f"/snapshots/{api['oct'].id}/results?domain=unit&basis=tokens"
    whole = _get(client, path, api["province"]).get_json()["results"]
    assert whole and {(r["domain"], r["basis"]) for r in whole} == {("unit", "tokens")}
    first = _get(client, f"{path}&limit=3", api["province"]).get_json()
    query = parse_qs(urlsplit(first["next"]).query)
    assert query == {"domain": ["unit"], "basis": ["tokens"], "limit": ["3"], "offset": ["3"]}
    rows, _pages = _walk(client, f"{path}&limit=3", api["province"])
    assert rows == whole


def test_a_units_results_are_paged_too(client: Any, api: dict[str, Any]) -> None:  # noqa: F811
    path = f"/units/{api['root'].id}/results"
    whole = _get(client, path, api["province"]).get_json()
    assert whole["total"] == len(whole["results"]) > 4
    first = _get(client, f"{path}?limit=4", api["province"]).get_json()
    assert first["unit"] == whole["unit"] and first["snapshot"] == whole["snapshot"]
    rows, pages = _walk(client, f"{path}?limit=4", api["province"])
    assert rows == whole["results"] and pages == -(-whole["total"] // 4)


def test_an_offset_past_the_end_is_an_empty_last_page(client: Any,
                                                      api: dict[str, Any]) -> None:  # noqa: F811
    path = f"/snapshots/{api['oct'].id}/results"
    total = _get(client, path, api["province"]).get_json()["total"]
    response = _get(client, f"{path}?offset={total + 10}", api["province"])
    body = response.get_json()
    assert body["results"] == [] and body["total"] == total and body["next"] is None
    assert "Link" not in response.headers


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=-1", "limit"), ("limit=5001", "limit"),
    ("limit=abc", "limit"), ("limit=1.5", "limit"), ("limit=", "limit"),
    ("limit=%C2%B2", "limit"), ("offset=-1", "offset"), ("offset=x", "offset"),
    ("offset=99999999999", "offset"), ("limit=10&offset=-5", "offset")])
def test_bad_paging_is_a_400_naming_the_parameter(client: Any, api: dict[str, Any],  # noqa: F811
                                                  query: str, field: str) -> None:
    for path in (f"/snapshots/{api['oct'].id}/results", f"/units/{api['root'].id}/results"):
        body = _error(_get(client, f"{path}?{query}", api["province"]), 400, "bad_filter")
        assert body["field"] == field
        high = "5000" if field == "limit" else str(api_results.MAX_OFFSET)
        assert field in body["message_en"] and high in body["message_en"]
        assert field in body["message"] and high in body["message"]


def test_the_largest_page_is_allowed(client: Any, api: dict[str, Any]) -> None:  # noqa: F811
    body = _get(client, f"/snapshots/{api['oct'].id}/results?limit=5000",
                api["province"]).get_json()
    assert body["limit"] == 5000 and body["next"] is None


def test_the_document_describes_paging(client: Any, api: dict[str, Any]) -> None:  # noqa: F811
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/snapshots/{snapshot_id}/results", "/units/{unit_id}/results"):
        op = doc["paths"][path]["get"]
        params = {p["name"]: p for p in op["parameters"]}
        assert params["limit"]["schema"]["maximum"] == api_results.MAX_LIMIT
        assert "default 500" in params["limit"]["description"]
        assert "offset" in params and "Link" in op["responses"]["200"]["headers"]
        assert "500" in op["description"]

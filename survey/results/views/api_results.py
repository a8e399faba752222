"""Read-only results API (``GET``, ``Authorization: Bearer <prefix>.<secret>``, a unit's
API key): snapshots, their results, the units of the key's subtree and a unit's latest
results. Which snapshots and figures a key reads: see
:mod:`survey.results.services.api_read`. The contract is the OpenAPI document at
``/api/v1/openapi.json``. Errors as elsewhere in the API
(``{"error": {"code", "message", "message_en", "field"}}``): 400 (a bad query parameter,
``field`` names it), 401 (key), 403 (outside the key's subtree), 404 (unknown), 429.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l

from survey.collection.services import apikeys
from survey.common.api import bp, error
from survey.extensions import limiter
from survey.results.services import api_read, openapi

MAX_PER_PAGE = 200


def _rate_key() -> str:
    prefix = apikeys.prefix_of(request.headers.get("Authorization"))
    return f"api-key:{prefix}" if prefix else f"api-ip:{request.remote_addr or 'unknown'}"


def _limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def _reader() -> api_read.Reader | None:
    key = apikeys.authenticate(request.headers.get("Authorization"))
    return api_read.Reader.of(key) if key is not None else None


def _unauthorized() -> tuple[Response, int]:
    return error(401, "unauthorized", _l("Missing, wrong or revoked API key."))


def _bad(field: str) -> tuple[Response, int]:
    return error(400, "bad_filter", _l("This query parameter is unknown or malformed."), field)


def _filters(allowed: tuple[str, ...]) -> dict[str, Any]:
    return api_read.parse_filters({k: v for k, v in request.args.items()}, allowed)


@bp.get("/snapshots")
@limiter.limit(_limit, key_func=_rate_key)
def api_snapshots() -> tuple[Response, int]:
    reader = _reader()
    if reader is None:
        return _unauthorized()
    args = {k: v for k, v in request.args.items()}
    numbers: dict[str, int] = {}
    for name, default, top in (("page", 1, 1_000_000), ("per_page", 50, MAX_PER_PAGE)):
        raw = args.pop(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            return _bad(name)
        numbers[name] = int(raw)
    if args:
        return _bad(sorted(args)[0])
    found, total = api_read.snapshots_page(reader, numbers["page"], numbers["per_page"])
    return jsonify({"snapshots": [api_read.snapshot_json(s) for s in found],
                    "page": numbers["page"], "per_page": numbers["per_page"],
                    "total": total}), 200


@bp.get("/snapshots/<int:snapshot_id>")
@limiter.limit(_limit, key_func=_rate_key)
def api_snapshot(snapshot_id: int) -> tuple[Response, int]:
    reader = _reader()
    if reader is None:
        return _unauthorized()
    if request.args:
        return _bad(sorted(request.args)[0])
    return jsonify({"snapshot": api_read.snapshot_json(
        api_read.snapshot(reader, snapshot_id))}), 200


@bp.get("/snapshots/<int:snapshot_id>/results")
@limiter.limit(_limit, key_func=_rate_key)
def api_snapshot_results(snapshot_id: int) -> tuple[Response, int]:
    reader = _reader()
    if reader is None:
        return _unauthorized()
    try:
        filters = _filters(("unit", "sector", "node", "basis", "domain"))
    except api_read.BadFilter as bad:
        return _bad(bad.field)
    snapshot = api_read.snapshot(reader, snapshot_id)
    rows = api_read.rows(reader, snapshot.id, filters)
    return jsonify({"snapshot_id": snapshot.id,
                    "results": [api_read.row_json(reader, r) for r in rows]}), 200


@bp.get("/units")
@limiter.limit(_limit, key_func=_rate_key)
def api_units() -> tuple[Response, int]:
    reader = _reader()
    if reader is None:
        return _unauthorized()
    if request.args:
        return _bad(sorted(request.args)[0])
    return jsonify({"units": [api_read.unit_json(u) for u in api_read.units(reader)]}), 200


@bp.get("/units/<int:unit_id>/results")
@limiter.limit(_limit, key_func=_rate_key)
def api_unit_results(unit_id: int) -> tuple[Response, int]:
    reader = _reader()
    if reader is None:
        return _unauthorized()
    try:
        filters = _filters(("node", "basis"))
    except api_read.BadFilter as bad:
        return _bad(bad.field)
    unit, snapshot, rows = api_read.latest_for_unit(reader, unit_id, filters)
    return jsonify({"unit": api_read.unit_json(unit),
                    "snapshot": api_read.snapshot_json(snapshot),
                    "results": [api_read.row_json(reader, r) for r in rows]}), 200


@bp.get("/openapi.json")
def api_openapi() -> tuple[Response, int]:
    """The OpenAPI 3.1 document of every /api/v1 endpoint (no key needed)."""
    return jsonify(openapi.document()), 200

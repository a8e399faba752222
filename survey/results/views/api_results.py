"""Read-only results API (``GET``, ``Authorization: Bearer <prefix>.<secret>``, a unit's
API key): snapshots, their results, the units of the key's subtree and a unit's latest
results. Which snapshots and figures a key reads: see
:mod:`survey.results.services.api_read`. The contract is the OpenAPI document at
``/api/v1/openapi.json``. Errors as elsewhere in the API
(``{"error": {"code", "message", "message_en", "field"}}``): 400 (a bad query parameter,
``field`` names it), 401 (key), 403 (outside the key's subtree), 404 (unknown), 429.

The two results endpoints are paged: ``limit`` (default :data:`DEFAULT_LIMIT`, at most
:data:`MAX_LIMIT`) rows from ``offset`` (default 0), in a stable order (the rows' ids: a
snapshot is frozen, so an offset always points at the same row). The body says ``total``,
``limit``, ``offset`` and ``next`` (the address of the next page, null on the last), and
the same address is in an RFC 8288 ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from survey.collection.services import apikeys
from survey.common.api import bp, error
from survey.common.errors import NotFound
from survey.extensions import limiter
from survey.results.services import api_read, openapi

MAX_PER_PAGE = 200
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_OFFSET = 2**31 - 1


def _rate_key() -> str:
    prefix = apikeys.prefix_of(request.headers.get("Authorization"))
    return f"api-key:{prefix}" if prefix else f"api-ip:{request.remote_addr or 'unknown'}"


def _limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def _reading(view: Callable[..., tuple[Response, int]]) -> Callable[..., tuple[Response, int]]:
    """The caller's key as a reader (401 without one); a bad parameter is a 400 naming
    it, something unknown or unreadable a 404 (403 outside the subtree: see api_read)."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> tuple[Response, int]:
        key = apikeys.authenticate(request.headers.get("Authorization"))
        if key is None:
            return error(401, "unauthorized", _l("Missing, wrong or revoked API key."))
        try:
            return view(api_read.Reader.of(key), *args, **kwargs)
        except api_read.BadPaging as bad:
            return error(400, "bad_filter",
                         _l("%(name)s must be a whole number from %(low)d to %(high)d.",
                            name=bad.field, low=bad.low, high=bad.high), bad.field)
        except api_read.BadFilter as bad:
            return error(400, "bad_filter",
                         _l("This query parameter is unknown or malformed."), bad.field)
        except NotFound:
            return error(404, "not_found",
                         _l("No such snapshot or unit, or this key may not read it."))

    return run


def _only(*allowed: str) -> dict[str, Any]:
    return api_read.parse_filters({k: v for k, v in request.args.items()
                                   if k not in ("limit", "offset")}, allowed)


def _paging() -> tuple[int, int]:
    """``limit`` and ``offset`` of a results query (checked before anything is read)."""
    limit = api_read.whole_number(request.args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = api_read.whole_number(request.args, "offset", 0, 0, MAX_OFFSET)
    return limit, offset


def _paged(body: dict[str, Any], reader: api_read.Reader, page: list[Any], total: int,
           limit: int, offset: int, **view_args: Any) -> tuple[Response, int]:
    """``body`` with one page of rows (read with LIMIT/OFFSET), ``total`` and the other
    paging fields; a Link header to the next page when there is one."""
    following = None
    if offset + len(page) < total:
        args = {k: v for k, v in request.args.items() if k != "offset"}
        following = url_for(str(request.endpoint), **view_args, **args,
                            offset=offset + len(page), _external=True)
    response = jsonify({**body, "results": [api_read.row_json(reader, r) for r in page],
                        "total": total, "limit": limit, "offset": offset,
                        "next": following})
    if following is not None:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response, 200


@bp.get("/snapshots")
@limiter.limit(_limit, key_func=_rate_key)
@_reading
def api_snapshots(reader: api_read.Reader) -> tuple[Response, int]:
    args = {k: v for k, v in request.args.items()}
    numbers: dict[str, int] = {}
    for name, default, top in (("page", 1, 1_000_000), ("per_page", 50, MAX_PER_PAGE)):
        raw = args.pop(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            raise api_read.BadFilter(name)
        numbers[name] = int(raw)
    if args:
        raise api_read.BadFilter(sorted(args)[0])
    found, total = api_read.snapshots_page(reader, numbers["page"], numbers["per_page"])
    return jsonify({"snapshots": [api_read.snapshot_json(s) for s in found],
                    "page": numbers["page"], "per_page": numbers["per_page"],
                    "total": total}), 200


@bp.get("/snapshots/<int:snapshot_id>")
@limiter.limit(_limit, key_func=_rate_key)
@_reading
def api_snapshot(reader: api_read.Reader, snapshot_id: int) -> tuple[Response, int]:
    _only()
    return jsonify({"snapshot": api_read.snapshot_json(
        api_read.snapshot(reader, snapshot_id))}), 200


@bp.get("/snapshots/<int:snapshot_id>/results")
@limiter.limit(_limit, key_func=_rate_key)
@_reading
def api_snapshot_results(reader: api_read.Reader, snapshot_id: int) -> tuple[Response, int]:
    filters = _only("unit", "sector", "node", "basis", "domain")
    limit, offset = _paging()
    snapshot = api_read.snapshot(reader, snapshot_id)
    page, total = api_read.rows(reader, snapshot.id, filters, limit, offset)
    return _paged({"snapshot_id": snapshot.id}, reader, page, total, limit, offset,
                  snapshot_id=snapshot_id)


@bp.get("/units")
@limiter.limit(_limit, key_func=_rate_key)
@_reading
def api_units(reader: api_read.Reader) -> tuple[Response, int]:
    _only()
    return jsonify({"units": [api_read.unit_json(u) for u in api_read.units(reader)]}), 200


@bp.get("/units/<int:unit_id>/results")
@limiter.limit(_limit, key_func=_rate_key)
@_reading
def api_unit_results(reader: api_read.Reader, unit_id: int) -> tuple[Response, int]:
    filters = _only("node", "basis")
    limit, offset = _paging()
    unit, snapshot, page, total = api_read.latest_for_unit(reader, unit_id, filters, limit,
                                                           offset)
    return _paged({"unit": api_read.unit_json(unit),
                   "snapshot": api_read.snapshot_json(snapshot)}, reader, page, total, limit,
                  offset, unit_id=unit_id)


@bp.get("/openapi.json")
def api_openapi() -> tuple[Response, int]:
    """The OpenAPI 3.1 document of every /api/v1 endpoint (no key needed)."""
    return jsonify(openapi.document()), 200

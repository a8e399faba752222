"""``POST /api/v1/transactions``: a unit's system reports how many transactions its
service points served in a month; open-channel responses are weighted to them.

Request (``Authorization: Bearer <prefix>.<secret>``, a key of the unit)::

    {"service_point_id": 12, "month": "2026-10", "count": 340}

or ``{"counts": [...]}`` (up to 500, all or nothing). Setting a count again with the same
value changes nothing (idempotent); another value replaces it. Answer 201 when a count
was created or changed, 200 when nothing changed:
``{"created": n, "updated": n, "unchanged": n}``. Errors as for the token API
(``{"error": {"code", "message", "message_en", "field"}}``): 400, 401, 403 (a point
outside the key's unit), 413, 422 (``field`` names the field, e.g. ``counts[3].month``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import lazy_gettext as _l

from survey.collection.services import apikeys
from survey.common.access import Scope
from survey.common.api import bp, error, keyed_json
from survey.results.services import transactions

MAX_BATCH = 500


@bp.post("/transactions")
def report_transactions() -> tuple[Response, int]:
    got = keyed_json(apikeys.authenticate)
    if isinstance(got[0], Response):
        return got  # type: ignore[return-value]
    key, body = got
    batch = "counts" in body
    raw: Any = body["counts"] if batch else [body]
    if batch and (set(body) != {"counts"} or not isinstance(raw, list) or not raw):
        return error(422, "invalid", _l("Send {\"counts\": [ ... ]} with at least one count."),
                     "counts")
    if len(raw) > MAX_BATCH:
        return error(413, "too_many", _l("At most %(n)d counts per request.", n=MAX_BATCH),
                     "counts")
    items = []
    try:
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise transactions.CountProblem(str(_l("Each count must be a JSON object.")),
                                                None, i)
            try:
                items.append(transactions.parse_item(item))
            except transactions.CountProblem as problem:
                problem.index = i
                raise
        done = transactions.record(Scope.for_api_key(key), items, "api")
    except transactions.CountProblem as problem:
        field = problem.field
        if batch and problem.index is not None:
            field = f"counts[{problem.index}]" + (f".{field}" if field else "")
        code = "forbidden" if problem.status == 403 else "invalid"
        return error(problem.status, code, problem.message, field)
    status = 201 if done.created or done.updated else 200
    return jsonify({"created": done.created, "updated": done.updated,
                    "unchanged": done.unchanged}), status


from survey.results.views import api_results  # noqa: E402,F401  (the read-only routes)

"""``POST /api/v1/tokens``: one dossier, or ``{"tokens": [...]}`` (up to 500, atomic).

Request (``Authorization: Bearer <prefix>.<secret>``, a key of the issuing unit)::

    {"dossier_hash": "<sha256 hex of the dossier code>", "procedure_field": "Hộ tịch",
     "channel": "direct|online|postal", "completed_at": "2026-11-20T14:30:00+07:00",
     "service_point_id": 12,            # optional, within the key's unit subtree
     "questionnaire_key": "desk_rating"}  # optional; default: the point's

Answer 201 (200 when every dossier was already recorded)::

    {"token": {"url": "https://.../t/<secret>" | null, "expires_at": "..." | null,
               "selected": true, "selection_probability": 0.25, "already_issued": false}}

(``{"tokens": [...]}`` in the same order for a batch). ``url`` is only in the answer
that issued the token; a resend answers ``already_issued: true`` without it. Errors:
``{"error": {"code", "message" (Vietnamese), "message_en", "field"}}`` with 400
(invalid JSON), 401 (key), 403 (service point outside the unit), 409 (a concurrent call
recorded the same dossier: send again), 413, 422 (``field`` names the field, e.g.
``tokens[3].completed_at``) or 429; nothing is written when the answer is an error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l

from survey.collection.services import apikeys, tokens
from survey.common.access import Scope
from survey.common.api import bp, error, keyed_json
from survey.extensions import limiter


def _authenticated() -> Any:
    """The caller's verified key, looked up once per request (None: not authenticated)."""
    if "sipas_api_key" not in g:
        g.sipas_api_key = apikeys.authenticate(request.headers.get("Authorization"))
    return g.sipas_api_key


def _rate_key() -> str:
    # A key's quota is keyed by its id once the key is verified: a key's public prefix
    # sent with a wrong secret counts against the sender's address, not the key.
    try:
        key = _authenticated()
    except Exception:  # noqa: BLE001  (the database away: the view answers 503)
        key = None
    return f"api-key:{key.id}" if key is not None else \
        f"api-ip:{request.remote_addr or 'unknown'}"


def _limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat(timespec="seconds")


def _token_json(issued: tokens.Issued) -> dict[str, Any]:
    token = issued.token
    return {"url": issued.url, "expires_at": _iso(token.expires_at), "selected": token.selected,
            "selection_probability": token.selection_probability,
            "already_issued": issued.already_issued}


def _items(body: Any) -> tuple[list[Any], bool]:
    if isinstance(body, dict) and "tokens" in body:
        if set(body) != {"tokens"} or not isinstance(body["tokens"], list):
            raise tokens.ItemProblem("tokens", _l("Send {\"tokens\": [ ... ]} and nothing else."))
        if not body["tokens"]:
            raise tokens.ItemProblem("tokens", _l("The list of tokens is empty."))
        if len(body["tokens"]) > tokens.MAX_BATCH:
            raise tokens.ItemProblem("tokens", _l("At most %(n)d tokens per request.",
                                                  n=tokens.MAX_BATCH), status=413, code="too_many")
        return body["tokens"], True
    return [body], False


def _parse(raw: list[Any]) -> list[tokens.DossierInput]:
    items = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise tokens.ItemProblem(None, _l("Each token request must be a JSON object."), index=i)
        try:
            items.append(tokens.parse_item(item))
        except tokens.ItemProblem as problem:
            problem.index = i
            raise
    return items


@bp.route("/tokens", methods=["GET", "PUT", "PATCH", "DELETE"])
def tokens_other_methods() -> tuple[Response, int]:
    response, status = error(405, "method_not_allowed", _l("Use POST."))
    response.headers["Allow"] = "POST"
    return response, status


@bp.post("/tokens")
@limiter.limit(_limit, key_func=_rate_key)
def create_tokens() -> tuple[Response, int]:
    got = keyed_json(lambda _header: _authenticated())
    if isinstance(got[0], Response):
        return got  # type: ignore[return-value]
    key, body = got
    batch = False
    try:
        raw, batch = _items(body)
        issued = tokens.issue_tokens(Scope.for_api_key(key), key.unit, _parse(raw), key)
    except tokens.ItemProblem as problem:
        field = problem.field
        if batch and problem.index is not None:
            field = f"tokens[{problem.index}]" + (f".{field}" if field else "")
        return error(problem.status, problem.code, problem.message, field)
    status = 200 if all(i.already_issued for i in issued) else 201
    if batch:
        return jsonify({"tokens": [_token_json(i) for i in issued]}), status
    return jsonify({"token": _token_json(issued[0])}), status

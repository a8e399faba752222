"""JSON API for systems (one-stop systems issue one-time tokens). Authenticated by unit
API keys, not sessions, so CSRF does not apply; every error is JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import BadRequest, HTTPException

from survey.common.errors import BadInput, Refusal, is_data_error, is_outage
from survey.common.web import retry_after
from survey.extensions import csrf

K = TypeVar("K")

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def error(status: int, code: str, message: LazyString | str,
          field: str | None = None) -> tuple[Response, int]:
    """``{"error": {code, message (Vietnamese), message_en, field}}``."""
    with force_locale("vi"):
        vi = str(message)
    with force_locale("en"):
        en = str(message)
    body: dict[str, Any] = {"code": code, "message": vi, "message_en": en, "field": field}
    return jsonify({"error": body}), status


_HTTP = {
    400: ("bad_request", _l("The request is malformed.")),
    401: ("unauthorized", _l("Missing, wrong or revoked API key.")),
    403: ("forbidden", _l("This key has no right to do that.")),
    404: ("not_found", _l("No such API address.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("too_large", _l("The request is too large.")),
    429: ("rate_limited", _l("Too many requests; wait a minute and try again.")),
}


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    code, message = _HTTP.get(status, ("server_error", _l("Something went wrong.")))
    if isinstance(exc, BadInput):
        code, message = "bad_input", exc.message  # type: ignore[assignment]
    if status == 429:  # the real wait, as the Retry-After header says
        message = _l("Too many requests; wait %(seconds)d s and try again.",
                     seconds=retry_after())
    return error(status, code, message)


def _database_error(exc: DBAPIError) -> tuple[Response, int]:
    # The database away: 503, send again (nothing was written); a value it refused: 400.
    if is_outage(exc):
        return error(503, "unavailable", _l("The service is briefly unavailable; nothing "
                                            "was saved. Send again in a moment."))
    if is_data_error(exc):
        return error(400, "bad_input", _l("A value cannot be stored (a character or a "
                                          "number out of range)."))
    raise exc


bp.register_error_handler(DBAPIError, _database_error)
bp.register_error_handler(OverflowError, lambda _exc: error(400, "bad_input", _l(
    "A value cannot be stored (a character or a number out of range).")))


# Per status code: the application's own 404/413/429 pages (HTML) would otherwise win.
for _status in (*_HTTP, 500):
    bp.register_error_handler(_status, _http_error)


def keyed_json(authenticate: Callable[[str | None], K | None],
               ) -> tuple[K, dict[str, Any]] | tuple[Response, int]:
    """The caller's API key and JSON object body, or the error answer to return:
    401 without a valid key, 400 for a body that is not a JSON object."""
    key = authenticate(request.headers.get("Authorization"))
    if key is None:
        return error(401, "unauthorized", _l("Missing, wrong or revoked API key."))
    try:
        body = request.get_json(force=True)
    except BadRequest:
        return error(400, "invalid_json", _l("The body is not valid JSON."))
    if not isinstance(body, dict):
        return error(400, "invalid_json", _l("The body must be a JSON object."))
    return key, body


def _refused(exc: Refusal) -> tuple[Response, int]:
    return error(exc.status, *_HTTP[exc.status])


bp.register_error_handler(Refusal, _refused)


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _unknown(_rest: str) -> tuple[Response, int]:
    return error(404, *_HTTP[404])


"""Citizen views. Three ways in share one flow: /q/<link> (desk QR), /k/<link> (kiosk
tablet) and /t/<secret> (one-time dossier token)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response as WResponse

import questionnaires as q
from survey.collection.services import flow, submission
from survey.collection.widgets import CitizenForm, form_class, page_context
from survey.common.errors import ServiceError, is_data_error, is_outage
from survey.common.web import lang
from survey.extensions import limiter

DEVICE_COOKIE = "sipas_d"


bp = Blueprint("citizen", __name__)


def _device() -> str:
    if "sipas_device" not in g:
        g.sipas_device = request.cookies.get(DEVICE_COOKIE) or secrets.token_urlsafe(16)
    return str(g.sipas_device)


# (PUBLIC_MAX_CONTENT_LENGTH is set on every request of this blueprint before anything
# reads the body, chunked or not: survey.web.refuse_bad_input.)


@bp.after_request
def _device_cookie(response: WResponse) -> WResponse:
    if "sipas_device" in g and request.cookies.get(DEVICE_COOKIE) != g.sipas_device:
        response.set_cookie(DEVICE_COOKIE, g.sipas_device, max_age=365 * 24 * 3600,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _link() -> str:
    return str(request.view_args.get("key", "")) if request.view_args else ""


def _rate_key() -> str:
    # One office behind one NAT address shares an IP; link + device tells phones apart.
    # The device cookie is the client's to change, so this limit only slows a polite
    # phone; the link + address limit below is the one junk cannot dodge.
    return f"{_link()}:{_device()}"


def _link_address_key() -> str:
    return f"{_link()}@{request.remote_addr or 'unknown'}"


def _pin_key() -> str:
    # The kiosk's link alone: neither a new device cookie nor another address buys
    # more PIN guesses.
    return f"pin:{_link()}"


_UNAVAILABLE = {"unknown": ("collection/citizen/unknown_link.html", 404),
                "used": ("collection/citizen/token_used.html", 200),
                "expired": ("collection/citizen/token_expired.html", 410)}


def _unavailable(reason: str) -> WResponse:
    return _page(*_UNAVAILABLE[reason])


def _resolve(prefix: str, key: str) -> flow.Target:
    try:
        return flow.resolve(prefix, key,
                            current_app.config.get("DEFAULT_QUESTIONNAIRE", "desk_rating"))
    except flow.LinkUnavailable as err:
        abort(_unavailable(err.reason))


def _page(template: str, status: int, **context: Any) -> WResponse:
    response = current_app.make_response(render_template(template, **context))
    response.status_code = status
    return response


# --- answers kept between pages, in the signed session cookie -------------------------
def _state(target: flow.Target) -> dict[str, Any]:
    current = session.get(target.state_key)
    if not isinstance(current, dict) or current.get("v") != target.version.id:
        current = {"v": target.version.id, "sid": uuid.uuid4().hex, "answers": {}}
        session[target.state_key] = current
    return current


def _keep(target: flow.Target, answers: dict[str, object]) -> None:
    current = _state(target)
    current["answers"] = answers
    session[target.state_key] = current
    session.modified = True


def _forget(target: flow.Target) -> None:
    session.pop(target.state_key, None)


def start(prefix: str, key: str) -> WResponse:
    target = _resolve(prefix, key)
    if prefix == "k" or request.args.get("reset"):
        _forget(target)
    if prefix == "k":  # the next person at a kiosk starts in Vietnamese, not in the
        session.pop("lang", None)  # language the previous respondent chose
    first = flow.first_page(target.definition, _state(target)["answers"])
    return redirect(url_for("citizen.page", prefix=prefix, key=key, page=first))


def _prefill(items: list[q.Item], answers: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in items:
        value = answers.get(item.id)
        if isinstance(value, bool):
            data[item.id] = "true" if value else "false"
        elif isinstance(value, list):
            data[item.id] = [str(v) for v in value]
        elif value is not None:
            data[item.id] = str(value)
    return data


def _posted(items: list[q.Item]) -> dict[str, object]:
    return {i.id: request.form.getlist(i.id) if q.item_type(i.type).multiple
            else request.form.get(i.id, "") for i in items if i.id in request.form}


def page(prefix: str, key: str, page: int) -> str | WResponse:
    target = _resolve(prefix, key)
    defn = target.definition
    if flow.screen(defn, page) is None:
        abort(404)
    state = _state(target)
    items = flow.page_items(defn, page)
    form: CitizenForm = form_class(defn, page, lang())(
        data={**_prefill(items, state["answers"]), "submission_id": state["sid"]})
    errors: list[q.AnswerError] = []
    if request.method == "POST":
        form.validate()  # CSRF is checked globally; the answers by the questionnaire below
        if any(request.form.getlist("website")):  # sent twice, the second counts too
            _forget(target)
            return redirect(url_for("citizen.thanks", prefix=prefix, key=key))
        result = flow.receive_page(target, page, state["answers"], _posted(items))
        _keep(target, result.answers)
        errors = result.errors
        if result.next_page is not None:
            return redirect(url_for("citizen.page", prefix=prefix, key=key,
                                    page=result.next_page))
        if result.complete:
            return _submit(target, result.answers,
                           request.form.get("submission_id") or state["sid"])
    return _render(target, page, form, errors)


def _render(target: flow.Target, page: int, form: CitizenForm,
            errors: list[q.AnswerError]) -> str:
    context = page_context(target.definition, page, form, _state(target)["answers"],
                           errors, lang())
    return render_template("collection/citizen/page.html", target=target, **context,
                           idle=current_app.config.get("KIOSK_IDLE_SECONDS", 180))


def _submit(target: flow.Target, answers: dict[str, Any], sid: str) -> str | WResponse:
    try:
        flow.submit(target, answers, sid, device_id=_device(), ip=request.remote_addr)
    except submission.TokenUnavailable as err:
        _forget(target)
        return _unavailable(err.reason)
    except submission.SubmissionRejected as err:
        first = flow.first_page_with(target.definition, {e.item_id for e in err.errors})
        return redirect(url_for("citizen.page", prefix=target.prefix, key=target.key,
                                page=first))
    except flow.LinkUnavailable as err:  # revoked meanwhile (perhaps on another worker)
        _forget(target)
        return _unavailable(err.reason)
    except ServiceError:
        _forget(target)
        return redirect(url_for("citizen.start", prefix=target.prefix, key=target.key))
    _forget(target)
    return redirect(url_for("citizen.thanks", prefix=target.prefix, key=target.key))


@bp.errorhandler(DBAPIError)
def _database_error(err: DBAPIError) -> WResponse:
    """Every citizen page, link resolution included: the database away is the 503 "send
    again" page with what the citizen typed (a POST is resent as it came); a value the
    database refused is a 400 saying so (resending it would fail forever)."""
    if is_outage(err):
        current_app.logger.warning("citizen page not served: database unavailable (%s)",
                                   type(err.orig).__name__)
        resend = [(k, v) for k, values in request.form.lists() for v in values
                  if k != "csrf_token"] if request.method == "POST" else None
        return _page("collection/citizen/retry.html", 503, resend=resend,
                     again=request.full_path.rstrip("?"))
    if is_data_error(err):
        return _page("collection/citizen/retry.html", 400, resend=None, data_error=True,
                     again=request.path)
    raise err


def thanks(prefix: str, key: str) -> str:
    if prefix != "t":
        _resolve(prefix, key)
    return render_template("collection/citizen/thanks.html", prefix=prefix, key=key,
                           reset=current_app.config.get("KIOSK_RESET_SECONDS", 10))


def kiosk_exit(prefix: str, key: str) -> str | WResponse:
    target = _resolve("k", key)
    wrong = False
    if request.method == "POST":
        if flow.kiosk_pin_ok(target, request.form.get("pin", "")):
            _forget(target)
            return render_template("collection/citizen/kiosk_exited.html")
        wrong = True
    return render_template("collection/citizen/kiosk_exit.html", key=key, wrong=wrong,
                           has_pin=bool(flow.kiosk_pin_hash(target)))


submit_limits = [
    limiter.limit(lambda: current_app.config.get("SUBMIT_RATE_LIMIT", "20 per minute"),
                  key_func=_rate_key, methods=["POST"]),
    limiter.limit(lambda: current_app.config.get("SUBMIT_LINK_RATE_LIMIT", "60 per minute"),
                  key_func=_link_address_key, methods=["POST"]),
    limiter.limit(lambda: current_app.config.get("SUBMIT_IP_CEILING", "120 per minute"),
                  methods=["POST"]),
]


def _limited(view: Any) -> Any:
    for decorate in submit_limits:
        view = decorate(view)
    return view


bp.add_url_rule("/<any(q,k,t):prefix>/<key>", "start", start)
bp.add_url_rule("/<any(q,k,t):prefix>/<key>/p/<int:page>", "page", _limited(page),
                methods=["GET", "POST"])
bp.add_url_rule("/<any(q,k,t):prefix>/<key>/thanks", "thanks", thanks)
bp.add_url_rule("/<any(k):prefix>/<key>/exit", "kiosk_exit",
                limiter.limit(lambda: current_app.config.get("KIOSK_PIN_RATE_LIMIT",
                                                             "5 per minute;30 per hour"),
                              key_func=_pin_key, methods=["POST"])(kiosk_exit),
                methods=["GET", "POST"])

"""Citizen views. Three ways in share one flow: /q/<link> (desk QR), /k/<link> (kiosk
tablet) and /t/<secret> (one-time dossier token)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response as WResponse

import questionnaires as q
from survey.collection.services import flow, links, submission
from survey.collection.widgets import CitizenForm, form_class, page_context
from survey.common.errors import ServiceError
from survey.common.web import lang
from survey.extensions import db, limiter
from survey.org.models import ServicePoint

DEVICE_COOKIE = "sipas_d"


bp = Blueprint("citizen", __name__)


def _device() -> str:
    if "sipas_device" not in g:
        g.sipas_device = request.cookies.get(DEVICE_COOKIE) or secrets.token_urlsafe(16)
    return str(g.sipas_device)


@bp.before_request
def _size_limit() -> None:
    # A questionnaire never needs more than this; refuse before reading the body.
    limit = current_app.config.get("PUBLIC_MAX_CONTENT_LENGTH", 64 * 1024)
    if request.content_length is not None and request.content_length > limit:
        abort(413)


@bp.after_request
def _device_cookie(response: WResponse) -> WResponse:
    if "sipas_device" in g and request.cookies.get(DEVICE_COOKIE) != g.sipas_device:
        response.set_cookie(DEVICE_COOKIE, g.sipas_device, max_age=365 * 24 * 3600,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _rate_key() -> str:
    # One office behind one NAT address shares an IP; link + device tells phones apart.
    return f"{request.view_args.get('key') if request.view_args else ''}:{_device()}"


def _resolve(prefix: str, key: str) -> flow.Target:
    default = current_app.config.get("DEFAULT_QUESTIONNAIRE", "desk_rating")
    if prefix == "t":
        token = links.resolve_token(key)
        if token is None:
            abort(_page("collection/citizen/unknown_link.html", 404))
        if token.used_at is not None:
            abort(_page("collection/citizen/token_used.html", 200))
        if submission.token_expired(token):
            abort(_page("collection/citizen/token_expired.html", 410))
        target = flow.target_for_token(key, token, default)
    else:
        target = flow.target_for_link(prefix, key, default)
    if target is None:
        abort(_page("collection/citizen/unknown_link.html", 404))
    return target


def _page(template: str, status: int, **context: Any) -> WResponse:
    response = current_app.make_response(render_template(template, **context))
    response.status_code = status
    return response


def _first_page(target: flow.Target) -> int:
    pages = flow.visible_pages(target.definition, flow.state(target)["answers"])
    return pages[0] if pages else target.definition.pages[0]


def start(prefix: str, key: str) -> WResponse:
    target = _resolve(prefix, key)
    if prefix == "k" or request.args.get("reset"):
        flow.forget(target)
    return redirect(url_for("citizen.page", prefix=prefix, key=key, page=_first_page(target)))


def _prefill(defn: q.Definition, items: list[q.Item], answers: dict[str, Any]) -> dict[str, Any]:
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
    return {i.id: request.form.getlist(i.id) if i.type == "multiple_choice"
            else request.form.get(i.id, "") for i in items if i.id in request.form}


def page(prefix: str, key: str, page: int) -> str | WResponse:
    target = _resolve(prefix, key)
    defn = target.definition
    if page not in defn.pages:
        abort(404)
    state = flow.state(target)
    items = flow.page_items(defn, page)
    form: CitizenForm = form_class(defn, page, lang())(
        data={**_prefill(defn, items, state["answers"]), "submission_id": state["sid"]})
    errors: list[q.AnswerError] = []
    if request.method == "POST":
        form.validate()  # CSRF is checked globally; the answers by the questionnaire below
        if form.website.data:
            flow.forget(target)
            return redirect(url_for("citizen.thanks", prefix=prefix, key=key))
        flow.save_answers(target, [i.id for i in items], q.answers_from_form(defn,
                                                                              _posted(items)))
        answers = flow.state(target)["answers"]
        ids = {i.id for i in items}
        errors = [e for e in q.validate_answers(defn, answers) if e.item_id in ids]
        if not errors:
            following = flow.next_page(defn, answers, page)
            if following is not None:
                return redirect(url_for("citizen.page", prefix=prefix, key=key, page=following))
            return _submit(target, answers, request.form.get("submission_id") or state["sid"])
    return _render(target, page, form, errors)


def _render(target: flow.Target, page: int, form: CitizenForm,
            errors: list[q.AnswerError]) -> str:
    context = page_context(target.definition, page, form, flow.state(target)["answers"],
                           errors, lang())
    return render_template("collection/citizen/page.html", target=target, **context,
                           idle=current_app.config.get("KIOSK_IDLE_SECONDS", 180))


def _submit(target: flow.Target, answers: dict[str, Any], sid: str) -> str | WResponse:
    try:
        submission.submit(submission.Submission(
            version=target.version, definition=target.definition, unit_id=target.unit.id,
            channel=target.channel, answers=answers, client_submission_id=sid,
            service_point_id=target.point.id if target.point else None,
            link_id=target.link.id if target.link else None, token=target.token,
            device_id=_device(), ip=request.remote_addr))
    except submission.TokenUnavailable as err:
        flow.forget(target)
        template = "collection/citizen/token_used.html" if err.reason == "used" else \
            "collection/citizen/token_expired.html"
        return _page(template, 200 if err.reason == "used" else 410)
    except submission.SubmissionRejected as err:
        first = min((p for p in target.definition.pages for i in flow.page_items(
            target.definition, p) if i.id in {e.item_id for e in err.errors}), default=1)
        return redirect(url_for("citizen.page", prefix=target.prefix, key=target.key,
                                page=first))
    except ServiceError:
        flow.forget(target)
        return redirect(url_for("citizen.start", prefix=target.prefix, key=target.key))
    except DBAPIError:
        db.session.rollback()
        current_app.logger.exception("response not stored: database unavailable")
        return _page("collection/citizen/retry.html", 503)
    flow.forget(target)
    return redirect(url_for("citizen.thanks", prefix=target.prefix, key=target.key))


def thanks(prefix: str, key: str) -> str:
    if prefix != "t":
        _resolve(prefix, key)
    return render_template("collection/citizen/thanks.html", prefix=prefix, key=key,
                           reset=current_app.config.get("KIOSK_RESET_SECONDS", 10))


def kiosk_exit(prefix: str, key: str) -> str | WResponse:
    target = _resolve("k", key)
    point = db.session.get(ServicePoint, target.point.id) if target.point else None
    pin_hash = point.kiosk_pin_hash if point else None
    wrong = False
    if request.method == "POST":
        if pin_hash and check_password_hash(pin_hash, request.form.get("pin", "")):
            flow.forget(target)
            return render_template("collection/citizen/kiosk_exited.html")
        wrong = True
    return render_template("collection/citizen/kiosk_exit.html", key=key, wrong=wrong,
                           has_pin=bool(pin_hash))


submit_limits = [
    limiter.limit(lambda: current_app.config.get("SUBMIT_RATE_LIMIT", "20 per minute"),
                  key_func=_rate_key, methods=["POST"]),
    limiter.limit(lambda: current_app.config.get("SUBMIT_IP_CEILING", "600 per hour"),
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
                limiter.limit("5 per minute", key_func=_rate_key, methods=["POST"])(kiosk_exit),
                methods=["GET", "POST"])

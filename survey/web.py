"""Wiring of extensions, blueprints, error pages and template helpers for create_app."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template, request, session
from flask_babel import format_timedelta, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from survey.common.delivery import init_delivery
from survey.common.errors import BadInput, Refusal, is_data_error, is_outage
from survey.common.headers import register_security_headers
from survey.common.web import retry_after
from survey.extensions import babel, csrf, db, limiter, login_manager, migrate


def select_locale() -> str:
    # Vietnamese by default, whatever the browser says; English on request.
    if not has_request_context():
        return "vi"
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else "vi"


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets citizens' submissions and staff pages proceed together on the embedded
    # database; synchronous=NORMAL is the safe setting for WAL (no corruption on crash).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# --- bad input refused before any view, extension or database sees it ----------------
# A NUL byte cannot be stored in a PostgreSQL text, a lone surrogate cannot be encoded
# at all, and a deeply nested JSON body exhausts the parser's recursion: none has a
# use in this application, so every request carrying one is a 400 with a clear message.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_JSON_DEPTH = 32


def _json_problem(data: bytes) -> Any:
    """Why a JSON body is refused, or None (invalid JSON is left to the view to say)."""
    try:
        body = json.loads(data)
    except RecursionError:
        return _l("The JSON body is nested too deeply.")
    except ValueError:
        return None
    stack = [(body, 1)]
    while stack:  # iterative: the check itself must not recurse
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _l("The JSON body is nested too deeply.")
        if isinstance(value, dict):
            if any(UNSTORABLE.search(k) for k in value):
                return _l("The request contains characters that are not allowed (NUL or "
                          "invalid Unicode).")
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str) and UNSTORABLE.search(value):
            return _l("The request contains characters that are not allowed (NUL or "
                      "invalid Unicode).")
    return None


def _unstorable(pairs: Any) -> bool:
    return any(UNSTORABLE.search(key) or any(UNSTORABLE.search(v) for v in values)
               for key, values in pairs)


def _bound_chunked_body() -> None:
    """Read a body sent without Content-Length (chunked) up to the limit, and refuse it
    (413) past the limit. Werkzeug alone cuts such a stream at the limit silently and
    parses what came before the cut: a truncated form that would be stored."""
    env = request.environ
    if request.content_length is not None or "wsgi.input_terminated" not in env:
        return  # a declared length is checked by Werkzeug; else no body is read at all
    limit = int(request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"])
    raw, chunks, size = env["wsgi.input"], [], 0
    while size <= limit:
        chunk = raw.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    body = b"".join(chunks)
    env["wsgi.input"], env["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    env.pop("HTTP_TRANSFER_ENCODING", None)
    for cached in ("content_length", "stream"):  # computed above from the old environ
        request.__dict__.pop(cached, None)


def refuse_bad_input() -> None:
    """Registered before every other hook: the citizen body limit applies to chunked
    bodies too (a 413), and no view, extension or query sees a NUL byte."""
    if request.blueprint == "citizen":
        request.max_content_length = int(current_app.config["PUBLIC_MAX_CONTENT_LENGTH"])
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        _bound_chunked_body()
    if UNSTORABLE.search(request.path) or _unstorable(request.args.lists()):
        raise BadInput(_l("The address contains characters that are not allowed (NUL or "
                          "invalid Unicode)."))
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.is_json or request.blueprint == "api":
        problem = _json_problem(request.get_data(cache=True))
        if problem is not None:
            raise BadInput(problem)
    elif _unstorable(request.form.lists()):
        raise BadInput(_l("The form contains characters that are not allowed (NUL or "
                          "invalid Unicode). Remove them and send again."))


def init_extensions(app: Flask) -> None:
    from survey import models  # noqa: F401  (register the tables)
    from survey.org.services import audit  # noqa: F401  (register the audit hook)

    app.before_request(refuse_bad_input)  # first: before CSRF or the limiter read a body
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=app.root_path + "/translations")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "warning"
    register_security_headers(app)
    init_delivery(app)

    @login_manager.user_loader
    def load_user(token: str) -> Any:
        from survey.org.services import sessions

        return sessions.load(token)

    @app.before_request
    def bind_actor() -> None:
        from survey.org.services.audit import set_actor

        if current_user.is_authenticated:
            g.sipas_actor_token = set_actor(current_user.id, current_user.username)
        else:
            g.sipas_actor_token = set_actor(None, "anonymous")

    @app.teardown_request
    def unbind_actor(exc: BaseException | None) -> None:
        from survey.org.services.audit import reset_actor

        token = g.pop("sipas_actor_token", None)
        if token is not None:
            reset_actor(token)


def register_blueprints(app: Flask) -> None:
    from survey.authoring.views import bp as authoring_bp
    from survey.campaigns.views import bp as campaigns_bp
    from survey.collection.views import api as _collection_api  # noqa: F401  (its routes)
    from survey.collection.views import bp as collection_bp
    from survey.collection.views.citizen import bp as citizen_bp
    from survey.common.api import bp as api_bp
    from survey.org.views import bp as org_bp
    from survey.org.views.auth import bp as auth_bp
    from survey.results.views import api as _results_api  # noqa: F401  (its routes)
    from survey.results.views import bp as results_bp
    from survey.results.views.public import bp as public_results_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(collection_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(authoring_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(public_results_bp)
    app.register_blueprint(campaigns_bp)


DATA_ERROR = _l("Something you sent cannot be stored (a character or a number out of range). "
                "Correct it and send again.")


def _error(code: int, title: Any, message: Any) -> tuple[str, int]:
    return render_template("error.html", code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(403)
    def forbidden(e: Exception) -> tuple[str, int]:
        return _error(403, _l("Not allowed"), _l("Your account has no right to this page."))

    @app.errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return _error(404, _l("Page not found"), _l("Check the address, or go back to the start."))

    @app.errorhandler(413)
    def too_large(e: Exception) -> tuple[str, int]:
        return _error(413, _l("Too large"), _l("What you sent is too large. Send a smaller file."))

    @app.errorhandler(429)
    def too_many(e: Exception) -> tuple[str, int]:
        wait = _l("Please wait %(wait)s and try again.", wait=format_timedelta(
            dt.timedelta(seconds=retry_after()), granularity="second", threshold=2,
            add_direction=False))
        return _error(429, _l("Too many attempts"), wait)

    @app.errorhandler(BadInput)
    def bad_input(e: BadInput) -> tuple[str, int]:
        return _error(400, _l("The request was refused"), e.message)

    @app.errorhandler(OverflowError)
    def out_of_range(e: OverflowError) -> tuple[str, int]:
        # SQLite's driver refuses an integer past 64 bits before any statement runs
        # (?page=99999999999999999999, /staff/units/99999999999999999999).
        return _error(400, _l("The request was refused"), DATA_ERROR)

    @app.errorhandler(DBAPIError)
    def database_error(e: DBAPIError) -> tuple[str, int]:
        # A database away is a 503 (send again shortly); a value it refused is a 400;
        # anything else is a fault of ours.
        if is_outage(e):
            app.logger.warning("database unavailable: %s", type(e.orig).__name__)
            message = _l("Nothing was saved. Please try again in a moment.")
            try:
                return _error(503, _l("Briefly unavailable"), message)
            except DBAPIError:  # the page itself needs the database (a signed-in user)
                return f"503 {_l('Briefly unavailable')}. {message}", 503
        if is_data_error(e):
            return _error(400, _l("The request was refused"), DATA_ERROR)
        app.logger.exception("database error")
        return server_error(e)

    @app.errorhandler(Refusal)
    def refused(e: Refusal) -> tuple[str, int]:
        # A scope refused access: outside the scope reads as missing, in view but not
        # allowed as forbidden.
        return not_found(e) if e.status == 404 else forbidden(e)

    @app.errorhandler(CSRFError)
    def csrf_error(e: Exception) -> tuple[str, int]:
        return _error(400, _l("The form has expired"),
                      _l("Reload the page and submit the form again."))

    @app.errorhandler(500)
    def server_error(e: Exception) -> tuple[str, int]:
        return _error(500, _l("Something went wrong"),
                      _l("Nothing was saved. Please try again in a moment."))


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        from survey.common.web import current_scope

        return {
            "current_locale": str(get_locale()),
            "scope": current_scope() if current_user.is_authenticated else None,
            "request_path": request.path,
        }

"""Wiring of extensions, blueprints, error pages and template helpers for create_app."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event

from survey.common.errors import Refusal
from survey.common.delivery import init_delivery
from survey.common.headers import register_security_headers
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


def init_extensions(app: Flask) -> None:
    from survey import models  # noqa: F401  (register the tables)
    from survey.org.services import audit  # noqa: F401  (register the audit hook)

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
    def load_user(user_id: str) -> Any:
        from survey.org.models import User

        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

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
        return _error(429, _l("Too many attempts"), _l("Please wait a minute and try again."))

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

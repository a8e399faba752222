"""Staff sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WResponse

from survey.extensions import limiter
from survey.org.forms import LoginForm
from survey.org.services import accounts

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc:
            return target
    return default


def _login_username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit("5 per minute", key_func=_login_username_key, methods=["POST"])
def login() -> str | WResponse:
    if current_user.is_authenticated:
        return redirect(url_for("org.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next"), url_for("org.dashboard")))
        flash(_("Wrong username or password."), "error")
    return render_template("org/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> WResponse:
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str) -> WResponse:
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next"), url_for("auth.login")))


@bp.route("/")
def index() -> WResponse:
    return redirect(url_for("org.dashboard"))

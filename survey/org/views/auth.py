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

from survey.collection.services.privacy import install_log_redaction
from survey.common.access import Scope
from survey.extensions import limiter
from survey.org.forms import LoginForm
from survey.org.services import accounts, sessions, throttle

bp = Blueprint("auth", __name__)
# The site-wide blueprint: on registration, link keys and token secrets are redacted
# from the access and error logs (survey.collection.services.privacy).
bp.record_once(lambda state: install_log_redaction())


def _home(scope: Scope) -> str:
    """Where signing in lands: a clerk's home is data entry, anybody else's the overview."""
    if scope.has("data_entry") and not (scope.has("results") or scope.has("manage_units")):
        return url_for("campaigns.entry_home")
    return url_for("org.dashboard")


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc:
            return target
    return default


def _address() -> str:
    return request.remote_addr or "unknown"


def wait_text(seconds: int) -> str:
    """A wait in words: "45 giây", "3 phút"."""
    if seconds < 120:
        return _("%(n)d seconds", n=seconds)
    return _("%(n)d minutes", n=-(-seconds // 60))


def _failed(response: WResponse) -> bool:
    return response.status_code != 302  # a sign-in that worked never counts


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               deduct_when=_failed)
def login() -> str | WResponse | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("org.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        name, address = form.username.data or "", _address()
        seconds = throttle.wait(name, address)
        if seconds:
            flash(_("Too many failed sign-ins. Wait %(wait)s, then try again.",
                    wait=wait_text(seconds)), "error")
            return render_template("org/login.html", form=form), 429
        user = accounts.authenticate(name, form.password.data or "")
        if user is not None:
            throttle.record_success(name, address)
            sessions.start(user, request.headers.get("User-Agent"))
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next"), _home(Scope.for_user(user))))
        throttle.record_failure(name, address)
        flash(_("Wrong username or password."), "error")
        seconds = throttle.wait(name, address)
        if seconds:
            flash(_("Wait %(wait)s before the next attempt.", wait=wait_text(seconds)), "error")
    return render_template("org/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> WResponse:
    # Ends this browser's session: a copy of its cookie is refused from now on; the
    # account's sessions on other computers go on ("sign out everywhere" ends them).
    sessions.end_current(current_user._get_current_object())
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

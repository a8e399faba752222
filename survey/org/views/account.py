"""One's own account: password, its open sessions (one ended, or all at once)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import ServiceError
from survey.common.web import show_service_error
from survey.org.forms import EndOneSessionForm, EndSessionsForm, OwnPasswordForm
from survey.org.services import accounts, sessions
from survey.org.views import bp


@bp.route("/account", methods=["GET", "POST"])
def account() -> str | WResponse:
    form = OwnPasswordForm(prefix="own")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(user, form.current.data or "", form.password.data or "")
        except ServiceError as err:
            show_service_error(form, err)
        else:
            # Every session ended; this browser goes on under a new one.
            sessions.start(user, request.headers.get("User-Agent"))
            login_user(user)
            flash(_("Password changed. You were signed out everywhere else."), "success")
            return redirect(url_for("org.account"))
    return _page(form)


def _page(form: OwnPasswordForm, status: int = 200) -> tuple[str, int]:
    user = current_user._get_current_object()
    return render_template(
        "org/account.html", form=form, end_form=EndSessionsForm(prefix="end"),
        end_one_form=EndOneSessionForm(prefix="one"), sessions=sessions.open_sessions(user),
        current_session=user.session_id), status


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
def account_end_one_session(session_id: int) -> WResponse | tuple[str, int]:
    """One of one's own sessions ends (a phone left signed in); this one is signed out
    with the sign-out button instead."""
    if not EndOneSessionForm(prefix="one").validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    if session_id == user.session_id:
        flash(_("This is the session you are using: sign out with the button at the top "
                "of the page."), "error")
        return redirect(url_for("org.account"))
    try:
        sessions.end_one(user, session_id)
    except ServiceError as err:
        flash(err.message, "error")
        return _page(OwnPasswordForm(prefix="own", formdata=None), 404)
    flash(_("That session has ended: the browser will be asked to sign in again."), "info")
    return redirect(url_for("org.account"))


@bp.route("/account/sessions", methods=["POST"])
def account_end_sessions() -> WResponse:
    if EndSessionsForm(prefix="end").validate_on_submit():
        accounts.end_sessions(current_user._get_current_object())
        logout_user()
        flash(_("You were signed out on every computer."), "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("org.account"))

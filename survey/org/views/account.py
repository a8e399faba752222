"""One's own account: password, and signing out on every computer at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import ServiceError
from survey.common.web import show_service_error
from survey.org.forms import EndSessionsForm, OwnPasswordForm
from survey.org.services import accounts
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
            login_user(user)  # this session goes on under the new version; others end
            flash(_("Password changed. You were signed out everywhere else."), "success")
            return redirect(url_for("org.account"))
    return render_template("org/account.html", form=form, end_form=EndSessionsForm(prefix="end"))


@bp.route("/account/sessions", methods=["POST"])
def account_end_sessions() -> WResponse:
    if EndSessionsForm(prefix="end").validate_on_submit():
        accounts.end_sessions(current_user._get_current_object())
        logout_user()
        flash(_("You were signed out on every computer."), "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("org.account"))

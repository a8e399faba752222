"""Staff accounts and scoped roles."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import ServiceError
from survey.common.web import current_scope, require, show_service_error
from survey.org.forms import (
    ROLE_LABELS,
    SECTOR_LABELS,
    EndSessionsForm,
    PasswordForm,
    RemoveRoleForm,
    RoleForm,
    SelectChoice,
    UserCreateForm,
    UserEditForm,
    choices,
)
from survey.org.models import Unit
from survey.org.services import accounts, browse
from survey.org.services import users as user_service
from survey.org.views import bp


def _unit_choices() -> list[SelectChoice]:
    return choices((u.id, u.name) for u in current_scope().grantable_units())


def _role_args(form: RoleForm) -> tuple[str, Unit | None, str | None]:
    unit = browse.unit_or_none(form.unit_id.data)
    return form.role.data or "", unit, form.sector.data or None


@bp.route("/users")
def user_list() -> str:
    require("manage_users")
    return render_template("org/user_list.html", users=browse.users(current_scope()),
                           roles=ROLE_LABELS,
                           sectors=SECTOR_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def user_create() -> str | WResponse:
    scope = require("manage_users")
    form = UserCreateForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        role, unit, sector = _role_args(form)
        try:
            user = user_service.create_user(
                scope, username=form.username.data or "", full_name=form.full_name.data or "",
                password=form.password.data or "", email=form.email.data, role=role, unit=unit,
                sector=sector)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Account %(u)s created.", u=user.username), "success")
            return redirect(url_for("org.user_detail", user_id=user.id))
    return render_template("org/user_create.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int) -> str | WResponse:
    scope = require("manage_users")
    user = scope.get_user(user_id)
    can_manage = scope.can_manage_user(user)
    form = UserEditForm(obj=user, prefix="edit")
    if can_manage and form.submit.data and form.validate_on_submit():
        try:
            user_service.update_user(user, full_name=form.full_name.data or "",
                                     email=form.email.data, active=bool(form.active.data))
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("org.user_detail", user_id=user.id))
    role_form = RoleForm(prefix="role")
    role_form.unit_id.choices = _unit_choices()
    return render_template("org/user_detail.html", user=user, form=form, role_form=role_form,
                           password_form=PasswordForm(prefix="pw"), remove_form=RemoveRoleForm(),
                           end_form=EndSessionsForm(prefix="end"),
                           can_manage=can_manage, roles=ROLE_LABELS, sectors=SECTOR_LABELS)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
def user_add_role(user_id: int) -> str | WResponse:
    scope = require("manage_users")
    user = scope.get_user(user_id, manage=True)
    form = RoleForm(prefix="role")
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        role, unit, sector = _role_args(form)
        try:
            user_service.add_role(scope, user, role, unit, sector)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Role added."), "success")
    else:
        flash(_("Choose a role, a unit and a sector from the lists."), "error")
    return redirect(url_for("org.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/roles/remove", methods=["POST"])
def user_remove_role(user_id: int) -> WResponse:
    scope = require("manage_users")
    user = scope.get_user(user_id, manage=True)
    form = RemoveRoleForm()
    if form.validate_on_submit() and (form.assignment_id.data or "").isdigit():
        try:
            user_service.remove_role(scope, user, int(form.assignment_id.data or 0),
                                     current_user.id)
        except ServiceError as err:
                flash(err.message, "error")
        else:
            flash(_("Role removed."), "success")
    else:
        flash(_("That role no longer exists."), "error")
    return redirect(url_for("org.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int) -> WResponse:
    scope = require("manage_users")
    user = scope.get_user(user_id, manage=True)
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            user_service.set_password(user, form.password.data or "")
        except ServiceError as err:
                flash(err.message, "error")
        else:
            flash(_("Password changed."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("org.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/sessions", methods=["POST"])
def user_end_sessions(user_id: int) -> WResponse:
    """End every session of another account (audited: its session version changes)."""
    scope = require("manage_users")
    user = scope.get_user(user_id, manage=True)
    if EndSessionsForm(prefix="end").validate_on_submit():
        accounts.end_sessions(user)
        flash(_("Every session of %(u)s has ended.", u=user.username), "success")
    return redirect(url_for("org.user_detail", user_id=user.id))

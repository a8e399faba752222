"""Use cases on staff accounts and their scoped roles. Each function is one transaction."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from survey.common.access import Scope
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Role, RoleAssignment, Sector, Unit, User
from survey.org.services import sessions

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 10


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD), "password"
        )
    if password.isdigit() or password.isalpha():
        raise ServiceError(_("The password must mix letters with digits or symbols."), "password")


def _check_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ServiceError(
            _(
                "The username must have 3 to 64 characters: lowercase letters without "
                "diacritics, digits, dot, dash or underscore."
            ),
            "username",
        )
    if db.session.scalar(select(User).where(User.username == username)) is not None:
        raise ServiceError(_("The username %(u)s is already taken.", u=username), "username")
    return username


def _check_role(scope: Scope | None, role: str, unit: Unit | None, sector: str | None) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        raise ServiceError(_("Choose a role from the list."), "role") from None
    if unit is None:
        raise ServiceError(_("Choose the unit the role applies to."), "unit_id")
    if sector is not None and sector not in {s.value for s in Sector}:
        raise ServiceError(_("Choose a sector from the list."), "sector")
    if parsed is Role.sector_manager and sector is None:
        raise ServiceError(_("A sector manager needs a sector."), "sector")
    if scope is not None and not scope.can_grant(parsed, unit, sector):
        raise ServiceError(
            _("You may not grant this role on this unit: it is outside your own scope."), "unit_id"
        )
    return parsed




@use_case
def create_user(
    scope: Scope | None,
    *,
    username: str,
    full_name: str,
    password: str,
    email: str | None = None,
    role: str | None = None,
    unit: Unit | None = None,
    sector: str | None = None,
) -> User:
    """Create an account, with its first role when given. ``scope=None`` is the CLI."""
    user = User(username=_check_username(username), full_name=full_name.strip())
    if not user.full_name:
        raise ServiceError(_("Enter the person's full name."), "full_name")
    check_password_strength(password)
    user.set_password(password)
    user.email = (email or "").strip() or None
    if role is not None:
        user.roles.append(
            RoleAssignment(role=_check_role(scope, role, unit, sector).value, unit=unit,
                           sector=sector)
        )
    elif scope is not None and not scope.is_administrator:
        raise ServiceError(_("Give the new account a role within your scope."), "role")
    db.session.add(user)
    commit_or_refuse()
    return user


@use_case
def update_user(user: User, *, full_name: str, email: str | None, active: bool) -> None:
    if not full_name.strip():
        raise ServiceError(_("Enter the person's full name."), "full_name")
    user.full_name = full_name.strip()
    user.email = (email or "").strip() or None
    user.active = active
    commit_or_refuse()


@use_case
def set_password(user: User, password: str) -> None:
    """A new password ends every session of the account (a copied cookie is refused)."""
    check_password_strength(password)
    user.set_password(password)
    sessions.end_every(user)
    commit_or_refuse()


@use_case
def add_role(scope: Scope | None, user: User, role: str, unit: Unit | None,
             sector: str | None) -> RoleAssignment:
    parsed = _check_role(scope, role, unit, sector)
    wanted = (parsed.value, unit.id if unit else None, sector)
    for existing in user.roles:
        if (existing.role, existing.unit_id, existing.sector) == wanted:
            raise ServiceError(_("The account already holds this role."), "role")
    assignment = RoleAssignment(role=parsed.value, unit=unit, sector=sector)
    user.roles.append(assignment)
    commit_or_refuse()
    return assignment


@use_case
def remove_role(scope: Scope, user: User, assignment_id: int, acting_user_id: int) -> None:
    assignment = next((a for a in user.roles if a.id == assignment_id), None)
    if assignment is None:
        raise ServiceError(_("That role no longer exists."))
    if not scope.can_grant(Role(assignment.role), assignment.unit, assignment.sector):
        raise ServiceError(_("You may not remove a role outside your own scope."))
    if user.id == acting_user_id and assignment.role == Role.administrator.value:
        raise ServiceError(_("You cannot remove your own administrator role."))
    user.roles.remove(assignment)
    commit_or_refuse()

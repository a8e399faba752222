"""The one place where staff scope is decided and enforced.

A staff member holds role assignments; each grants a set of permissions over one unit's
subtree, optionally narrowed to one sector. Every staff query goes through
:class:`Scope`: views ask it for ``units()``, ``service_points()``, ``responses()`` or
``users()`` and for single objects through ``unit_or_404`` and friends, never filtering by
hand. An object outside the scope is reported as missing (404), an object in view but not
writable as forbidden (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from survey.extensions import db
from survey.models import Response, Role, RoleAssignment, ServicePoint, Unit, User

Permission = Literal[
    "view", "manage_units", "manage_users", "results", "export", "data_entry",
    "manage_questionnaires",
]

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.administrator: frozenset(
        {"view", "manage_units", "manage_users", "results", "export", "data_entry",
         "manage_questionnaires"}
    ),
    Role.sector_manager: frozenset({"view", "manage_units", "manage_users", "results", "export"}),
    Role.unit_manager: frozenset({"view", "manage_units", "manage_users", "results", "export"}),
    Role.analyst: frozenset({"view", "results", "export"}),
    Role.clerk: frozenset({"view", "data_entry"}),
}

# Lower rank = wider powers; nobody grants a role of a lower rank number than their own.
ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


@dataclass(frozen=True)
class Grant:
    role: Role
    unit_id: int
    unit_path: str
    sector: str | None

    def covers(self, unit: Unit) -> bool:
        return unit.path.startswith(self.unit_path) and (
            self.sector is None or unit.sector == self.sector
        )

    def unit_clause(self) -> ColumnElement[bool]:
        clause = Unit.path.startswith(self.unit_path, autoescape=True)
        if self.sector is not None:
            clause = and_(clause, Unit.sector == self.sector)
        return clause


@dataclass(frozen=True)
class Scope:
    grants: tuple[Grant, ...]

    @classmethod
    def for_user(cls, user: User) -> Scope:
        grants = tuple(
            Grant(Role(a.role), a.unit_id, a.unit.path, a.sector)
            for a in user.roles
            if a.unit is not None
        )
        return cls(grants)

    def _grants(self, permission: Permission) -> list[Grant]:
        return [gr for gr in self.grants if permission in ROLE_PERMISSIONS[gr.role]]

    def has(self, permission: Permission) -> bool:
        return bool(self._grants(permission))

    def has_role(self, *roles: Role) -> bool:
        return any(gr.role in roles for gr in self.grants)

    @property
    def is_administrator(self) -> bool:
        return self.has_role(Role.administrator)

    def unit_clause(self, permission: Permission = "view") -> ColumnElement[bool]:
        clauses = [gr.unit_clause() for gr in self._grants(permission)]
        return or_(*clauses) if clauses else false()

    def allows(self, permission: Permission, unit: Unit) -> bool:
        return any(gr.covers(unit) for gr in self._grants(permission))

    # --- queries every staff view goes through ---------------------------------------
    def units(self, permission: Permission = "view") -> Select[tuple[Unit]]:
        return select(Unit).where(self.unit_clause(permission))

    def service_points(self, permission: Permission = "view") -> Select[tuple[ServicePoint]]:
        return select(ServicePoint).join(Unit).where(self.unit_clause(permission))

    def responses(self, permission: Permission = "results") -> Select[tuple[Response]]:
        return select(Response).join(Unit, Response.unit_id == Unit.id).where(
            self.unit_clause(permission)
        )

    def users(self) -> Select[tuple[User]]:
        """Staff with at least one assignment in view; the unassigned only for administrators."""
        in_view = select(RoleAssignment.user_id).join(Unit).where(self.unit_clause("manage_users"))
        clause = User.id.in_(in_view)
        if self.is_administrator:
            clause = or_(clause, ~User.roles.any())
        return select(User).where(clause)

    # --- single objects --------------------------------------------------------------
    def unit_or_404(self, unit_id: int, permission: Permission = "view") -> Unit:
        unit = db.session.get(Unit, unit_id)
        if unit is None or not self.allows("view", unit):
            abort(404)
        if not self.allows(permission, unit):
            abort(403)
        return unit

    def point_or_404(self, point_id: int, permission: Permission = "view") -> ServicePoint:
        point = db.session.get(ServicePoint, point_id)
        if point is None:
            abort(404)
        self.unit_or_404(point.unit_id, permission)
        return point

    def can_grant(self, role: Role, unit: Unit, sector: str | None) -> bool:
        """May this scope hand out ``role`` over ``unit`` (narrowed to ``sector``)?"""
        for gr in self._grants("manage_users"):
            if ROLE_RANK[role] < ROLE_RANK[gr.role] or not gr.covers(unit):
                continue
            if gr.sector is not None and sector not in (None, gr.sector):
                continue
            return True
        return False

    def can_manage_user(self, user: User) -> bool:
        if not user.roles:
            return self.is_administrator
        return all(self.can_grant(Role(a.role), a.unit, a.sector) for a in user.roles)

    def user_or_404(self, user_id: int, *, manage: bool = False) -> User:
        user = db.session.get(User, user_id)
        if user is None or db.session.scalar(self.users().where(User.id == user_id)) is None:
            abort(404)
        if manage and not self.can_manage_user(user):
            abort(403)
        return user

    def grantable_units(self) -> Iterable[Unit]:
        return db.session.scalars(self.units("manage_users").order_by(Unit.path))


def current_scope() -> Scope:
    """The scope of the logged-in staff member, computed once per request."""
    if "sipas_scope" not in g:
        g.sipas_scope = Scope.for_user(current_user) if current_user.is_authenticated else Scope(())
    scope: Scope = g.sipas_scope
    return scope


def require(permission: Permission) -> Scope:
    scope = current_scope()
    if not scope.has(permission):
        abort(403)
    return scope

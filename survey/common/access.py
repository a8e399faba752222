"""The one place where access is decided: the scope of a staff member or an API key.

A :class:`Scope` is a plain value, built from a user (:meth:`Scope.for_user`) or a unit
API key (:meth:`Scope.for_api_key`); it reads no request, so views, exports, background
jobs and the API take the same value. A staff member holds role assignments; each grants a
set of permissions over one unit's subtree, optionally narrowed to one sector; an API key
grants its own permissions over its unit's subtree. Every query goes through the scope:
``units()``, ``service_points()``, ``responses()``, ``users()``, and single objects through
``get_unit`` and friends, never filtering by hand. An object outside the scope is refused
with :class:`~survey.common.errors.NotFound`, an object in view but not writable with
:class:`~survey.common.errors.Forbidden`; the web layer turns those into 404 and 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from survey.collection.models import ApiKey, Response
from survey.common.errors import Forbidden, NotFound
from survey.extensions import db
from survey.org.models import Role, RoleAssignment, ServicePoint, Unit, User

Permission = Literal[
    "view", "manage_units", "manage_users", "results", "export", "data_entry",
    "manage_questionnaires", "issue_tokens", "report_transactions", "review",
    "manage_campaigns", "moderate", "view_campaigns",
]

# "review": accept or reject a flagged response. The decision changes the indices, so it
# is a manager's; analysts see the flagged responses ("results") without deciding.
# "moderate": hide a comment (free-text answer) with a reason, or show it again, and see
# hidden ones; likewise a manager's, analysts read the visible comments ("results").
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.administrator: frozenset(
        {"view", "manage_units", "manage_users", "results", "export", "data_entry",
         "manage_questionnaires", "issue_tokens", "report_transactions", "review",
         "manage_campaigns", "moderate", "view_campaigns"}
    ),
    # "manage_campaigns": design, frames, draws and invitations of survey campaigns; a
    # campaign is in scope when its owning department is (a sector manager: their sector).
    # "view_campaigns": read the list, design, progress of campaigns so in scope (analysts).
    Role.sector_manager: frozenset(
        {"view", "manage_units", "manage_users", "results", "export", "issue_tokens",
         "report_transactions", "review", "manage_campaigns",
         "moderate", "view_campaigns"}),
    Role.unit_manager: frozenset(
        {"view", "manage_units", "manage_users", "results", "export", "issue_tokens",
         "report_transactions", "review", "moderate"}),
    Role.analyst: frozenset({"view", "results", "export", "view_campaigns"}),
    Role.clerk: frozenset({"view", "data_entry"}),
}

# What a unit's API key may do over its unit's subtree (the one-stop system's calls).
API_KEY_PERMISSIONS: frozenset[str] = frozenset({"issue_tokens", "report_transactions"})

# Lower rank = wider powers; nobody grants a role of a lower rank number than their own.
ROLE_RANK = {role: rank for rank, role in enumerate(Role)}


@dataclass(frozen=True)
class Grant:
    """Permissions over one unit's subtree, optionally one sector. ``role`` is None for
    an API key's grant (it can grant nothing to anybody)."""

    role: Role | None
    unit_id: int
    unit_path: str
    sector: str | None
    permissions: frozenset[str]

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
        if not user.active:
            return cls(())
        grants = tuple(
            Grant(Role(a.role), a.unit_id, a.unit.path, a.sector,
                  ROLE_PERMISSIONS[Role(a.role)])
            for a in user.roles
            if a.unit is not None
        )
        return cls(grants)

    @classmethod
    def for_api_key(cls, key: ApiKey) -> Scope:
        """The scope of a unit API key: :data:`API_KEY_PERMISSIONS` over its unit's
        subtree; nothing once the key is revoked or its unit gone."""
        if key.revoked_at is not None or key.unit is None:
            return cls(())
        return cls((Grant(None, key.unit_id, key.unit.path, None, API_KEY_PERMISSIONS),))

    def _grants(self, permission: Permission) -> list[Grant]:
        return [gr for gr in self.grants if permission in gr.permissions]

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
    def get_unit(self, unit_id: int, permission: Permission = "view") -> Unit:
        """The unit, if in view (else :class:`NotFound`) and ``permission`` covers it
        (else :class:`Forbidden`)."""
        unit = db.session.get(Unit, unit_id)
        if unit is None or not self.allows("view", unit):
            raise NotFound("unit", unit_id)
        if not self.allows(permission, unit):
            raise Forbidden(permission)
        return unit

    def get_point(self, point_id: int, permission: Permission = "view") -> ServicePoint:
        point = db.session.get(ServicePoint, point_id)
        if point is None:
            raise NotFound("service point", point_id)
        self.get_unit(point.unit_id, permission)
        return point

    def can_grant(self, role: Role, unit: Unit, sector: str | None) -> bool:
        """May this scope hand out ``role`` over ``unit`` (narrowed to ``sector``)?"""
        for gr in self._grants("manage_users"):
            if gr.role is None or ROLE_RANK[role] < ROLE_RANK[gr.role] or not gr.covers(unit):
                continue
            if gr.sector is not None and sector not in (None, gr.sector):
                continue
            return True
        return False

    def can_manage_user(self, user: User) -> bool:
        if not user.roles:
            return self.is_administrator
        return all(self.can_grant(Role(a.role), a.unit, a.sector) for a in user.roles)

    def get_user(self, user_id: int, *, manage: bool = False) -> User:
        user = db.session.get(User, user_id)
        if user is None or db.session.scalar(self.users().where(User.id == user_id)) is None:
            raise NotFound("account", user_id)
        if manage and not self.can_manage_user(user):
            raise Forbidden("manage_users")
        return user

    def require(self, permission: Permission) -> Scope:
        """This scope, if it holds ``permission`` anywhere; else :class:`Forbidden`."""
        if not self.has(permission):
            raise Forbidden(permission)
        return self

    def grantable_units(self) -> Iterable[Unit]:
        return db.session.scalars(self.units("manage_users").order_by(Unit.path))


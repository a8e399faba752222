"""What the organisation pages show, read through a scope with everything the template
needs already loaded (templates receive computed values and never query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from survey.common.access import Permission, Scope
from survey.common.errors import Forbidden
from survey.common.pages import paginate
from survey.extensions import db
from survey.org.models import AuditLog, RoleAssignment, ServicePoint, Unit, UnitKind, User
from survey.org.vietnamese import fold

# Lists show the province first, then departments before the centre, communes, hospitals
# and schools; within a kind, Vietnamese dictionary order (Unit.name_sort).
KIND_ORDER = {kind.value: rank for rank, kind in enumerate(UnitKind)}


def unit_order() -> tuple[ColumnElement[int], ColumnElement[str]]:
    """ORDER BY of unit lists: kind (departments before communes), then the name in
    Vietnamese order, the same on every database."""
    return case(KIND_ORDER, value=Unit.kind, else_=len(KIND_ORDER)), Unit.name_sort


def name_matches(q: str) -> ColumnElement[bool]:
    """A unit whose name contains ``q`` regardless of case and diacritics ("tan ninh",
    "TÂN NINH" and "Tân Ninh" alike; đ and d alike), or whose code is ``q``."""
    return or_(Unit.name_folded.contains(fold(q), autoescape=True), Unit.code == q.strip())


@dataclass(frozen=True)
class Overview:
    units: int
    points: int
    responses: int
    roots: list[tuple[Unit, int]]  # the scope's top units with their number of sub-units


def _count(query: Select[Any]) -> int:
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def overview(scope: Scope) -> Overview:
    """The staff home page: counts within the scope and its top units."""
    roots = db.session.scalars(
        scope.units()
        .where(or_(Unit.parent_id.is_(None),
                   ~Unit.parent_id.in_(select(Unit.id).where(scope.unit_clause()))))
        .order_by(*unit_order())
    ).all()
    children = dict(db.session.execute(
        select(Unit.parent_id, func.count()).where(Unit.parent_id.in_([u.id for u in roots]))
        .group_by(Unit.parent_id)).all())
    return Overview(_count(scope.units()), _count(scope.service_points()),
                    _count(scope.responses("view")),
                    [(u, int(children.get(u.id, 0))) for u in roots])


@dataclass(frozen=True)
class UnitDetail:
    unit: Unit
    parent: Unit | None  # only when the scope sees it
    successor: Unit | None
    children: list[Unit]  # those the scope sees
    points: list[ServicePoint]


def unit_detail(scope: Scope, unit_id: int) -> UnitDetail:
    unit = scope.get_unit(unit_id)
    db.session.refresh(unit)
    children = db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(*unit_order())).all()
    points = db.session.scalars(
        select(ServicePoint).where(ServicePoint.unit_id == unit.id).order_by(ServicePoint.name)
    ).all()
    parent = db.session.get(Unit, unit.parent_id) if unit.parent_id else None
    successor = db.session.get(Unit, unit.successor_id) if unit.successor_id else None
    return UnitDetail(unit, parent if parent is not None and scope.allows("view", parent)
                      else None, successor,
                      [c for c in children if scope.allows("view", c)], list(points))


def users(scope: Scope) -> list[User]:
    """The accounts in view, with their roles and the roles' units loaded."""
    return list(db.session.scalars(
        scope.users().options(selectinload(User.roles).selectinload(RoleAssignment.unit))
        .order_by(User.username)).all())


def units(scope: Scope, permission: Permission = "view") -> list[Unit]:
    """The units the scope holds ``permission`` on, in tree order."""
    return list(db.session.scalars(scope.units(permission).order_by(Unit.path)).all())


def unit_list(scope: Scope, *, q: str = "", kind: str | None = None, sector: str | None = None,
              page: int | None = None) -> Pagination:
    """The unit list: a name fragment (without regard to case or diacritics) or an exact
    code, a kind, a sector; departments before communes, each in Vietnamese order."""
    query = scope.units().order_by(*unit_order())
    if q:
        query = query.where(name_matches(q))
    if kind:
        query = query.where(Unit.kind == kind)
    if sector:
        query = query.where(Unit.sector == sector)
    return paginate(query, page, 50)


def audit_log(scope: Scope, *, entity: str | None = None, page: int | None = None) -> Pagination:
    """The audit log, newest first (administrators only)."""
    if not scope.is_administrator:
        raise Forbidden("audit")
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if entity:
        query = query.where(AuditLog.entity == entity)
    return paginate(query, page, 50)


def unit_or_none(unit_id: int | None) -> Unit | None:
    """The unit a form names (its scope is checked by the use case it is handed to)."""
    return db.session.get(Unit, unit_id) if unit_id else None

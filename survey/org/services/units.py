"""Use cases on the organisation tree. Each function is one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, func, literal, select, update

from survey.collection.models import Response
from survey.common.access import Scope
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org import hours
from survey.org.models import RoleAssignment, ServicePoint, Unit

UNIT_FIELDS = ("kind", "sector", "code", "name", "name_en", "valid_from", "valid_to")


def _check_unit_fields(values: dict[str, Any], unit: Unit | None) -> None:
    name = (values.get("name") or "").strip()
    if not name:
        raise ServiceError(_("Enter the unit's name."), "name")
    code = (values.get("code") or "").strip() or None
    if code is not None:
        clash = db.session.scalar(select(Unit).where(Unit.code == code))
        if clash is not None and clash is not unit:
            raise ServiceError(
                _("Code %(code)s is already used by %(name)s.", code=code, name=clash.name), "code"
            )
    start, end = values.get("valid_from"), values.get("valid_to")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        raise ServiceError(_("The end of validity must not be before its start."), "valid_to")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: values.get(k) for k in UNIT_FIELDS}
    for key in ("code", "name", "name_en"):
        cleaned[key] = (cleaned[key] or "").strip() or None
    return cleaned


# Every write checks the editor's scope on the object as it is before the change and as
# it would be after it (``scope=None``: the system itself, i.e. the CLI, the official
# import and the demo seed). A unit's place in the province, its parent and its sector,
# is decided from above: a manager whose role starts at this very unit edits its name
# and codes but cannot move it or change its sector (a hospital manager cannot turn his
# hospital into a school of another sector's tree).
def _outside_scope(field: str | None = None) -> ServiceError:
    return ServiceError(_("This change would put the unit outside your scope; nothing was "
                          "saved."), field)


def _check_before(scope: Scope | None, unit: Unit) -> None:
    if scope is not None and not scope.allows("manage_units", unit):
        raise _outside_scope()


def _check_after(scope: Scope | None, unit: Unit, *, placed: bool,
                 field: str | None = "parent_id") -> None:
    """``placed``: the unit's parent or sector changed (or it is new), which only a role
    over an ancestor may decide."""
    if scope is None:
        return
    grants = [gr for gr in scope.grants if "manage_units" in gr.permissions
              and gr.covers(unit) and (not placed or gr.unit_id != unit.id)]
    if not grants:
        raise _outside_scope(field)


@use_case
def create_unit(parent: Unit | None, values: dict[str, Any], *,
                scope: Scope | None = None) -> Unit:
    _check_unit_fields(values, None)
    if scope is not None and parent is None:
        raise ServiceError(_("Choose the parent unit."), "parent_id")
    unit = Unit(parent=parent, **_clean(values))
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    _check_after(scope, unit, placed=True)
    commit_or_refuse()
    return unit


def _descendant_ids(unit: Unit) -> set[int]:
    return set(db.session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path))))


KEEP: Any = object()  # update_unit: leave the successor as it is


@use_case
def update_unit(unit: Unit, values: dict[str, Any], parent: Unit | None = None,
                successor: Unit | None = KEEP, *, scope: Scope | None = None) -> Unit:
    """Update fields; when ``parent`` differs, move the unit and its subtree; when
    ``successor`` is given, record the unit that took this one over (None: no successor).
    With a ``scope``, the unit must be in it before and after, and a move or a change of
    sector needs a role over an ancestor."""
    _check_before(scope, unit)
    _check_unit_fields(values, unit)
    moved = parent is not None and parent.id != unit.parent_id
    placed = moved or (values.get("sector") not in (None, unit.sector))
    if scope is not None and successor not in (KEEP, None) and not scope.allows(
            "view", successor):
        raise ServiceError(_("Choose a successor from the list."), "successor_id")
    if successor is not KEEP:
        if successor is not None and successor.id == unit.id:
            raise ServiceError(_("A unit cannot succeed itself."), "successor_id")
        unit.successor = successor
    for key, value in _clean(values).items():
        setattr(unit, key, value)
    if parent is not None and parent.id != unit.parent_id:
        if parent.id in _descendant_ids(unit):
            raise ServiceError(_("A unit cannot be moved under itself."), "parent_id")
        old_path = unit.path
        new_path = f"{parent.path}{unit.id}/"
        unit.parent = parent
        db.session.flush()
        db.session.execute(
            update(Unit)
            .where(Unit.path.startswith(old_path))
            .values(path=literal(new_path, String) + func.substr(Unit.path, len(old_path) + 1))
            .execution_options(synchronize_session=False)
        )
        db.session.expire_all()
    _check_after(scope, unit, placed=placed, field="parent_id" if moved else "sector")
    commit_or_refuse()
    return unit


@use_case
def delete_unit(unit: Unit, *, scope: Scope | None = None) -> None:
    """Delete a unit that nothing refers to; otherwise close its validity instead. (The
    root of a role is referred to by that role, so nobody deletes their own.)"""
    _check_before(scope, unit)
    used = (
        unit.children
        or unit.service_points
        or db.session.scalar(select(func.count()).where(Response.unit_id == unit.id))
        or db.session.scalar(select(func.count()).where(RoleAssignment.unit_id == unit.id))
    )
    if used:
        raise ServiceError(
            _(
                "This unit has sub-units, service points, responses or staff roles and cannot "
                "be deleted. Set an end of validity instead, so older results stay comparable."
            )
        )
    db.session.delete(unit)
    commit_or_refuse()


def _check_point(unit: Unit, name: str, point: ServicePoint | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter the service point's name."), "name")
    clash = db.session.scalar(
        select(ServicePoint).where(ServicePoint.unit_id == unit.id, ServicePoint.name == name)
    )
    if clash is not None and clash is not point:
        raise ServiceError(_("This unit already has a service point with that name."), "name")
    return name


def _check_hours(unit: Unit, text: str | None) -> str | None:
    """Opening hours in their canonical text, or None; only desk-type points have any."""
    text = (text or "").strip()
    if not text:
        return None
    if unit.kind in hours.HOURLESS_KINDS:
        raise ServiceError(_("Points of hospitals and schools have no opening hours: their "
                             "patients and parents answer at any time."), "opening_hours")
    try:
        parsed = hours.parse(text)
    except ValueError as err:
        raise ServiceError(_("Cannot read “%(part)s”. Write the hours like this: "
                             "T2-T6 07:00-17:30; T7 07:30-11:30.", part=str(err)),
                           "opening_hours") from None
    return hours.format_hours(parsed) or None


@use_case
def create_point(unit: Unit, name: str, name_en: str | None = None, *,
                 scope: Scope | None = None, opening_hours: str | None = None) -> ServicePoint:
    _check_before(scope, unit)
    point = ServicePoint(unit=unit, name=_check_point(unit, name, None))
    point.name_en = (name_en or "").strip() or None
    point.opening_hours = _check_hours(unit, opening_hours)
    db.session.add(point)
    commit_or_refuse()
    return point


@use_case
def update_point(point: ServicePoint, name: str, name_en: str | None, active: bool, *,
                 scope: Scope | None = None, opening_hours: str | None = KEEP) -> None:
    """``opening_hours``: the desk's hours as text (blank: none); KEEP leaves them."""
    _check_before(scope, point.unit)
    if opening_hours is not KEEP:
        point.opening_hours = _check_hours(point.unit, opening_hours)
    point.name = _check_point(point.unit, name, point)
    point.name_en = (name_en or "").strip() or None
    point.active = active
    commit_or_refuse()


@use_case
def delete_point(point: ServicePoint, *, scope: Scope | None = None) -> None:
    _check_before(scope, point.unit)
    used = db.session.scalar(select(func.count()).where(Response.service_point_id == point.id))
    if used:
        raise ServiceError(
            _("This service point has responses and cannot be deleted; deactivate it instead.")
        )
    db.session.delete(point)
    commit_or_refuse()

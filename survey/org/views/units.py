"""Organisation tree and service points."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import ServiceError
from survey.common.web import current_scope, form_values, require, show_service_error
from survey.org import hours
from survey.org.forms import (
    KIND_LABELS,
    SECTOR_LABELS,
    DeleteForm,
    SelectChoice,
    ServicePointForm,
    UnitForm,
    choices,
)
from survey.org.models import Unit
from survey.org.services import browse
from survey.org.services import units as unit_service
from survey.org.views import bp

FIELDS = ("kind", "sector", "code", "name", "name_en", "valid_from", "valid_to")


def _label(unit: Unit) -> str:
    depth = unit.path.count("/") - 2
    return "— " * max(depth, 0) + unit.name


@bp.route("/units")
def unit_list() -> str:
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("kind")
    sector = request.args.get("sector")
    page = browse.unit_list(current_scope(), q=q, kind=kind if kind in KIND_LABELS else None,
                            sector=sector if sector in SECTOR_LABELS else None,
                            page=request.args.get("page", type=int))
    return render_template("org/unit_list.html", page=page, q=q, kinds=KIND_LABELS,
                           sectors=SECTOR_LABELS)


@bp.route("/units/<int:unit_id>")
def unit_detail(unit_id: int) -> str:
    scope = current_scope()
    detail = browse.unit_detail(scope, unit_id)
    return render_template("org/unit_detail.html", unit=detail.unit, detail=detail,
                           can_edit=scope.allows("manage_units", detail.unit),
                           kinds=KIND_LABELS, sectors=SECTOR_LABELS)


def _parent_choices(current: Unit | None) -> list[SelectChoice]:
    units = browse.units(current_scope(), "manage_units")
    pairs = [(u.id, _label(u)) for u in units if current is None or current.id != u.id]
    if current is not None and current.parent is not None and current.parent not in units:
        pairs.insert(0, (current.parent.id, current.parent.name))
    return choices(pairs)


def _successor_choices(unit: Unit) -> list[SelectChoice]:
    units = browse.units(current_scope())
    return choices([(0, _("No successor"))] + [(u.id, _label(u)) for u in units
                                              if u.id != unit.id])


@bp.route("/units/new", methods=["GET", "POST"])
def unit_create() -> str | WResponse:
    require("manage_units")
    form = UnitForm()
    del form.successor_id  # a new unit has no successor yet
    form.parent_id.choices = _parent_choices(None)
    if request.method == "GET" and request.args.get("parent", type=int):
        form.parent_id.data = request.args.get("parent", type=int)
    if form.validate_on_submit():
        parent = current_scope().get_unit(form.parent_id.data, "manage_units")
        try:
            unit = unit_service.create_unit(parent, form_values(form, FIELDS),
                                             scope=current_scope())
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template("org/unit_form.html", form=form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_edit(unit_id: int) -> str | WResponse:
    unit = current_scope().get_unit(unit_id, "manage_units")
    form = UnitForm(obj=unit)
    form.parent_id.choices = _parent_choices(unit)
    form.successor_id.choices = _successor_choices(unit)
    if form.successor_id.data is None:  # no successor, or not posted: keep it as it is
        form.successor_id.data = unit.successor_id or 0
    if unit.parent_id is None:
        del form.parent_id
    if form.validate_on_submit():
        parent = None
        if unit.parent_id is not None and form.parent_id.data != unit.parent_id:
            parent = current_scope().get_unit(form.parent_id.data, "manage_units")
        successor = unit_service.KEEP if "successor_id" not in request.form else (
            current_scope().get_unit(form.successor_id.data) if form.successor_id.data
            else None)
        try:
            unit_service.update_unit(unit, form_values(form, FIELDS), parent, successor,
                                     scope=current_scope())
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template("org/unit_form.html", form=form, unit=unit)


def _confirm_delete(title: str, lines: list[str], button: str, action: str,
                    cancel: str) -> str:
    return render_template("confirm.html", confirm={
        "title": title, "consequences": lines, "button": button, "fields": {},
        "action": action, "cancel": cancel})


@bp.route("/units/<int:unit_id>/delete", methods=["GET", "POST"])
def unit_delete(unit_id: int) -> str | WResponse:
    """GET: the confirmation page (POST deletes)."""
    unit = current_scope().get_unit(unit_id, "manage_units")
    if request.method == "GET":
        return _confirm_delete(
            _("Delete %(name)s?", name=unit.name),
            [_("The unit is deleted for good. A unit with sub-units, service points, "
               "responses or staff roles is never deleted: set an end of validity instead, "
               "so older results stay comparable.")], _("Delete this unit"),
            url_for("org.unit_delete", unit_id=unit.id),
            url_for("org.unit_detail", unit_id=unit.id))
    if not DeleteForm().validate_on_submit():
        abort(400)
    parent_id = unit.parent_id
    try:
        unit_service.delete_unit(unit, scope=current_scope())
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("org.unit_detail", unit_id=unit_id))
    flash(_("Unit deleted."), "success")
    target = url_for("org.unit_detail", unit_id=parent_id) if parent_id else url_for(
        "org.unit_list")
    return redirect(target)


@bp.route("/units/<int:unit_id>/points/new", methods=["GET", "POST"])
def point_create(unit_id: int) -> str | WResponse:
    unit = current_scope().get_unit(unit_id, "manage_units")
    form = ServicePointForm()
    if request.method == "GET" and unit.kind not in hours.HOURLESS_KINDS:
        form.opening_hours.data = hours.DESK_DEFAULT
    if form.validate_on_submit():
        try:
            unit_service.create_point(unit, form.name.data or "", form.name_en.data,
                                      scope=current_scope(),
                                      opening_hours=form.opening_hours.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Service point created."), "success")
            return redirect(url_for("org.unit_detail", unit_id=unit.id))
    return render_template("org/point_form.html", form=form, unit=unit, point=None,
                           has_hours=unit.kind not in hours.HOURLESS_KINDS)


@bp.route("/points/<int:point_id>/edit", methods=["GET", "POST"])
def point_edit(point_id: int) -> str | WResponse:
    point = current_scope().get_point(point_id, "manage_units")
    form = ServicePointForm(obj=point)
    if form.validate_on_submit():
        try:
            unit_service.update_point(point, form.name.data or "", form.name_en.data,
                                      bool(form.active.data), scope=current_scope(),
                                      opening_hours=form.opening_hours.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("org.unit_detail", unit_id=point.unit_id))
    return render_template("org/point_form.html", form=form, unit=point.unit, point=point,
                           has_hours=point.unit.kind not in hours.HOURLESS_KINDS)


@bp.route("/points/<int:point_id>/delete", methods=["GET", "POST"])
def point_delete(point_id: int) -> str | WResponse:
    """GET: the confirmation page (POST deletes)."""
    point = current_scope().get_point(point_id, "manage_units")
    if request.method == "GET":
        return _confirm_delete(
            _("Delete %(name)s?", name=point.name),
            [_("The service point is deleted for good, and every QR code printed for it stops "
               "working. A point with responses is never deleted: deactivate it instead.")],
            _("Delete this service point"), url_for("org.point_delete", point_id=point.id),
            url_for("org.point_edit", point_id=point.id))
    if not DeleteForm().validate_on_submit():
        abort(400)
    unit_id = point.unit_id
    try:
        unit_service.delete_point(point, scope=current_scope())
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("org.point_edit", point_id=point_id))
    flash(_("Service point deleted."), "success")
    return redirect(url_for("org.unit_detail", unit_id=unit_id))

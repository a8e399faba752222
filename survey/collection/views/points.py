"""Per-point public links: QR codes, posters, link replacement, kiosk settings."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.collection.forms import ActionForm, PinForm, QuestionnaireForm
from survey.collection.services import links
from survey.collection.services import points as collect
from survey.collection.views import bp
from survey.collection.views.helpers import paper_size
from survey.common.errors import ServiceError
from survey.common.forms import SECTOR_LABELS, SelectChoice, choices
from survey.common.web import current_scope, download, show_service_error
from survey.org.models import ServicePoint, Unit
from survey.render import posters_pdf, qr_png, qr_svg


@bp.route("/")
def index() -> str:
    scope = current_scope()
    if not (scope.has("manage_units") or scope.has("results")):
        abort(403)
    q = (request.args.get("q") or "").strip()
    page = collect.units_with_points(scope, q=q, page=request.args.get("page", type=int))
    return render_template("collection/index.html", page=page, q=q, sectors=SECTOR_LABELS,
                           can_print_sector=collect.can_print_sector(scope))


def _questionnaire_choices() -> list[SelectChoice]:
    titles = collect.questionnaire_titles(str(get_locale()))
    return choices(
        [("", _("Default for the unit's sector"))]
        + [(k, f"{k} – {titles[k]}" if k in titles else k) for k in collect.questionnaire_keys()])


def _questionnaire_form(point: ServicePoint,
                        options: list[SelectChoice] | None = None) -> QuestionnaireForm:
    form = QuestionnaireForm(prefix=f"q{point.id}", obj=point)
    form.questionnaire_key.choices = options if options is not None else _questionnaire_choices()
    return form


def _render_unit(unit: Unit, failed: QuestionnaireForm | PinForm | None = None,
                 failed_point: int | None = None) -> str:
    """The unit's page; a form that failed is shown again with its errors beside the field."""
    page = collect.unit_page(unit.id)
    options = _questionnaire_choices()  # one query for the whole page
    q_forms = {p.id: _questionnaire_form(p, options) for p in page.points}
    pin_forms = {p.id: PinForm(prefix=f"k{p.id}", formdata=None) for p in page.points}
    if failed_point is not None and isinstance(failed, QuestionnaireForm):
        q_forms[failed_point] = failed
    elif failed_point is not None and isinstance(failed, PinForm):
        pin_forms[failed_point] = failed
    return render_template(
        "collection/unit.html", unit=page.unit, points=page.points, posters=page.poster_urls,
        kiosks=page.kiosk_urls, action=ActionForm(), q_forms=q_forms, pin_forms=pin_forms)


@bp.route("/units/<int:unit_id>")
def unit(unit_id: int) -> str:
    return _render_unit(current_scope().get_unit(unit_id, "manage_units"))


def _back(point: ServicePoint) -> WResponse:
    return redirect(url_for("collection.unit", unit_id=point.unit_id, _anchor=f"point-{point.id}"))


@bp.route("/points/<int:point_id>/questionnaire", methods=["POST"])
def point_questionnaire(point_id: int) -> str | WResponse:
    point = current_scope().get_point(point_id, "manage_units")
    form = _questionnaire_form(point)
    if form.validate_on_submit():
        try:
            collect.set_questionnaire(point, form.questionnaire_key.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Questionnaire of %(name)s saved.", name=point.name), "success")
            return _back(point)
    return _render_unit(point.unit, form, point.id)


def _poster_link(point_id: int) -> tuple[ServicePoint, str]:
    point = current_scope().get_point(point_id, "manage_units")
    link = collect.ensure_poster_links([point]).get(point.id)
    if link is None:  # inactive points have no public link
        abort(404)
    return point, links.link_url(link)


@bp.route("/points/<int:point_id>/qr.<any(png, svg):fmt>")
def point_qr(point_id: int, fmt: str) -> Response:
    point, url = _poster_link(point_id)
    if fmt == "png":
        return download(qr_png(url), "image/png", f"qr-{point.id}.png")
    return download(qr_svg(url), "image/svg+xml", f"qr-{point.id}.svg")


@bp.route("/points/<int:point_id>/poster.pdf")
def point_poster(point_id: int) -> Response:
    size = paper_size()
    point, _url = _poster_link(point_id)
    pages = collect.posters([point], collect.ensure_poster_links([point]))
    return download(posters_pdf(pages, size=size), "application/pdf",
                     f"poster-{point.id}-{size}.pdf")


def _posters_of(points: list[ServicePoint], name: str) -> Response:
    size = paper_size()
    pages = collect.posters(points, collect.ensure_poster_links(points))
    if not pages:
        abort(404)
    return download(posters_pdf(pages, size=size), "application/pdf", f"{name}-{size}.pdf")


@bp.route("/units/<int:unit_id>/posters.pdf")
def unit_posters(unit_id: int) -> Response:
    unit = current_scope().get_unit(unit_id, "manage_units")
    return _posters_of([p for p in unit.service_points if p.active], f"posters-unit-{unit.id}")


@bp.route("/posters/sector.pdf")
def sector_posters() -> Response:
    scope = current_scope()
    sector = request.args.get("sector", "")
    if not collect.can_print_sector(scope):
        abort(403)
    if sector not in SECTOR_LABELS:
        abort(404)
    return _posters_of(collect.sector_points(scope, sector), f"posters-{sector}")


LINK_CONSEQUENCES = {
    "poster": lambda name: [
        _("The QR code of %(point)s on every printed poster stops working at once: citizens "
          "who scan it will be told the link does not work.", point=name)],
    "kiosk": lambda name: [
        _("The kiosk tablet of %(point)s stops showing the questionnaire at once.",
          point=name)],
}


def _confirm_link(point: ServicePoint, kind: str, op: str) -> str:
    lines = LINK_CONSEQUENCES[kind](point.name)
    if op == "replace":
        lines.append(_("A new link is issued: print and put up the new QR code."))
    return render_template("confirm.html", confirm={
        "title": _("Replace the link of %(point)s?", point=point.name) if op == "replace"
        else _("Revoke the link of %(point)s?", point=point.name),
        "consequences": lines, "fields": {},
        "button": _("Revoke and issue a new link") if op == "replace" else _("Revoke"),
        "action": url_for("collection.point_link", point_id=point.id, kind=kind, op=op),
        "cancel": url_for("collection.unit", unit_id=point.unit_id)})


@bp.route("/points/<int:point_id>/links/<any(poster, kiosk):kind>/<any(replace, revoke):op>",
          methods=["GET", "POST"])
def point_link(point_id: int, kind: str, op: str) -> str | WResponse:
    """GET: the confirmation page, saying what stops working (POST does it)."""
    point = current_scope().get_point(point_id, "manage_units")
    if request.method == "GET":
        return _confirm_link(point, kind, op)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if op == "replace":
            collect.replace_link(point, kind)
        else:
            collect.revoke_link(point, kind)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("New link issued; print the new QR code.") if op == "replace"
              else _("Link revoked."), "success")
    return _back(point)


@bp.route("/points/<int:point_id>/kiosk-pin", methods=["POST"])
def point_pin(point_id: int) -> str | WResponse:
    point = current_scope().get_point(point_id, "manage_units")
    form = PinForm(prefix=f"k{point.id}")
    if form.validate_on_submit():
        try:
            collect.set_kiosk_pin(point, form.pin.data or "")
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Kiosk exit PIN of %(name)s set.", name=point.name), "success")
            return _back(point)
    return _render_unit(point.unit, form, point.id)

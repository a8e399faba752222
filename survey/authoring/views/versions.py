"""List, structure, citizen preview, JSON export/import and the status changes."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.authoring.forms import (
    PROVENANCE_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    TEXT_STATUS_LABELS,
    TYPE_LABELS,
    ActionForm,
    CloneForm,
    ImportForm,
)
from survey.authoring.models import QuestionnaireVersion
from survey.authoring.services import drafts, impact
from survey.authoring.services.versions import definition_of
from survey.authoring.views import bp
from survey.authoring.views.helpers import version_or_404
from survey.collection.services import flow
from survey.collection.widgets import form_class, page_context
from survey.common.errors import ServiceError
from survey.common.forms import SECTOR_LABELS
from survey.common.web import lang, require
from survey.common.web import show_service_error as show_error

LABELS = {"types": TYPE_LABELS, "rules": RULE_LABELS, "provenance": PROVENANCE_LABELS,
          "statuses": STATUS_LABELS, "sectors": SECTOR_LABELS, "wordings": TEXT_STATUS_LABELS}


@bp.route("/")
def index() -> str:
    scope = require("view")
    filters = {k: request.args.get(k, "") for k in ("key", "status", "sector")}
    rows = drafts.list_versions(scope.unit_clause("view"), **filters)
    return render_template("authoring/list.html", rows=rows, filters=filters, keys=drafts.keys(),
                           lang=lang(), action_form=ActionForm(), **LABELS)


@bp.route("/<int:version_id>")
def structure(version_id: int) -> str:
    row = version_or_404(version_id)
    defn = definition_of(row)
    return render_template("authoring/structure.html", row=row, defn=defn, lang=lang(),
                           flat=defn.index.flatten_all(), action_form=ActionForm(),
                           clone_form=CloneForm(), **LABELS)


@bp.route("/<int:version_id>/preview")
def preview(version_id: int) -> str:
    row = version_or_404(version_id)
    defn = definition_of(row)
    pages = flow.screen_numbers(defn)  # as citizens see it: screens of a few questions
    page = request.args.get("page", 1, type=int)
    if page not in pages:
        abort(404)
    form = form_class(defn, page, lang())(meta={"csrf": False})
    context = page_context(defn, page, form, drafts.answers_showing_all(defn), [], lang())
    return render_template("authoring/preview.html", row=row, **{**context, "pages": pages})


@bp.route("/<int:version_id>/export")
def export(version_id: int) -> Response:
    name, data = drafts.export_json(version_or_404(version_id))
    response = Response(data, mimetype="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/import", methods=["GET", "POST"])
def import_json() -> str | WResponse:
    require("manage_questionnaires")
    form = ImportForm()
    if form.validate_on_submit():
        with form.file.data.stream as upload:  # large uploads are spooled to a temp file
            raw = upload.read(drafts.MAX_IMPORT_BYTES + 1)
        try:
            row = drafts.import_json(raw)
        except ServiceError as err:
            show_error(form, err)
        else:
            flash(_("Imported as draft %(key)s v%(version)d.", key=row.key,
                    version=row.version), "success")
            return redirect(url_for("authoring.editor", version_id=row.id))
    return render_template("authoring/import.html", form=form,
                           limit=drafts.MAX_IMPORT_BYTES // 1024)


@bp.route("/<int:version_id>/clone", methods=["POST"])
def clone(version_id: int) -> str | WResponse:
    require("manage_questionnaires")
    row = version_or_404(version_id)
    form = CloneForm()
    if form.validate_on_submit():
        try:
            new = drafts.clone(row, form.new_key.data or None)
        except ServiceError as err:
            show_error(form, err)
        else:
            flash(_("Draft %(key)s v%(version)d created.", key=new.key, version=new.version),
                  "success")
            return redirect(url_for("authoring.editor", version_id=new.id))
    for errors in form.errors.values():
        flash(", ".join(str(e) for e in errors), "error")
    return redirect(url_for("authoring.structure", version_id=row.id))


def _status_change(version_id: int, change: str) -> WResponse:
    require("manage_questionnaires")
    row = version_or_404(version_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ref = f"{row.key} v{row.version}"
    try:
        getattr(drafts, change)(row)
    except ServiceError as err:
        show_error(None, err)
        return redirect(url_for("authoring.structure", version_id=version_id))
    done = {"publish": _("%(ref)s published."), "retire": _("%(ref)s retired."),
            "delete_draft": _("Draft %(ref)s deleted.")}[change]
    flash(done % {"ref": ref}, "success")
    if change == "delete_draft":
        return redirect(url_for("authoring.index"))
    return redirect(url_for("authoring.structure", version_id=version_id))


@bp.route("/<int:version_id>/publish", methods=["POST"])
def publish(version_id: int) -> WResponse:
    return _status_change(version_id, "publish")


@bp.route("/<int:version_id>/retire", methods=["GET", "POST"])
def retire(version_id: int) -> str | WResponse:
    """GET: the confirmation page, naming the QR codes that will stop working."""
    if request.method == "POST":
        return _status_change(version_id, "retire")
    require("manage_questionnaires")
    row = version_or_404(version_id)
    ref = f"{row.key} v{row.version}"
    found = impact.retire_impact(row, current_app.config.get("DEFAULT_QUESTIONNAIRE",
                                                             "desk_rating"))
    lines = [_("Responses already received stay, with their version, in the results.")]
    if found.current and found.links:
        lines.insert(0, _("%(links)d QR codes and kiosk links at %(points)d service points "
                          "open this questionnaire.", links=found.links, points=found.points))
        lines.insert(1, _("They will open %(ref)s instead.", ref=found.fallback)
                     if found.fallback else _("They will stop working: citizens who scan them "
                                              "will be told the link does not work, until the "
                                              "points are given another questionnaire."))
    elif found.current:
        lines.insert(0, _("No active QR code or kiosk link opens this questionnaire."))
    else:
        lines.insert(0, _("A newer published version is in use; no QR code changes."))
    return _confirm(row, _("Retire %(ref)s?", ref=ref), lines, _("Retire"), "retire")


@bp.route("/<int:version_id>/delete", methods=["GET", "POST"])
def delete(version_id: int) -> str | WResponse:
    if request.method == "POST":
        return _status_change(version_id, "delete_draft")
    require("manage_questionnaires")
    row = version_or_404(version_id)
    ref = f"{row.key} v{row.version}"
    return _confirm(row, _("Delete draft %(ref)s?", ref=ref),
                    [_("The draft and every change made to it are deleted for good. No QR "
                       "code opens a draft.")], _("Delete draft"), "delete")


def _confirm(row: QuestionnaireVersion, title: str, lines: list[str], button: str,
             endpoint: str) -> str:
    return render_template("confirm.html", confirm={
        "title": title, "consequences": lines, "button": button, "fields": {},
        "action": url_for(f"authoring.{endpoint}", version_id=row.id),
        "cancel": url_for("authoring.structure", version_id=row.id)})

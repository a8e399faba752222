"""One-time tokens of a unit: 1-in-k selection, CSV upload with slips, API keys (create,
revoke, and for administrators the read_results permission of the results API)."""

from __future__ import annotations

import datetime as dt

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

from survey.collection.forms import LAYOUTS, ActionForm, ApiKeyForm, SamplerForm, UploadForm
from survey.collection.models import ApiKey
from survey.collection.services import apikeys, token_csv, tokens
from survey.collection.views import bp
from survey.common.errors import Forbidden, NotFound, ServiceError
from survey.common.web import current_scope, show_service_error
from survey.org.models import Unit


def _render(unit: Unit, status: int = 200, **forms: object) -> tuple[str, int]:
    sampler = tokens.sampler_of(unit)
    selected, not_selected = tokens.token_counts(unit)
    forms.setdefault("sampler_form", SamplerForm(formdata=None, k=sampler.k if sampler else 1))
    forms.setdefault("upload_form", UploadForm(formdata=None))
    forms.setdefault("key_form", ApiKeyForm(formdata=None))
    return render_template(
        "collection/tokens.html", unit=unit, sampler=sampler, keys=apikeys.keys_of(unit),
        may_grant=bool(current_scope().is_administrator),
        selected=selected, not_selected=not_selected, action=ActionForm(),
        layouts=LAYOUTS, ttl_days=tokens_ttl(), **forms), status


def tokens_ttl() -> int:
    return int(current_app.config["TOKEN_TTL_DAYS"])


@bp.route("/units/<int:unit_id>/tokens")
def unit_tokens(unit_id: int) -> tuple[str, int]:
    return _render(current_scope().get_unit(unit_id, "manage_units"))


@bp.route("/units/<int:unit_id>/sampler", methods=["POST"])
def unit_sampler(unit_id: int) -> tuple[str, int] | WResponse:
    unit = current_scope().get_unit(unit_id, "manage_units")
    form = SamplerForm()
    if form.validate_on_submit():
        try:
            tokens.configure_sampler(unit, form.k.data or 0)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("From now on 1 dossier in %(k)d gets a token.", k=form.k.data), "success")
            return redirect(url_for("collection.unit_tokens", unit_id=unit.id))
    return _render(unit, sampler_form=form)


@bp.route("/units/<int:unit_id>/upload", methods=["POST"])
def unit_upload(unit_id: int) -> tuple[str, int] | WResponse:
    unit = current_scope().get_unit(unit_id, "manage_units")
    form = UploadForm()
    if form.validate_on_submit():
        try:
            result = token_csv.upload(current_scope(), unit, form.file.data.read(),
                                      form.layout.data)
        except token_csv.CsvError as err:
            form.file.errors = [*form.file.errors, *err.problems]  # type: ignore[list-item]
            return _render(unit, 422, upload_form=form)
        message = _("%(n)d tokens issued, %(m)d dossiers not selected, %(a)d already issued.",
                    n=result.issued, m=result.not_selected, a=result.already_issued)
        flash(message, "success")
        if result.pdf is None:
            return redirect(url_for("collection.unit_tokens", unit_id=unit.id))
        response = Response(result.pdf, mimetype="application/pdf")
        name = f"slips-{unit.id}-{dt.date.today():%Y%m%d}.pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "private, no-store"  # the only copy of the links
        return response
    return _render(unit, 422 if form.is_submitted() else 200, upload_form=form)


@bp.route("/units/<int:unit_id>/api-keys", methods=["POST"])
def unit_key_create(unit_id: int) -> tuple[str, int]:
    unit = current_scope().get_unit(unit_id, "manage_units")
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            key, full = apikeys.create_key(unit, form.label.data or "")
        except ServiceError as err:
            show_service_error(form, err)
        else:
            return render_template("collection/api_key_created.html", unit_id=unit_id,
                                   label=key.label,
                                   full_key=full), 200
    return _render(unit, 200, key_form=form)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
def key_revoke(key_id: int) -> str | WResponse:
    """GET: the confirmation page, saying what stops working (POST does it)."""
    key = apikeys.key_in_scope(current_scope(), key_id)
    if request.method == "GET":
        return render_template("confirm.html", confirm={
            "title": _("Revoke API key %(prefix)s?", prefix=key.prefix),
            "consequences": [
                _("The system that uses key %(prefix)s (%(label)s) can no longer issue one-time "
                  "tokens or report transaction counts: its calls are refused at once.",
                  prefix=key.prefix, label=key.label),
                _("Tokens it issued before keep working until they expire.")],
            "fields": {}, "button": _("Revoke"),
            "action": url_for("collection.key_revoke", key_id=key.id),
            "cancel": url_for("collection.unit_tokens", unit_id=key.unit_id)})
    unit_id, prefix = key.unit_id, key.prefix
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        apikeys.revoke_key(key)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("API key %(prefix)s revoked.", prefix=prefix), "success")
    return redirect(url_for("collection.unit_tokens", unit_id=unit_id))


READ_RESULTS = {"1": True, "0": False}


def _key_or_message(key_id: int) -> ApiKey | tuple[str, int]:
    """The key, if of a unit the user manages; else a 404 page saying so."""
    try:
        return apikeys.key_in_scope(current_scope(), key_id)
    except NotFound:
        return render_template("error.html", code=404, title=_("API key not found"), message=_(
            "No API key %(id)d among the units you manage: nothing was changed.",
            id=key_id)), 404


@bp.route("/api-keys/<int:key_id>/read-results", methods=["GET", "POST"])
def key_read_results(key_id: int) -> str | tuple[str, int] | WResponse:
    """Grant (``allow=1``) or withdraw (``allow=0``) a key's right to read unpublished
    results through the API; administrators only. GET: the confirmation page, saying
    what changes (POST does it)."""
    key = _key_or_message(key_id)
    if not isinstance(key, ApiKey):
        return key
    if not apikeys.may_grant_read_results(current_scope(), key):
        raise Forbidden("read_results")
    allow = READ_RESULTS.get(request.values.get("allow", ""))
    if allow is None:
        return render_template("error.html", code=400, title=_("The request was refused"),
                               message=_("Say whether to grant (allow=1) or withdraw "
                                         "(allow=0): nothing was changed.")), 400
    back = url_for("collection.unit_tokens", unit_id=key.unit_id)
    if request.method == "GET":
        return render_template("confirm.html", confirm=_read_results_confirm(key, allow, back))
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        apikeys.set_read_results(current_scope(), key, allow)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("API key %(prefix)s now reads unpublished results.", prefix=key.prefix)
              if allow else _("API key %(prefix)s now reads published results only.",
                              prefix=key.prefix), "success")
    return redirect(back)


def _read_results_confirm(key: ApiKey, allow: bool, back: str) -> dict[str, object]:
    where = {"prefix": key.prefix, "label": key.label, "unit": key.unit.name}
    if allow:
        title = _("Let API key %(prefix)s read unpublished results?", prefix=key.prefix)
        lines = [
            _("The system that uses key %(prefix)s (%(label)s) will read, through the results "
              "API, every finished snapshot of %(unit)s and its sub-units, published or not.",
              **where),
            _("It will also read the figures the publication rules suppress (too few "
              "responses, too wide an interval): give this only to a system that keeps them "
              "internal."),
            _("The change is recorded in the audit log with your name.")]
    else:
        title = _("Withdraw unpublished results from API key %(prefix)s?", prefix=key.prefix)
        lines = [
            _("The system that uses key %(prefix)s (%(label)s) will read only published "
              "snapshots of %(unit)s and its sub-units; suppressed figures come back empty.",
              **where),
            _("The change is recorded in the audit log with your name.")]
    return {"title": title, "consequences": lines, "fields": {"allow": "1" if allow else "0"},
            "button": _("Grant") if allow else _("Withdraw"),
            "action": url_for("collection.key_read_results", key_id=key.id), "cancel": back}

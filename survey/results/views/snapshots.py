"""Snapshots: compute (the work runs outside the request), list, rows, bundle."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.services import campaigns as campaign_service
from survey.common.access import Scope
from survey.common.errors import NotFound, ServiceError
from survey.common.forms import SECTOR_LABELS
from survey.common.web import download, lang, require, show_service_error
from survey.results.forms import ComputeForm
from survey.results.services import bundles, dashboard, export, jobs, sectors, snapshots
from survey.results.views import bp


@bp.route("/snapshots", methods=["GET", "POST"])
def snapshot_list() -> str | WResponse:
    scope = require("results")
    form = ComputeForm()
    if form.validate_on_submit():
        try:
            snapshot = snapshots.create(form.period.data or "", form.scope.data or None,
                                        current_user.username, scope=scope)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            jobs.start(current_app._get_current_object(), snapshot.id)  # type: ignore[attr-defined]
            flash(_("Snapshot %(id)d is being computed; this page shows when it is done.",
                    id=snapshot.id), "success")
            return redirect(url_for("results.snapshot_list"))
    return render_template("results/snapshots.html", form=form,
                           snapshots=snapshots.visible(scope),
                           page=request.args.get("page", type=int))


@bp.route("/snapshots/<int:snapshot_id>")
def snapshot_detail(snapshot_id: int) -> str:
    scope = require("results")
    snapshot = snapshots.visible_one(scope, snapshot_id)
    rows = snapshots.rows_in_scope(scope, snapshot.id)
    # A campaign's name and design for a viewer of some of its figures only.
    plans = dashboard.campaign_designs(snapshot) if rows else []
    readable = {p.campaign_id for p in plans if _sees_campaign(scope, p.campaign_id)}
    return render_template("results/snapshot.html", snapshot=snapshot,
                           rows=rows, plans=plans,
                           weights=readable, english=lang() == "en", viewed=snapshot.id,
                           basis_label=dashboard.basis_labels(snapshot),
                           sectors=SECTOR_LABELS,
                           nav_sectors=sectors.sectors_of(scope, snapshot.id))


def _sees_campaign(scope: Scope, campaign_id: int) -> bool:
    """Whether the viewer may read the campaign's weighting report (its page's rule)."""
    if not scope.has(campaign_service.VIEW):
        return False
    try:
        campaign_service.get_campaign(scope, campaign_id, campaign_service.VIEW)
    except NotFound:
        return False
    return True


@bp.route("/snapshots/<int:snapshot_id>/results.csv")
def snapshot_results_csv(snapshot_id: int) -> Response:
    scope = require("export")
    snapshot = snapshots.visible_one(scope, snapshot_id)
    data = export.results_csv(snapshots.rows_in_scope(scope, snapshot.id))
    return download(data, "text/csv; charset=utf-8", f"sipas-{snapshot.id}-results.csv")


@bp.route("/snapshots/<int:snapshot_id>/bundle.zip")
def snapshot_bundle(snapshot_id: int) -> Response | WResponse:
    """The microdata bundle; only administrators' and province-wide exporters' snapshots
    cover every unit, so the bundle is given for snapshots within the exporter's scope.
    A snapshot of more than ``BUNDLE_INLINE_MAX`` responses gets its bundle written to a
    file outside the request (:mod:`~survey.results.services.bundles`): this link starts
    it, and serves the file once it is written."""
    scope = require("export")
    snapshot = snapshots.exportable(scope, snapshot_id)
    name = f"sipas-{snapshot.id}-microdata.zip"
    if (snapshot.n_responses or 0) > bundles.inline_max():
        bundles.start(current_app._get_current_object(), snapshot.id)  # type: ignore[attr-defined]
        path = bundles.ready(snapshot.id)
        if path is None:
            flash(_("The microdata bundle of snapshot %(id)d is being written (about a "
                    "minute for a million responses); the same link gives the file when "
                    "it is ready.", id=snapshot.id), "info")
            return redirect(url_for("results.snapshot_detail", snapshot_id=snapshot.id))
        response = send_file(path, mimetype="application/zip", as_attachment=True,
                             download_name=name, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
    with tempfile.TemporaryDirectory() as tmp:
        export.write_bundle(snapshot, snapshots.rows_of(snapshot.id), Path(tmp))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, path.name)
    return download(buffer.getvalue(), "application/zip", name)


@bp.route("/")
def overview() -> str | WResponse:
    scope = require("results")
    try:
        ov = dashboard.overview(scope, request.args.get("snapshot", type=int))
    except NotFound:
        if "snapshot" in request.args:
            raise  # a snapshot the viewer may not see: 404, as its other pages
        flash(_("No finished snapshot yet: compute one first."), "info")
        return redirect(url_for("results.snapshot_list"))
    titles = {panel.questionnaire: dashboard.node_titles(panel.questionnaire)
              for panel in ov.panels}
    return render_template("results/overview.html", ov=ov, titles=titles,
                           sectors=SECTOR_LABELS, unit_label=lambda line: line.row.unit_name,
                           explain=dashboard.explain_flags, viewed=ov.snapshot.id,
                           basis_label=dashboard.basis_labels(ov.snapshot),
                           nav_sectors=sectors.sectors_of(scope, ov.snapshot.id))


@bp.route("/units/<int:unit_id>")
def unit_results(unit_id: int) -> str | WResponse:
    scope = require("results")
    scope.get_unit(unit_id, "results")  # outside the scope: 404, not "no results yet"
    try:
        page = dashboard.unit_page(scope, unit_id, request.args.get("snapshot", type=int))
    except NotFound:
        flash(_("No results for this unit yet."), "info")
        return redirect(url_for("org.unit_detail", unit_id=unit_id))
    return render_template("results/unit.html", page=page, unit_label=_unit_label,
                           explain=dashboard.explain_flags, sectors=SECTOR_LABELS,
                           viewed=page.snapshot.id,
                           basis_label=dashboard.basis_labels(page.snapshot),
                           nav_sectors=sectors.sectors_of(scope, page.snapshot.id))


def _unit_label(line: dashboard.Line) -> str:
    return line.row.unit_name


from survey.results.views import pages  # noqa: E402,F401  (sector pages and rankings)

"""Results pages beyond the overview and a unit: a sector's page and the rankings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import NotFound, ServiceError
from survey.common.forms import SECTOR_LABELS
from survey.common.web import require
from survey.results.services import dashboard, rankings, sectors
from survey.results.views import bp


@bp.route("/sectors/<sector>")
def sector_results(sector: str) -> str | WResponse:
    scope = require("results")
    try:
        page = sectors.sector_page(scope, sector, request.args.get("snapshot", type=int))
    except NotFound:
        if sector not in sectors.visible_sectors(scope) or "snapshot" in request.args:
            raise  # outside the scope: the same 404 as a sector that does not exist
        flash(_("No results for this sector yet."), "info")
        return redirect(url_for("results.overview"))
    return render_template("results/sector.html", page=page, sectors=SECTOR_LABELS,
                           explain=dashboard.explain_flags, unit_label=_unit_label,
                           viewed=page.snapshot.id,
                           basis_label=dashboard.basis_labels(page.snapshot),
                           nav_sectors=sectors.sectors_of(scope, page.snapshot.id))


FILTERS = ("snapshot", "questionnaire", "basis", "node", "sector", "within")


@bp.route("/rankings")
def ranking() -> str | WResponse:
    scope = require("results")
    args = request.args
    try:
        page = rankings.ranking(
            scope, snapshot_id=args.get("snapshot", type=int),
            questionnaire=args.get("questionnaire"), basis=args.get("basis"),
            node=args.get("node"), sector=args.get("sector"),
            within=args.get("within", type=int))
    except ServiceError as err:  # a filter value the snapshot does not hold: said, and
        flash(err.message, "error")  # dropped (the other choices are kept)
        kept = {k: args[k] for k in FILTERS if k in args and k != err.field}
        return redirect(url_for("results.ranking", **kept))
    except NotFound:
        if args:  # a unit or snapshot outside the scope: 404
            raise
        flash(_("No results in your scope yet."), "info")
        return redirect(url_for("results.snapshot_list"))
    labels = {r.line.row.unit_id: f"{r.rank_low}–{r.rank_high} · {r.line.row.unit_name}"
              for r in page.ranked}
    return render_template("results/ranking.html", page=page, sectors=SECTOR_LABELS,
                           unit_label=lambda line: labels[line.row.unit_id],
                           viewed=page.snapshot.id,
                           basis_label=dashboard.basis_labels(page.snapshot),
                           nav_sectors=sectors.sectors_of(scope, page.snapshot.id))


def _unit_label(line: dashboard.Line) -> str:
    return line.row.unit_name

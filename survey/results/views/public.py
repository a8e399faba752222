"""The public results page (no sign-in, no JavaScript): the province's published indices
per agency with their 95 % intervals and the method in plain words, for citizens and the
press. Only the newest published snapshot of each period and scope is shown; any other
snapshot is a 404, as is an unknown sector."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from survey.common.forms import SECTOR_LABELS
from survey.common.web import lang
from survey.results.services import publication

bp = Blueprint("public_results", __name__, url_prefix="/ket-qua")


@bp.route("/")
@bp.route("/<int:snapshot_id>")
def results(snapshot_id: int | None = None) -> str:
    sector = request.args.get("sector") or None
    if sector is not None and sector not in SECTOR_LABELS:
        abort(404)
    view = publication.page(snapshot_id, sector, lang())  # None: nothing published yet
    return render_template("results/public.html", page=view, sectors=SECTOR_LABELS,
                           endpoint_id=snapshot_id)

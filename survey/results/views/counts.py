"""Transaction counts of a unit's service points (what open responses are weighted to)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.common.errors import ServiceError
from survey.common.web import current_scope, show_service_error
from survey.results.forms import CountsUploadForm
from survey.results.services import transactions
from survey.results.views import bp


@bp.route("/units/<int:unit_id>/transactions", methods=["GET", "POST"])
def unit_counts(unit_id: int) -> str | WResponse:
    scope = current_scope()
    unit = scope.get_unit(unit_id, "report_transactions")
    form = CountsUploadForm()
    if form.validate_on_submit():
        try:
            items = transactions.read_csv(form.file.data.read())
            done = transactions.record(scope, items, "csv")
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Counts recorded: %(new)d new, %(changed)d changed, %(same)d unchanged.",
                    new=done.created, changed=done.updated, same=done.unchanged), "success")
            return redirect(url_for("results.unit_counts", unit_id=unit_id))
    return render_template("results/counts.html", unit=unit, form=form,
                           counts=transactions.counts_of(unit),
                           points=transactions.points_of(unit))

"""Review of flagged responses: listed within the "results" scope; accepted or rejected
only where the scope holds "review" (managers, not analysts)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.collection.forms import ReviewForm
from survey.collection.services import gaming, review
from survey.collection.views import bp
from survey.common.errors import ServiceError
from survey.common.web import lang, require, show_service_error
from survey.org.services import browse


@bp.route("/reviews")
def reviews() -> str:
    scope = require("results")
    unit = None
    unit_id = request.args.get("unit", type=int)
    if unit_id:
        unit = scope.get_unit(unit_id, "results")
    flag = (request.args.get("flag") or "").strip()
    burst = None
    burst_id = request.args.get("burst", type=int)
    if burst_id:
        burst = review.response_in_scope(scope, burst_id)
    page = review.flagged_page(scope, unit=unit, flag=flag or None, burst=burst,
                               page=request.args.get("page", type=int))
    units = browse.units(scope, "results")
    return render_template(
        "collection/reviews.html", page=page, unit=unit, flag=flag, units=units,
        burst=burst, names={u.id: u.name for u in units},
        flags=review.flag_names(scope.responses()),
        views=review.describe(page.items, lang()),
        flag_labels=gaming.FLAG_LABELS, can_review=scope.has("review"),
        decidable=review.decidable(scope, [r.id for r in page.items]),
        form=ReviewForm(formdata=None))


@bp.route("/reviews/decide", methods=["POST"])
def review_decide_many() -> WResponse:
    """Accept or reject the ticked responses (a burst) at once: all or none."""
    scope = require("results")
    form = ReviewForm()
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    try:
        if not form.validate_on_submit():
            raise ServiceError(_("Choose accept or reject."), "decision")
        done = review.decide_many(scope, ids, form.decision.data or "", current_user)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("%(n)d responses accepted.", n=done) if form.decision.data == "accepted"
              else _("%(n)d responses rejected.", n=done), "success")
    return redirect(url_for("collection.reviews", unit=request.form.get("unit", type=int),
                            flag=request.form.get("flag") or None))


@bp.route("/reviews/<int:response_id>", methods=["POST"])
def review_decide(response_id: int) -> WResponse:
    scope = require("results")
    response = review.response_in_scope(scope, response_id, "review")
    form = ReviewForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(_("Choose accept or reject."), "decision")
        review.decide(response, form.decision.data or "", current_user)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("Response %(id)d accepted.", id=response_id) if form.decision.data == "accepted"
              else _("Response %(id)d rejected.", id=response_id), "success")
    # Back to the same filtered list (rebuilt here: never redirect to a posted address).
    return redirect(url_for("collection.reviews", unit=request.form.get("unit", type=int),
                            flag=request.form.get("flag") or None))

"""Comments (góp ý) of a unit's subtree: read within "results", hidden with a reason or
shown again where the scope holds "moderate" (managers)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.collection.forms import ActionForm, HideCommentForm
from survey.collection.services import comments as service
from survey.collection.views import bp
from survey.common.errors import ServiceError
from survey.common.web import lang, require, show_service_error
from survey.org.services import browse

FILTER_ARGS = ("unit", "point", "period", "q", "visibility", "page")


@bp.route("/comments")
def comments() -> str:
    scope = require("results")
    try:
        filters = service.parse_filters(scope, request.args)
    except ServiceError as err:
        show_service_error(None, err)
        filters = service.Filters()
    page, rows = service.comments_page(scope, filters, request.args.get("page", type=int),
                                       lang())
    return render_template(
        "collection/comments.html", page=page, rows=rows, filters=filters,
        args=filters.args(), units=browse.units(scope, "results"),
        points=service.points_for(scope, filters.unit), reasons=service.REASON_LABELS,
        can_moderate=scope.has("moderate"), hide_form=HideCommentForm(formdata=None),
        action_form=ActionForm(formdata=None))


def _back() -> WResponse:
    # The same filtered list, rebuilt from known names (never a posted address).
    return redirect(url_for("collection.comments",
                            **{k: request.form.get(k) or None for k in FILTER_ARGS}))


@bp.route("/comments/<int:answer_id>/hide", methods=["POST"])
def comment_hide(answer_id: int) -> WResponse:
    answer = service.comment_to_moderate(require("moderate"), answer_id)
    form = HideCommentForm()
    try:
        service.hide(answer, form.reason.data or "", form.note.data or "", current_user)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("The comment is hidden; only managers see it now."), "success")
    return _back()


@bp.route("/comments/<int:answer_id>/unhide", methods=["POST"])
def comment_unhide(answer_id: int) -> WResponse:
    answer = service.comment_to_moderate(require("moderate"), answer_id)
    try:
        service.unhide(answer, current_user)
    except ServiceError as err:
        show_service_error(None, err)
    else:
        flash(_("The comment is shown again."), "success")
    return _back()

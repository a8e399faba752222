"""The sampling frame page: upload with its validation report, the draw, the sample."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.forms import ActionForm, DrawForm, FrameForm, IssueForm
from survey.campaigns.models import Campaign
from survey.campaigns.services import campaigns, draw, frame_files, frames, invitations
from survey.campaigns.services.campaigns import PERMISSION
from survey.campaigns.views import bp
from survey.common.errors import ServiceError
from survey.common.pages import paginate
from survey.common.web import download, require, show_service_error

Page = tuple[str, int] | WResponse


def _render(campaign: Campaign, status: int = 200, **extra: object) -> Page:
    extra.setdefault("frame_form", FrameForm(formdata=None))
    # The take per cluster proposed is the one the design page priced.
    extra.setdefault("draw_form", DrawForm(formdata=None,
                                           data={"take": campaign.planned_take}))
    extra.setdefault("problems", None)
    extra.setdefault("invite_form", IssueForm(formdata=None))
    return render_template(
        "campaigns/frame.html", campaign=campaign, frame=frames.frame_of(campaign),
        drawn=draw.draw_of(campaign), counts=draw.sample_counts(campaign),
        pending=invitations.pending(campaign), max_mb=frame_files.max_bytes() // (1024 * 1024),
        methods=dict(DrawForm.METHODS), **extra), status


@bp.url_value_preprocessor
def _frame_size_limit(endpoint: str | None, values: dict[str, object] | None) -> None:
    # A frame may be far larger than the staff forms' limit. URL preprocessors run before
    # every before_request hook (CSRF, the input checks read the body); the service then
    # refuses a file over its own limit before reading it, with a message to act on.
    if endpoint == "campaigns.frame_upload":
        request.max_content_length = frame_files.max_bytes() + 1024 * 1024


@bp.route("/<int:campaign_id>/frame")
def frame_page(campaign_id: int) -> Page:
    return _render(campaigns.get_campaign(require(PERMISSION), campaign_id))


@bp.route("/<int:campaign_id>/frame", methods=["POST"])
def frame_upload(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    form = FrameForm()
    if not form.validate_on_submit():
        return _render(campaign, 422, frame_form=form)
    mapping = frames.Mapping(*(getattr(form, f).data or None for f in (
        "id_column", "unit_column", "stratum_column", "cluster_column", "size_column")))
    try:
        frame = frames.import_frame(campaign, form.file.data.stream,
                                    form.file.data.filename or "frame", mapping)
    except frame_files.FrameRefused as err:
        flash(err.message, "error")
        return _render(campaign, 422, frame_form=form, problems=err.problems,
                       problem_total=err.total)
    except ServiceError as err:
        show_service_error(form, err)
        return _render(campaign, 422, frame_form=form)
    flash(_("Frame imported: %(n)d rows.", n=frame.row_count), "success")
    return redirect(url_for("campaigns.frame_page", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/draw", methods=["POST"])
def draw_post(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    form = DrawForm()
    if form.validate_on_submit():
        try:
            done = draw.draw_sample(campaign, method=form.method.data or "",
                                    seed=form.seed.data, reserve=form.reserve.data or 0,
                                    take=form.take.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Sample drawn: %(n)d persons and %(r)d in reserve (seed %(seed)d).",
                    n=done.selected, r=done.reserves, seed=done.seed), "success")
            return redirect(url_for("campaigns.frame_page", campaign_id=campaign_id))
    return _render(campaign, 422, draw_form=form)


@bp.route("/<int:campaign_id>/invitations", methods=["POST"])
def invitations_post(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    form = IssueForm()
    if form.validate_on_submit():
        try:
            issued = invitations.issue_invitations(campaign)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            # The only copy of the links (every format in one ZIP): private, never cached.
            return download(issued.data, issued.mimetype,
                            f"thu-moi-{campaign.id}-{issued.count}.{issued.extension}")
    return _render(campaign, 422, invite_form=form)


@bp.route("/<int:campaign_id>/sample")
def sample_page(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    page = paginate(draw.sample_rows(campaign), request.args.get("page", type=int), 100)
    names = {cu.unit_id: cu.unit.name for cu in campaign.units}
    return render_template("campaigns/sample.html", campaign=campaign, page=page,
                           rows=list(page.items), names=names,
                           two_stage=draw.two_stage(campaign)), 200


@bp.route("/<int:campaign_id>/sample/<int:row_id>/refused", methods=["POST"])
def refused(campaign_id: int, row_id: int) -> WResponse:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    if ActionForm().validate_on_submit():
        try:
            replacement = draw.replace_refusal(campaign, row_id)
        except ServiceError as err:
            show_service_error(None, err)
        else:
            if replacement is None and draw.replaced_within_cluster(row_id):
                flash(_("Refusal recorded; no reserve is left in this cluster: the person "
                        "counts as a nonrespondent when the campaign is closed."), "warning")
            elif replacement is None:
                flash(_("Refusal recorded; no reserve is left in this stratum."), "warning")
            else:
                flash(_("Refusal recorded; row %(row)d of the frame replaces it.",
                        row=replacement.row_number), "success")
    return redirect(url_for("campaigns.sample_page", campaign_id=campaign_id,
                            page=request.args.get("page", type=int)))

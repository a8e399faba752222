"""Closing a campaign (its managers'): the close form with margins and trimming; the
weighting report kept with the closed campaign (read by its analysts too), its history of
runs and the managers' form to weight it again."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.forms import CloseForm, ReweightForm
from survey.campaigns.models import Campaign
from survey.campaigns.services import campaigns, closing
from survey.campaigns.services.campaigns import VIEW
from survey.campaigns.views import bp
from survey.common.errors import ServiceError
from survey.common.web import current_scope, require, show_service_error
from survey.results.models import ResultSnapshot

Page = tuple[str, int] | WResponse


def _render(campaign: Campaign, form: CloseForm, status: int) -> Page:
    people = closing.sampled_persons(campaign) if campaign.status == "fieldwork" else []
    return render_template(
        "campaigns/close.html", campaign_id=campaign.id, campaign_name=campaign.name,
        status=campaign.status, form=form, selected=len(people),
        respondents=sum(1 for p in people if p.response_id is not None)), status


@bp.route("/<int:campaign_id>/close", methods=["GET", "POST"])
def close_page(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(campaigns.PERMISSION), campaign_id)
    if campaign.status == "closed":
        return redirect(url_for("campaigns.weights_page", campaign_id=campaign.id))
    form = CloseForm()
    if form.validate_on_submit():
        snapshot = _weigh(form, closing.close, campaign)
        if snapshot is not None:
            if snapshot.status == "done":
                flash(_("The campaign is closed and its results are frozen."), "success")
            else:
                flash(_("The campaign is closed; its results could not be computed: "
                        "%(error)s", error=snapshot.error or ""), "error")
            return redirect(url_for("campaigns.weights_page", campaign_id=campaign.id))
    return _render(campaign, form, 422 if form.is_submitted() else 200)


def _weigh(form: CloseForm | ReweightForm, run: Callable[..., ResultSnapshot],
           campaign: Campaign) -> ResultSnapshot | None:
    """The close or a new weighting with the form's margins and trimming: its snapshot, or
    None with the refusal shown on the form (nothing changed)."""
    try:
        options = closing.CloseOptions(closing.parse_margins(form.margins.data or ""),
                                       form.trim.data)
        return run(campaign, options, current_user.username)
    except ServiceError as err:
        show_service_error(form, err)
        return None


@bp.route("/<int:campaign_id>/weights", methods=["GET", "POST"])
def weights_page(campaign_id: int) -> Page:
    # Reading the report is an analyst's too; weighting again is the managers'.
    permission = campaigns.PERMISSION if request.method == "POST" else VIEW
    campaign = campaigns.get_campaign(require(permission), campaign_id, permission)
    manages = campaigns.manages(current_scope(), campaign)
    form = _reweight_form(campaign) if manages and campaign.status == "closed" else None
    if form is not None and form.validate_on_submit():
        snapshot = _weigh(form, closing.reweight, campaign)
        if snapshot is not None:
            if snapshot.status == "done":
                flash(_("The campaign is weighted again; snapshot %(id)d holds its new "
                        "results.", id=snapshot.id), "success")
            else:
                flash(_("The campaign is weighted again; its results could not be computed: "
                        "%(error)s", error=snapshot.error or ""), "error")
            return redirect(url_for("campaigns.weights_page", campaign_id=campaign.id))
    status = 422 if form is not None and form.is_submitted() else 200
    if request.method == "POST" and form is None:  # not closed (yet): nothing to weight
        flash(_("Only a closed campaign can be weighted again."), "error")
        status = 422
    snapshot = closing.snapshot_of(campaign)
    return render_template(
        "campaigns/weights.html", campaign_id=campaign.id, campaign_name=campaign.name,
        report=campaign.weighting_report, form=form, manages=manages,
        history=closing.runs_of(campaign),
        snapshot_id=snapshot.id if snapshot is not None else None,
        snapshot_status=snapshot.status if snapshot is not None else None,
        snapshot_n=snapshot.n_responses if snapshot is not None else None), status


def _reweight_form(campaign: Campaign) -> ReweightForm:
    if request.method == "POST":
        return ReweightForm()
    current = closing.current_options(campaign)
    return ReweightForm(data={"margins": closing.margins_text(current.margins),
                              "trim": current.trim})

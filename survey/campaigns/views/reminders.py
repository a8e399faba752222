"""Reminders of a campaign in fieldwork: the count of invited persons still due, and the
download (slips or the CSV for the unit's SMS or Zalo sender)."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.forms import InvitationForm
from survey.campaigns.models import Campaign
from survey.campaigns.services import campaigns, reminders
from survey.campaigns.services.campaigns import PERMISSION
from survey.campaigns.views import bp
from survey.common.errors import ServiceError
from survey.common.web import download, require, show_service_error

Page = tuple[str, int] | WResponse


def _render(campaign: Campaign, form: InvitationForm, status: int) -> Page:
    return render_template("campaigns/reminders.html", campaign_id=campaign.id,
                           campaign_name=campaign.name, in_fieldwork=campaign.status == "fieldwork",
                           due=reminders.due(campaign), form=form), status


@bp.route("/<int:campaign_id>/reminders")
def reminders_page(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    return _render(campaign, InvitationForm(formdata=None), 200)


@bp.route("/<int:campaign_id>/reminders", methods=["POST"])
def reminders_post(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            issued = reminders.produce_reminders(campaign, form.output.data or "")
        except ServiceError as err:
            show_service_error(form, err)
        else:
            # The only copy of the fresh links: private, never cached.
            return download(issued.data, issued.mimetype,
                            f"reminders-{campaign.id}-{issued.count}.{issued.extension}")
    return _render(campaign, form, 422)

"""The field progress page of a campaign (its managers')."""

from __future__ import annotations

from flask import render_template
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.services import campaigns, progress
from survey.campaigns.services.campaigns import VIEW
from survey.campaigns.views import bp
from survey.common.web import require

Page = tuple[str, int] | WResponse


@bp.route("/<int:campaign_id>/progress")
def progress_page(campaign_id: int) -> Page:
    campaign = campaigns.get_campaign(require(VIEW), campaign_id, VIEW)
    today = progress.local_today()
    return render_template("campaigns/progress.html", campaign_name=campaign.name,
                           campaign_id=campaign.id, today=today,
                           data=progress.progress(campaign, today)), 200

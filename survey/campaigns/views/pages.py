"""Campaign list, create/edit, status, and the design page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WResponse

from survey.campaigns.forms import ActionForm, CampaignForm, DesignForm
from survey.campaigns.models import Campaign
from survey.campaigns.services import campaigns, design, reminders
from survey.campaigns.services.campaigns import PERMISSION, VIEW, CampaignInput
from survey.campaigns.views import bp
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.common.forms import choices
from survey.common.web import current_scope, require, show_service_error

Page = tuple[str, int] | WResponse


def _campaign_form(scope: Scope, campaign: Campaign | None = None) -> CampaignForm:
    data = campaigns.input_of(campaign) if campaign is not None and not _posted() else None
    form = CampaignForm(data=data) if data else CampaignForm()
    form.owner_unit_id.choices = choices((u.id, u.name) for u in campaigns.owner_choices(scope))
    form.questionnaire.choices = choices(campaigns.questionnaire_choices())
    form.unit_ids.choices = choices((u.id, u.name) for u in campaigns.unit_choices(scope))
    return form


def _posted() -> bool:
    return request.method == "POST"


def _input(form: CampaignForm) -> CampaignInput:
    return CampaignInput(
        name=form.name.data or "", owner_unit_id=form.owner_unit_id.data or 0,
        questionnaire=form.questionnaire.data or "", unit_kind=form.unit_kind.data or "",
        coverage=form.coverage.data or "all", unit_ids=form.unit_ids.data or [],
        period_start=form.period_start.data, period_end=form.period_end.data,
        channels=form.channels.data or [], strata_by=form.strata_by.data or "unit",
        stages=form.stages.data or "unit_person", cluster_kind=form.cluster_kind.data or None,
        size_mode=form.size_mode.data or "margin",
        target_margin_percent=form.target_margin_percent.data,
        total_sample=form.total_sample.data, allocation=form.allocation.data or "proportional")


@bp.route("/")
def index() -> Page:
    scope = require(VIEW)
    return render_template("campaigns/index.html", campaigns=campaigns.list_campaigns(scope, VIEW),
                           can_create=scope.has(PERMISSION),
                           labels=campaigns.STATUS_LABELS), 200


@bp.route("/new", methods=["GET", "POST"])
def create() -> Page:
    scope = require(PERMISSION)
    form = _campaign_form(scope)
    if form.validate_on_submit():
        try:
            campaign = campaigns.create_campaign(scope, _input(form))
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Campaign created."), "success")
            return redirect(url_for("campaigns.design_page", campaign_id=campaign.id))
    status = 422 if form.is_submitted() else 200
    return render_template("campaigns/form.html", form=form, campaign=None), status


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int) -> Page:
    scope = require(PERMISSION)
    campaign = campaigns.get_campaign(scope, campaign_id)
    form = _campaign_form(scope, campaign)
    if form.validate_on_submit():
        try:
            campaigns.update_campaign(scope, campaign, _input(form))
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns.design_page", campaign_id=campaign.id))
    status = 422 if form.is_submitted() else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


@bp.route("/<int:campaign_id>/status", methods=["POST"])
def status(campaign_id: int) -> WResponse:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            campaigns.advance_status(campaign, form.target.data or "")
        except ServiceError as err:
            show_service_error(None, err)
        else:
            flash(_("Status changed."), "success")
    return redirect(url_for("campaigns.design_page", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/delete", methods=["POST"])
def delete(campaign_id: int) -> WResponse:
    campaign = campaigns.get_campaign(require(PERMISSION), campaign_id)
    if ActionForm().validate_on_submit():
        try:
            campaigns.delete_campaign(campaign)
        except ServiceError as err:
            show_service_error(None, err)
            return redirect(url_for("campaigns.design_page", campaign_id=campaign_id))
        flash(_("Campaign deleted."), "success")
    return redirect(url_for("campaigns.index"))


def _design_form(campaign: Campaign) -> DesignForm:
    if _posted():
        return DesignForm()
    rows = [{"unit_id": str(cu.unit_id), "stratum": cu.stratum or "",
             "population": cu.expected_population} for cu in campaign.units]
    return DesignForm(data={"p_percent": campaign.assumed_p * 100, "deff": campaign.deff,
                            "response_percent": campaign.response_rate * 100, "units": rows,
                            "take": campaign.planned_take, "icc": campaign.planned_icc,
                            "cluster_size": campaign.planned_cluster_size})


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
def design_page(campaign_id: int) -> Page:
    # Reading the design is an analyst's too; saving it is the managers'.
    permission = PERMISSION if _posted() else VIEW
    campaign = campaigns.get_campaign(require(permission), campaign_id, permission)
    form = _design_form(campaign)
    if form.validate_on_submit():
        rows = {int(r.unit_id.data or 0): (r.stratum.data, r.population.data)
                for r in form.units}
        try:
            design.set_assumptions(campaign, p=(form.p_percent.data or 0) / 100,
                                   deff=form.deff.data or 0,
                                   response_rate=(form.response_percent.data or 0) / 100,
                                   units=rows, take=form.take.data, icc=form.icc.data,
                                   cluster_size=form.cluster_size.data)
        except ServiceError as err:
            show_service_error(form, err)
        else:
            flash(_("Design saved."), "success")
            return redirect(url_for("campaigns.design_page", campaign_id=campaign_id))
    return _render_design(campaign, form, 422 if form.is_submitted() else 200)


def _render_design(campaign: Campaign, form: DesignForm, status: int) -> Page:
    names = {cu.unit_id: cu.unit.name for cu in campaign.units}
    plan = design.plan(campaign)
    return render_template(
        "campaigns/design.html", campaign=campaign, form=form, plan=plan,
        names=names, by_unit={str(u.unit_id): u for u in plan.units},
        labels=campaigns.STATUS_LABELS,
        next_status=campaigns.NEXT_STATUS.get(campaign.status),
        owner=campaign.owner_unit.name, texts=_texts(campaign),
        reminders_due=reminders.due(campaign),
        manages=campaigns.manages(current_scope(), campaign)), status


def _texts(campaign: Campaign) -> dict[str, str]:
    return {
        "channels": ", ".join(str(campaigns.CHANNELS[c]) for c in campaign.channel_list),
        "strata": str(campaigns.STRATA_BY.get(campaign.strata_by, campaign.strata_by)),
        "stages": str(campaigns.STAGES.get(campaign.stages, campaign.stages)),
        "clusters": str(campaigns.CLUSTER_KINDS.get(campaign.cluster_kind or "", "")),
        "kind": str(campaigns.KIND_LABELS.get(campaign.unit_kind, campaign.unit_kind)),
        "allocation": str(campaigns.ALLOCATIONS.get(campaign.allocation, "")),
    }

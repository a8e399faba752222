"""Campaigns: create, edit, list and move through draft → fieldwork → closed, within a
scope. A campaign is in view when the scope's ``manage_campaigns`` covers its owning
department (a sector manager of health: the health departments); the units it covers
must be in scope too and of the owner's sector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from survey.authoring.models import QuestionnaireStatus, QuestionnaireVersion
from survey.campaigns.models import Campaign, CampaignDraw, CampaignStatus, CampaignUnit
from survey.common.access import Permission, Scope
from survey.common.errors import NotFound, ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db
from survey.org.models import Unit

PERMISSION = "manage_campaigns"
VIEW = "view_campaigns"  # read-only: list, design, progress, weighting report (analysts)
SECTORS = ("health", "education", "administrative")
OWNER_KINDS = ("province", "department")
UNIT_KINDS: dict[str, tuple[str, ...]] = {
    "health": ("hospital",),
    "education": ("school",),
    "administrative": ("commune", "department", "service_centre"),
}
KIND_LABELS = {"hospital": _l("Hospitals"), "school": _l("Schools"),
               "commune": _l("Communes and wards (one-stop desks)"),
               "department": _l("Departments"), "service_centre": _l("Public service centres")}
CHANNELS = {"token": _l("One-time tokens"), "field": _l("Interviewer tablets"),
            "paper": _l("Paper questionnaires")}
STRATA_BY = {"unit": _l("Each unit is a stratum"), "hospital_level": _l("Hospital level"),
             "school_level": _l("School level"), "commune_type": _l("Commune type")}
STAGES = {"unit_person": _l("Unit → person"),
          "unit_cluster_person": _l("Unit → cluster → person")}
CLUSTER_KINDS = {"ward_day": _l("Ward-day"), "class": _l("Class")}
ALLOCATIONS = {"proportional": _l("Proportional"), "neyman": _l("Neyman"),
               "equal": _l("Equal"), "power": _l("Power (square root)")}
STATUS_LABELS = {"draft": _l("Draft"), "fieldwork": _l("Fieldwork"), "closed": _l("Closed")}
NEXT_STATUS = {"draft": "fieldwork", "fieldwork": "closed"}
MAX_SAMPLE = 1_000_000


@dataclass(frozen=True)
class CampaignInput:
    name: str
    owner_unit_id: int
    questionnaire: str  # "key:version"
    unit_kind: str
    coverage: str  # "all" or "list"
    unit_ids: Sequence[int]
    period_start: dt.date
    period_end: dt.date
    channels: Sequence[str]
    strata_by: str
    stages: str
    cluster_kind: str | None
    size_mode: str
    target_margin_percent: float | None
    total_sample: int | None
    allocation: str


def visible(scope: Scope, permission: Permission = PERMISSION) -> Select[tuple[Campaign]]:
    """Campaigns whose owning department the scope may manage (or only view) campaigns of."""
    return (select(Campaign).join(Unit, Campaign.owner_unit_id == Unit.id)
            .where(scope.unit_clause(permission)))


def manages(scope: Scope, campaign: Campaign) -> bool:
    return scope.allows(PERMISSION, campaign.owner_unit)


def list_campaigns(scope: Scope, permission: Permission = PERMISSION) -> list[Campaign]:
    query = visible(scope, permission).options(selectinload(Campaign.owner_unit)).order_by(
        Campaign.period_start.desc(), Campaign.id.desc())
    return list(db.session.scalars(query))


def get_campaign(scope: Scope, campaign_id: int,
                 permission: Permission = PERMISSION) -> Campaign:
    """The campaign if in view; :class:`NotFound` otherwise (the same for both)."""
    found = db.session.scalar(visible(scope, permission).where(Campaign.id == campaign_id).options(
        selectinload(Campaign.owner_unit),
        selectinload(Campaign.units).selectinload(CampaignUnit.unit)))
    if found is None:
        raise NotFound("campaign", campaign_id)
    return found


def owner_choices(scope: Scope) -> list[Unit]:
    return list(db.session.scalars(scope.units(PERMISSION).where(
        Unit.kind.in_(OWNER_KINDS), Unit.sector.in_(SECTORS)).order_by(Unit.path)))


def unit_choices(scope: Scope, sector: str | None = None) -> list[Unit]:
    """Units a campaign of this scope may cover (of one sector, if given)."""
    pairs = [and_(Unit.sector == s, Unit.kind.in_(kinds)) for s, kinds in UNIT_KINDS.items()
             if sector in (None, s)]
    query = scope.units(PERMISSION).where(or_(*pairs), Unit.valid_to.is_(None))
    return list(db.session.scalars(query.order_by(Unit.name)))


def questionnaire_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(QuestionnaireVersion.key, QuestionnaireVersion.version)
                              .where(QuestionnaireVersion.status ==
                                     QuestionnaireStatus.published.value)
                              .order_by(QuestionnaireVersion.key,
                                        QuestionnaireVersion.version.desc())).all()
    return [(f"{key}:{version}", f"{key} v{version}") for key, version in rows]


def _owner(scope: Scope, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not scope.allows(PERMISSION, unit) or unit.kind not in OWNER_KINDS \
            or unit.sector not in SECTORS:
        raise ServiceError(_("Choose the department that runs the campaign."), "owner_unit_id")
    return unit


def _questionnaire(value: str) -> tuple[str, int]:
    if value not in {key for key, _label in questionnaire_choices()}:
        raise ServiceError(_("Choose a published questionnaire version."), "questionnaire")
    key, version = value.rsplit(":", 1)
    return key, int(version)


def _covered(scope: Scope, owner: Unit, data: CampaignInput) -> list[Unit]:
    if data.unit_kind not in UNIT_KINDS[owner.sector]:
        raise ServiceError(_("This kind of unit is not in the sector of the department."),
                           "unit_kind")
    allowed = {u.id: u for u in unit_choices(scope, owner.sector) if u.kind == data.unit_kind}
    if data.coverage == "all":
        units = list(allowed.values())
    else:
        outside = [i for i in data.unit_ids if i not in allowed]
        if outside:
            raise ServiceError(_("Some chosen units are not %(kind)s of the department's "
                                 "sector in your scope.", kind=KIND_LABELS[data.unit_kind]),
                               "unit_ids")
        units = [allowed[i] for i in dict.fromkeys(data.unit_ids)]
    if not units:
        raise ServiceError(_("The campaign covers no unit: choose the units."), "unit_ids")
    return units


def _check_design(data: CampaignInput) -> dict[str, Any]:
    if not data.name.strip():
        raise ServiceError(_("Give the campaign a name."), "name")
    if data.period_end < data.period_start:
        raise ServiceError(_("The period ends before it starts."), "period_end")
    channels = [c for c in CHANNELS if c in data.channels]
    if not channels or len(channels) != len(set(data.channels)):
        raise ServiceError(_("Choose at least one channel."), "channels")
    cluster_kind = data.cluster_kind if data.stages == "unit_cluster_person" else None
    if data.stages == "unit_cluster_person" and cluster_kind not in CLUSTER_KINDS:
        raise ServiceError(_("Say what the clusters are (ward-days or classes)."),
                           "cluster_kind")
    margin = total = None
    if data.size_mode == "margin":
        if data.target_margin_percent is None or not 0.5 <= data.target_margin_percent <= 30:
            raise ServiceError(_("The target margin of error must be between 0.5 and 30 "
                                 "percentage points."), "target_margin_percent")
        margin = data.target_margin_percent / 100
    else:
        if data.total_sample is None or not 2 <= data.total_sample <= MAX_SAMPLE:
            raise ServiceError(_("The total sample size must be a whole number from 2 to "
                                 "%(n)d.", n=MAX_SAMPLE), "total_sample")
        total = data.total_sample
    return {"name": data.name.strip(), "period_start": data.period_start,
            "period_end": data.period_end, "channels": ",".join(channels),
            "strata_by": data.strata_by, "stages": data.stages, "cluster_kind": cluster_kind,
            "size_mode": data.size_mode, "target_margin": margin, "total_sample": total,
            "allocation": data.allocation, "unit_kind": data.unit_kind,
            "coverage": data.coverage}


def _apply(scope: Scope, campaign: Campaign, data: CampaignInput) -> None:
    owner = _owner(scope, data.owner_unit_id)
    key, version = _questionnaire(data.questionnaire)
    values = _check_design(data)
    units = _covered(scope, owner, data)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.owner_unit_id, campaign.sector = owner.id, owner.sector
    campaign.questionnaire_key, campaign.questionnaire_version = key, version
    kept = {cu.unit_id: cu for cu in campaign.units}
    campaign.units = [kept.get(u.id) or CampaignUnit(unit_id=u.id) for u in units]


@use_case
def create_campaign(scope: Scope, data: CampaignInput) -> Campaign:
    scope.require(PERMISSION)
    campaign = Campaign(status=CampaignStatus.draft.value)
    _apply(scope, campaign, data)
    db.session.add(campaign)
    commit_or_refuse()
    return campaign


def require_draft(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.draft.value:
        raise ServiceError(_("Only a campaign in draft can be changed."))


@use_case
def update_campaign(scope: Scope, campaign: Campaign, data: CampaignInput) -> Campaign:
    require_draft(campaign)
    _apply(scope, campaign, data)
    commit_or_refuse()
    return campaign


@use_case
def delete_campaign(campaign: Campaign) -> None:
    require_draft(campaign)
    db.session.delete(campaign)
    commit_or_refuse()


@use_case
def advance_status(campaign: Campaign, target: str) -> Campaign:
    """draft → fieldwork (once a sample is drawn) → closed; nothing else."""
    if NEXT_STATUS.get(campaign.status) != target:
        raise ServiceError(_("This change of status is not possible."))
    if target == CampaignStatus.closed.value:
        raise ServiceError(_("Close the campaign from its close page: the weights are "
                             "computed there."))
    if target == CampaignStatus.fieldwork.value and not has_draw(campaign):
        raise ServiceError(_("Draw the sample before the fieldwork starts."))
    campaign.status = target
    commit_or_refuse()
    return campaign


def has_draw(campaign: Campaign) -> bool:
    return db.session.scalar(select(CampaignDraw.id).where(
        CampaignDraw.campaign_id == campaign.id)) is not None


def input_of(campaign: Campaign) -> dict[str, Any]:
    """The edit form's values for a stored campaign."""
    return {
        "name": campaign.name, "owner_unit_id": campaign.owner_unit_id,
        "questionnaire": f"{campaign.questionnaire_key}:{campaign.questionnaire_version}",
        "unit_kind": campaign.unit_kind, "coverage": campaign.coverage,
        "unit_ids": [cu.unit_id for cu in campaign.units],
        "period_start": campaign.period_start, "period_end": campaign.period_end,
        "channels": campaign.channel_list, "strata_by": campaign.strata_by,
        "stages": campaign.stages, "cluster_kind": campaign.cluster_kind,
        "size_mode": campaign.size_mode,
        "target_margin_percent": (campaign.target_margin * 100
                                  if campaign.target_margin is not None else None),
        "total_sample": campaign.total_sample, "allocation": campaign.allocation,
    }

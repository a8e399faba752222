"""The design page: invitations per unit and the margin of error they are expected to give,
per unit, per stratum and overall, before fieldwork — all figures from ``analysis``
(sample_size_proportion, allocate, margin_of_error, stratified_margin_of_error).

The population of a unit is its frame count once a frame is imported, else the number the
department expects (entered per unit on the design page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

import analysis
from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services.allocation import CONFIDENCE, planned_unit_sizes
from survey.common.errors import ServiceError, commit_or_refuse
from survey.common.transactions import use_case
from survey.extensions import db


@dataclass(frozen=True)
class UnitPlan:
    unit_id: int
    name: str
    stratum: str
    population: int | None
    invitations: int
    interviews: float
    margin: float | None  # None: population unknown


@dataclass(frozen=True)
class StratumPlan:
    name: str
    units: int
    population: int
    invitations: int
    interviews: float
    margin: float


@dataclass
class Plan:
    units: list[UnitPlan] = field(default_factory=list)
    strata: list[StratumPlan] = field(default_factory=list)
    overall_margin: float | None = None
    invitations: int = 0
    interviews: float = 0.0
    from_frame: bool = False
    problem: str | None = None

    @property
    def missing_population(self) -> list[str]:
        return [u.name for u in self.units if u.population is None]


def frame_counts(campaign: Campaign) -> dict[int, int] | None:
    """Rows of the imported frame per unit, or None without a frame."""
    frame_id = db.session.scalar(select(SamplingFrame.id).where(
        SamplingFrame.campaign_id == campaign.id))
    if frame_id is None:
        return None
    rows = db.session.execute(select(FrameRow.unit_id, func.count()).where(
        FrameRow.frame_id == frame_id).group_by(FrameRow.unit_id)).all()
    return {int(unit_id): int(n) for unit_id, n in rows}


def populations(campaign: Campaign) -> tuple[dict[int, int | None], bool]:
    counts = frame_counts(campaign)
    if counts is not None:
        return {cu.unit_id: counts.get(cu.unit_id) or None for cu in campaign.units}, True
    return {cu.unit_id: cu.expected_population for cu in campaign.units}, False


def _moe(n: int, big_n: int, campaign: Campaign) -> float:
    return analysis.margin_of_error(n, p=campaign.assumed_p, confidence=CONFIDENCE,
                                    deff=campaign.deff, population=big_n,
                                    response_rate=campaign.response_rate)


def stratum_name(campaign: Campaign, unit_id: int, label: str | None, unit_name: str) -> str:
    if campaign.strata_by == "unit":
        return unit_name
    return label or _("(no stratum)")


def plan(campaign: Campaign) -> Plan:
    """The expected margins of error and the interviews the design costs."""
    pops, from_frame = populations(campaign)
    result = Plan(from_frame=from_frame)
    known = {u: int(n) for u, n in pops.items() if n}
    try:
        sizes = planned_unit_sizes(campaign, frame_counts(campaign))
    except ServiceError as err:
        sizes, result.problem = {}, err.message
    rr = campaign.response_rate
    groups: dict[str, list[int]] = {}
    for cu in sorted(campaign.units, key=lambda c: (c.stratum or "", c.unit.name)):
        big_n = known.get(cu.unit_id)
        n = sizes.get(cu.unit_id, 0) if big_n else 0
        name = stratum_name(campaign, cu.unit_id, cu.stratum, cu.unit.name)
        result.units.append(UnitPlan(cu.unit_id, cu.unit.name, name, big_n, n, n * rr,
                                     _moe(n, big_n, campaign) if big_n and n else None))
        if big_n and n:
            groups.setdefault(name, []).append(cu.unit_id)
    for name, members in groups.items():
        result.strata.append(StratumPlan(
            name, len(members), sum(known[u] for u in members),
            sum(sizes[u] for u in members), sum(sizes[u] for u in members) * rr,
            _stratified({u: sizes[u] for u in members}, {u: known[u] for u in members},
                        campaign)))
    everyone = [u for members in groups.values() for u in members]
    if everyone:
        result.overall_margin = _stratified({u: sizes[u] for u in everyone},
                                            {u: known[u] for u in everyone}, campaign)
    result.invitations = sum(sizes.get(u, 0) for u in known)
    result.interviews = result.invitations * rr
    return result


def _stratified(sizes: dict[int, int], pops: dict[int, int], campaign: Campaign) -> float:
    return analysis.stratified_margin_of_error(
        sizes, pops, p=campaign.assumed_p, confidence=CONFIDENCE, deff=campaign.deff,
        response_rate=campaign.response_rate)


@use_case
def set_assumptions(campaign: Campaign, *, p: float, deff: float, response_rate: float,
                    units: Mapping[int, tuple[str | None, int | None]]) -> Campaign:
    """Save the planning assumptions and, per unit, its stratum value and expected
    population. Refused (nothing saved) outside the ranges the page states."""
    if campaign.status != "draft":
        raise ServiceError(_("Only a campaign in draft can be changed."))
    if not 0.01 <= p <= 0.99:
        raise ServiceError(_("The assumed proportion must be between %(low)s and %(high)s.",
                                 low="1%", high="99%"), "p")
    if not 1 <= deff <= 10:
        raise ServiceError(_("The design effect must be between 1 and 10."), "deff")
    if not 0.05 <= response_rate <= 1:
        raise ServiceError(_("The response rate must be between %(low)s and %(high)s.",
                                 low="5%", high="100%"), "response_rate")
    campaign.assumed_p, campaign.deff, campaign.response_rate = p, deff, response_rate
    for cu in campaign.units:
        if cu.unit_id not in units:
            continue
        stratum, population = units[cu.unit_id]
        if population is not None and not 1 <= population <= 100_000_000:
            raise ServiceError(_("The expected population of %(unit)s must be a positive "
                                 "whole number.", unit=cu.unit.name))
        if stratum is not None and len(stratum) > 64:
            raise ServiceError(_("A stratum name has at most 64 characters."))
        cu.stratum = (stratum or "").strip() or None
        cu.expected_population = population
    commit_or_refuse()
    return campaign

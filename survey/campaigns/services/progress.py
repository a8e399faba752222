"""Field progress of a campaign: per unit and per design stratum, the interviews achieved
against the target (the allocation's invitations times the assumed response rate; a
two-stage campaign's invitations are the design page's clusters times the take), the
response rate (answered / selected), the margin of error at the current n and the one
projected at the end of the period at the current pace (``analysis.margin_of_error`` and
``analysis.stratified_margin_of_error``; for a two-stage campaign the two-stage margin of
the clusters actually drawn, ``analysis.stratified_two_stage_margin_of_error``, with the
respondents spread over them and the assumed ICC), the strata at risk, and each clerk's
entries per day. Every figure comes from GROUP BY queries: the number of statements does
not grow with the number of responses."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy import func, select

import analysis
from survey.campaigns.models import Campaign, CampaignEntry, FrameRow, SamplingFrame
from survey.campaigns.services import design
from survey.campaigns.services.allocation import CONFIDENCE, planned_unit_sizes
from survey.collection.models import Response
from survey.collection.services import tokens
from survey.common.clock import utcnow
from survey.common.errors import ServiceError
from survey.extensions import db
from survey.org.models import User


@dataclass(frozen=True)
class Line:
    """One unit or one stratum."""

    name: str
    population: int
    target: int  # interviews the design expects
    selected: int  # persons selected (refusals included)
    achieved: int  # counted responses
    projected: int  # at the end of the period at the current pace
    margin: float | None  # at the achieved n (None: fewer than 2)
    projected_margin: float | None
    target_margin: float | None

    @property
    def response_rate(self) -> float | None:
        return self.achieved / self.selected if self.selected else None

    @property
    def at_risk(self) -> bool:
        if self.projected < self.target:
            return True
        return (self.target_margin is not None and self.projected_margin is not None
                and self.projected_margin > self.target_margin + 1e-9)


@dataclass(frozen=True)
class Productivity:
    name: str
    entries: int
    days: int

    @property
    def per_day(self) -> float:
        return self.entries / self.days if self.days else 0.0


@dataclass
class Progress:
    units: list[Line] = field(default_factory=list)
    strata: list[Line] = field(default_factory=list)
    clerks: list[Productivity] = field(default_factory=list)
    elapsed_days: int = 0
    total_days: int = 0
    achieved: int = 0
    target: int = 0
    awaiting: int = 0  # double-entry slips not yet a response

    @property
    def at_risk(self) -> list[str]:
        return [s.name for s in self.strata if s.at_risk]


def local_today() -> dt.date:
    return utcnow().astimezone(tokens.local_zone()).date()


def _days(campaign: Campaign, today: dt.date) -> tuple[int, int]:
    total = (campaign.period_end - campaign.period_start).days + 1
    elapsed = min(total, max(0, (today - campaign.period_start).days + 1))
    return elapsed, total


def _moe(n: int, big_n: int, campaign: Campaign) -> float | None:
    if n < 2 or big_n < 2:
        return None
    return analysis.margin_of_error(min(n, big_n), p=campaign.assumed_p,
                                    confidence=CONFIDENCE, deff=campaign.deff,
                                    population=big_n)


def _stratified(sizes: dict[int, int], pops: dict[int, int], campaign: Campaign) -> float | None:
    if not sizes or any(n < 2 for n in sizes.values()):
        return None
    population: dict[Hashable, float] = {u: float(n) for u, n in pops.items()}
    return analysis.stratified_margin_of_error(
        {u: min(n, pops[u]) for u, n in sizes.items()}, population, p=campaign.assumed_p,
        confidence=CONFIDENCE, deff=campaign.deff)


@dataclass(frozen=True)
class _Drawn:
    """One frame stratum of a unit in a two-stage draw: its persons, its clusters and the
    clusters the draw took."""

    population: int
    available: int
    drawn: int


def _drawn_clusters(campaign: Campaign) -> dict[int, list[_Drawn]]:
    """Per unit, its frame strata's clusters and drawn clusters (design.frame_clusters)."""
    out: dict[int, list[_Drawn]] = {}
    for (unit_id, _stratum), members in sorted((design.frame_clusters(campaign) or {}).items()):
        out.setdefault(unit_id, []).append(_Drawn(
            sum(n for n, _taken in members), len(members),
            sum(1 for _n, taken in members if taken)))
    return out


def _two_stage(achieved: dict[int, int], drawn: dict[int, list[_Drawn]],
               campaign: Campaign) -> float | None:
    """The two-stage margin of the units' respondents, spread evenly over the clusters
    each unit drew (None: a unit with fewer than 2 respondents or no cluster drawn)."""
    clusters: dict[Hashable, float] = {}
    population: dict[Hashable, float] = {}
    take: dict[Hashable, float] = {}
    available: dict[Hashable, float | None] = {}
    for unit_id, n in achieved.items():
        cells = [c for c in drawn.get(unit_id, []) if c.drawn]
        total = sum(c.drawn for c in cells)
        if n < 2 or not total:
            return None
        for i, cell in enumerate(cells):
            key = (unit_id, i)
            clusters[key], population[key] = cell.drawn, cell.population
            take[key], available[key] = n / total, cell.available
    if not population:
        return None
    return analysis.stratified_two_stage_margin_of_error(
        clusters, population, take, population_clusters=available,
        p=campaign.assumed_p, icc=float(campaign.planned_icc), confidence=CONFIDENCE,
        deff=campaign.deff)


def _project(achieved: int, elapsed: int, total: int) -> int:
    if elapsed <= 0:
        return achieved
    return int(math.floor(achieved * total / elapsed))


def progress(campaign: Campaign, today: dt.date) -> Progress:
    """The campaign's progress on ``today`` (see the module docstring)."""
    elapsed, total = _days(campaign, today)
    result = Progress(elapsed_days=elapsed, total_days=total)
    pops, _from_frame = design.populations(campaign)
    known = {u: int(n) for u, n in pops.items() if n}
    if campaign.stages == "unit_cluster_person":  # the clusters × take the design priced
        invitations = {u.unit_id: u.invitations for u in design.plan(campaign).units}
    else:
        try:
            invitations = planned_unit_sizes(campaign, design.frame_counts(campaign))
        except ServiceError:
            invitations = {}
    frame_id = select(SamplingFrame.id).where(SamplingFrame.campaign_id == campaign.id)
    selected = dict(db.session.execute(
        select(FrameRow.unit_id, func.count()).where(
            FrameRow.frame_id.in_(frame_id), FrameRow.status.in_(("selected", "refused")))
        .group_by(FrameRow.unit_id)).all())
    achieved = dict(db.session.execute(
        select(Response.unit_id, func.count()).where(
            Response.campaign_id == campaign.id, Response.counts_in_indices)
        .group_by(Response.unit_id)).all())
    targets = {u: int(math.ceil(n * campaign.response_rate - 1e-9))
               for u, n in invitations.items()}
    drawn = _drawn_clusters(campaign) if campaign.stages == "unit_cluster_person" else None

    def unit_moe(u: int, n: int, big_n: int) -> float | None:
        return _moe(n, big_n, campaign) if drawn is None else _two_stage({u: n}, drawn,
                                                                        campaign)

    def strata_moe(sizes: dict[int, int], pops_h: dict[int, int]) -> float | None:
        return _stratified(sizes, pops_h, campaign) if drawn is None else _two_stage(
            sizes, drawn, campaign)

    groups: dict[str, list[int]] = {}
    for cu in sorted(campaign.units, key=lambda c: (c.stratum or "", c.unit.name)):
        u = cu.unit_id
        big_n, n = known.get(u, 0), int(achieved.get(u, 0))
        target = targets.get(u, 0)
        projected = _project(n, elapsed, total)
        target_margin = campaign.target_margin if campaign.size_mode == "margin" \
            else unit_moe(u, target, big_n)
        result.units.append(Line(
            cu.unit.name, big_n, target, int(selected.get(u, 0)), n, projected,
            unit_moe(u, n, big_n), unit_moe(u, projected, big_n), target_margin))
        groups.setdefault(design.stratum_name(campaign, u, cu.stratum, cu.unit.name),
                          []).append(u)
    for name, members in groups.items():
        pops_h = {u: known[u] for u in members if known.get(u)}
        got = {u: int(achieved.get(u, 0)) for u in pops_h}
        proj = {u: _project(n, elapsed, total) for u, n in got.items()}
        goal = {u: targets.get(u, 0) for u in pops_h}
        n_h = sum(got.values())
        result.strata.append(Line(
            name, sum(pops_h.values()), sum(goal.values()),
            sum(int(selected.get(u, 0)) for u in members), n_h,
            _project(n_h, elapsed, total), strata_moe(got, pops_h),
            strata_moe(proj, pops_h),
            campaign.target_margin if campaign.size_mode == "margin"
            else strata_moe(goal, pops_h)))
    result.achieved = sum(int(v) for v in achieved.values())
    result.target = sum(targets.values())
    day = func.date(CampaignEntry.entered_at)
    clerks = db.session.execute(
        select(User.full_name, func.count(), func.count(func.distinct(day)))
        .join(User, User.id == CampaignEntry.entered_by_id)
        .where(CampaignEntry.campaign_id == campaign.id)
        .group_by(User.id, User.full_name).order_by(User.full_name)).all()
    result.clerks = [Productivity(str(name), int(n), int(days)) for name, n, days in clerks]
    result.awaiting = int(db.session.scalar(
        select(func.count(func.distinct(CampaignEntry.frame_row_id))).where(
            CampaignEntry.campaign_id == campaign.id,
            CampaignEntry.status.in_(("pending", "discrepancy")))) or 0)
    return result

"""The design page: invitations per unit and the margin of error they are expected to give,
per unit, per stratum and overall, before fieldwork — all figures from ``analysis``
(sample_size_proportion, allocate, margin_of_error, stratified_margin_of_error).

The population of a unit is its frame count once a frame is imported, else the number the
department expects (entered per unit on the design page).

A two-stage campaign (unit → cluster → person) is priced as the draw will select it: in each
draw stratum the clusters of ``clusters`` (ceil(n / take) of an allocated total; with a
target margin per unit, the fewest whose two-stage margin meets it, or all of them where
none do: the page names those units), ``take`` persons in each, and the margins by the
two-stage variance with the assumed intra-cluster correlation
(analysis.two_stage_margin_of_error). The clusters and their sizes are the frame's once it
is imported (its distinct clusters per unit and stratum), else the mean cluster size the
department expects, else unknown: infinitely many, infinitely large clusters (no
finite-population correction at either stage)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, func, select

import analysis
from survey.campaigns.models import Campaign, FrameRow, SamplingFrame
from survey.campaigns.services.allocation import CONFIDENCE, planned_unit_sizes
from survey.campaigns.services.clusters import Cell, frame_cells, planned_cells, two_stage_margin
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
    # Two-stage designs: clusters drawn, clusters in the unit (None: unknown), and the
    # design effect of the clustering (variance over that of a one-stage sample of as many).
    clusters: int | None = None
    clusters_available: int | None = None
    cluster_deff: float | None = None
    # A two-stage target margin per unit: False where even every cluster misses it.
    reachable: bool = True


@dataclass(frozen=True)
class StratumPlan:
    name: str
    units: int
    population: int
    invitations: int
    interviews: float
    margin: float
    clusters: int | None = None
    cluster_deff: float | None = None


@dataclass
class Plan:
    units: list[UnitPlan] = field(default_factory=list)
    strata: list[StratumPlan] = field(default_factory=list)
    overall_margin: float | None = None
    invitations: int = 0
    interviews: float = 0.0
    from_frame: bool = False
    problem: str | None = None
    # Two-stage designs: the take and ICC priced, where the cluster sizes come from
    # ("frame", "planned" or "unknown": infinite), clusters drawn and their design effect.
    two_stage: bool = False
    take: int | None = None
    icc: float = 0.0
    cluster_source: str = ""
    clusters: int = 0
    cluster_deff: float | None = None

    @property
    def missing_population(self) -> list[str]:
        return [u.name for u in self.units if u.population is None]

    @property
    def out_of_reach(self) -> list[UnitPlan]:
        """Units whose target margin even all their clusters cannot give."""
        return [u for u in self.units if not u.reachable]


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
    if campaign.stages == "unit_cluster_person":
        return _two_stage_plan(campaign)
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


def frame_clusters(campaign: Campaign) -> dict[tuple[int, str], list[tuple[int, bool]]] | None:
    """Each cluster of the imported frame as (its rows, whether the draw took it), per
    (unit, frame stratum) as the draw groups them (one GROUP BY); None without a frame or
    when the frame has no cluster column."""
    frame = db.session.scalar(select(SamplingFrame).where(
        SamplingFrame.campaign_id == campaign.id))
    if frame is None or frame.cluster_column is None:
        return None
    taken = func.max(case((FrameRow.status.in_(("selected", "refused")), 1), else_=0))
    rows = db.session.execute(select(
        FrameRow.unit_id, FrameRow.stratum, FrameRow.cluster, func.count(), taken).where(
        FrameRow.frame_id == frame.id).group_by(
        FrameRow.unit_id, FrameRow.stratum, FrameRow.cluster)).all()
    out: dict[tuple[int, str], list[tuple[int, bool]]] = defaultdict(list)
    for unit_id, stratum, _cluster, n, was_taken in rows:
        out[(int(unit_id), stratum or "")].append((int(n), bool(was_taken)))
    return dict(out)


def cluster_counts(campaign: Campaign) -> dict[tuple[int, str], list[int]] | None:
    """Rows per cluster of the imported frame, per (unit, frame stratum) as the draw groups
    them; None without a frame or when the frame has no cluster column."""
    clusters = frame_clusters(campaign)
    if clusters is None:
        return None
    return {key: [n for n, _taken in members] for key, members in clusters.items()}


def _two_stage_plan(campaign: Campaign) -> Plan:
    """The plan of a unit → cluster → person campaign (see the module's docstring)."""
    pops, from_frame = populations(campaign)
    take, icc = campaign.planned_take, float(campaign.planned_icc)
    result = Plan(from_frame=from_frame, two_stage=True, take=take, icc=icc)
    known = {u: int(n) for u, n in pops.items() if n}
    clusters = cluster_counts(campaign) if from_frame else None
    result.cluster_source = ("frame" if clusters is not None else
                             "planned" if campaign.planned_cluster_size else "unknown")
    if from_frame and clusters is None:
        result.problem = _("The imported frame has no cluster column: a two-stage draw needs "
                           "it. Import the frame again with its cluster column.")
    cells: list[Cell] = []
    if take is None:
        result.problem = result.problem or _(
            "Enter the persons taken in each cluster to see the clusters and margins of this "
            "two-stage design.")
    else:
        try:
            if clusters is not None:
                cells = list(frame_cells(campaign, take, clusters).values())
            else:
                cells = planned_cells(campaign, take, known, frame_counts(campaign))
        except ServiceError as err:
            result.problem = err.message
    by_unit: dict[int, list[Cell]] = defaultdict(list)
    for cell in cells:
        if cell.clusters:
            by_unit[cell.unit_id].append(cell)
    rr = campaign.response_rate
    groups: dict[str, list[int]] = {}
    for cu in sorted(campaign.units, key=lambda c: (c.stratum or "", c.unit.name)):
        mine = by_unit.get(cu.unit_id, [])
        name = stratum_name(campaign, cu.unit_id, cu.stratum, cu.unit.name)
        invitations = sum(c.invitations for c in mine)
        available = [c.available for c in cells if c.unit_id == cu.unit_id]
        margin, deff = two_stage_margin(mine, campaign, icc) if mine else (None, None)
        result.units.append(UnitPlan(
            cu.unit_id, cu.unit.name, name, known.get(cu.unit_id), invitations,
            invitations * rr, margin, sum(c.clusters for c in mine) if mine else None,
            sum(a for a in available if a is not None)
            if available and None not in available else None, deff,
            all(c.reachable for c in mine)))
        if mine:
            groups.setdefault(name, []).append(cu.unit_id)
    for name, members in groups.items():
        group = [c for u in members for c in by_unit[u]]
        margin, deff = two_stage_margin(group, campaign, icc)
        invitations = sum(c.invitations for c in group)
        result.strata.append(StratumPlan(
            name, len(members), sum(c.population for c in group), invitations,
            invitations * rr, margin, sum(c.clusters for c in group), deff))
    everyone = [c for members in by_unit.values() for c in members]
    if everyone:
        result.overall_margin, result.cluster_deff = two_stage_margin(everyone, campaign, icc)
    result.invitations = sum(c.invitations for c in everyone)
    result.interviews = result.invitations * rr
    result.clusters = sum(c.clusters for c in everyone)
    return result


ICC_RANGE = (0.0, 0.5)
TAKE_RANGE = (1, 1000)
CLUSTER_SIZE_RANGE = (1, 100_000)


def _check_clusters(take: int | None, icc: float | None, cluster_size: int | None) -> None:
    if take is None or not TAKE_RANGE[0] <= take <= TAKE_RANGE[1]:
        raise ServiceError(_("The persons taken in each cluster must be a whole number from "
                             "%(low)d to %(high)d.", low=TAKE_RANGE[0], high=TAKE_RANGE[1]),
                           "take")
    if icc is None or not ICC_RANGE[0] <= icc <= ICC_RANGE[1]:
        raise ServiceError(_("The intra-cluster correlation must be between 0 and 0.5."), "icc")
    if cluster_size is not None and not (
            CLUSTER_SIZE_RANGE[0] <= cluster_size <= CLUSTER_SIZE_RANGE[1]):
        raise ServiceError(_("The mean cluster size must be a whole number from %(low)d to "
                             "%(high)s.", low=CLUSTER_SIZE_RANGE[0], high="100.000"),
                           "cluster_size")


@use_case
def set_assumptions(campaign: Campaign, *, p: float, deff: float, response_rate: float,
                    units: Mapping[int, tuple[str | None, int | None]],
                    take: int | None = None, icc: float | None = None,
                    cluster_size: int | None = None) -> Campaign:
    """Save the planning assumptions and, per unit, its stratum value and expected
    population; for a two-stage campaign also the take per cluster, the intra-cluster
    correlation and the mean cluster size expected before a frame (ignored for a one-stage
    campaign). Refused (nothing saved) outside the ranges the page states."""
    if campaign.status != "draft":
        raise ServiceError(_("Only a campaign in draft can be changed."))
    two_stage = campaign.stages == "unit_cluster_person"
    if two_stage:
        _check_clusters(take, icc, cluster_size)
    if not 0.01 <= p <= 0.99:
        raise ServiceError(_("The assumed proportion must be between %(low)s and %(high)s.",
                                 low="1%", high="99%"), "p")
    if not 1 <= deff <= 10:
        raise ServiceError(_("The design effect must be between 1 and 10."), "deff")
    if not 0.05 <= response_rate <= 1:
        raise ServiceError(_("The response rate must be between %(low)s and %(high)s.",
                                 low="5%", high="100%"), "response_rate")
    campaign.assumed_p, campaign.deff, campaign.response_rate = p, deff, response_rate
    if two_stage:
        campaign.planned_take, campaign.planned_cluster_size = take, cluster_size
        campaign.planned_icc = float(icc if icc is not None else 0.05)
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

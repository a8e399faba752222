"""How many clusters a two-stage campaign (unit → cluster → person) draws in each draw
stratum (a unit, or a unit's frame stratum), shared by the design page and the draw so
that the draw selects exactly the clusters the page priced.

- A total sample allocated to the units: the stratum's persons from the allocation
  (``allocation.planned_sizes``), then ceil(n / take) clusters, all of them at most.
- A target margin per unit: the fewest clusters with which the unit's expected two-stage
  margin (``analysis.stratified_two_stage_margin_of_error`` with the take, the assumed ICC,
  design effect and response rate, both stages' fpc where the clusters are known) is at
  most the target; a unit with several frame strata shares its clusters between them in
  proportion to their persons (at least one each). Where even every cluster of the unit
  cannot reach the target, all are taken and the unit is marked as out of reach. Without
  a known number of clusters (no frame and no planned cluster size) a stratum takes at
  most as many clusters as its persons fill at the take.

The persons invited are the clusters times the take (all the persons of a smaller
cluster)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import analysis
from survey.campaigns.models import Campaign
from survey.campaigns.services.allocation import CONFIDENCE, planned_sizes, planned_unit_sizes


@dataclass(frozen=True)
class Cell:
    """One stratum of a two-stage draw (a unit, or a unit's frame stratum)."""

    unit_id: int
    population: int
    clusters: int  # drawn
    available: int | None  # clusters in the stratum; None: unknown (infinitely many)
    size: float | None  # mean persons per cluster; None: unknown (infinitely large)
    take: float  # persons expected to be invited per drawn cluster
    reachable: bool = True  # the unit's target margin can be met (margin mode)

    @property
    def invitations(self) -> int:
        return min(self.population, round(self.clusters * self.take))

    @property
    def most(self) -> int:
        """The most clusters the stratum can give: all of them, or (unknown) as many as
        its persons fill at the take."""
        if self.available is not None:
            return self.available
        return max(1, math.ceil(self.population / self.take))


def _margin(cells: Sequence[Cell], campaign: Campaign, icc: float) -> float:
    """The expected two-stage margin of the cells together."""
    chosen = dict(enumerate(cells))
    return analysis.stratified_two_stage_margin_of_error(
        {i: c.clusters for i, c in chosen.items()},
        {i: c.population for i, c in chosen.items()},
        {i: c.take for i, c in chosen.items()},
        population_clusters={i: c.available for i, c in chosen.items()},
        cluster_size={i: c.size for i, c in chosen.items()},
        p=campaign.assumed_p, icc=icc, confidence=CONFIDENCE, deff=campaign.deff,
        response_rate=campaign.response_rate)


def two_stage_margin(cells: Iterable[Cell], campaign: Campaign,
                     icc: float) -> tuple[float, float | None]:
    """The margin of the cells together and the design effect of their clustering (the
    variance over that of the same sample without intra-cluster correlation)."""
    chosen = list(cells)
    clustered, plain = _margin(chosen, campaign, icc), _margin(chosen, campaign, 0.0)
    deff = (clustered / plain) ** 2 if 0 < plain < math.inf else None
    return clustered, deff


def _share(total: int, cells: Sequence[Cell]) -> list[int]:
    """``total`` clusters shared between a unit's strata in proportion to their persons,
    at least one and at most ``most`` each."""
    if len(cells) == 1:
        return [min(total, cells[0].most)]
    shares = analysis.allocate(total, {i: c.population for i, c in enumerate(cells)},
                               method="proportional", min_n=1,
                               max_n={i: c.most for i, c in enumerate(cells)})
    return [int(shares[i]) for i in range(len(cells))]  # type: ignore[call-overload]


def fit_unit(cells: Sequence[Cell], campaign: Campaign, target: float,
             icc: float) -> list[Cell]:
    """The unit's cells with the fewest clusters whose two-stage margin is at most
    ``target`` (a binary search over the unit's total clusters), or with every cluster and
    ``reachable=False`` when even that misses it."""

    def with_total(total: int) -> list[Cell]:
        return [replace(c, clusters=m) for c, m in zip(cells, _share(total, cells),
                                                       strict=True)]

    def meets(chosen: list[Cell]) -> bool:
        return _margin(chosen, campaign, icc) <= target

    low, high = len(cells), sum(c.most for c in cells)
    everything = with_total(high)
    if not meets(everything):
        return [replace(c, reachable=False) for c in everything]
    while low < high:  # the smallest total that meets the target lies in [low, high]
        mid = (low + high) // 2
        if meets(with_total(mid)):
            high = mid
        else:
            low = mid + 1
    return with_total(high)


def _by_margin(campaign: Campaign, cells: list[Cell]) -> list[Cell]:
    target = float(campaign.target_margin or 0.05)
    icc = float(campaign.planned_icc)
    units: dict[int, list[int]] = {}
    for i, cell in enumerate(cells):
        units.setdefault(cell.unit_id, []).append(i)
    out = list(cells)
    for members in units.values():
        for i, fitted in zip(members, fit_unit([cells[i] for i in members], campaign,
                                               target, icc), strict=True):
            out[i] = fitted
    return out


def frame_cells(campaign: Campaign, take: int,
                clusters: Mapping[tuple[int, str], list[int]]) -> dict[tuple[int, str], Cell]:
    """The cells of a frame (persons per cluster, per unit and frame stratum) and the
    clusters drawn in each; every cluster gives ``take`` persons or all of a smaller
    cluster (on average over the stratum's clusters)."""
    keys = sorted(clusters)
    cells = []
    for key in keys:
        members = clusters[key]
        per_cluster = sum(min(take, m) for m in members) / len(members)
        cells.append(Cell(key[0], sum(members), 0, len(members),
                          sum(members) / len(members), per_cluster))
    if campaign.size_mode == "margin":
        cells = _by_margin(campaign, cells)
    else:
        sizes = planned_sizes(campaign, {k: sum(v) for k, v in clusters.items()})
        cells = [replace(c, clusters=min(math.ceil(sizes.get(k, 0) / take), len(clusters[k])))
                 for k, c in zip(keys, cells, strict=True)]
    return dict(zip(keys, cells, strict=True))


def planned_cells(campaign: Campaign, take: int, known: Mapping[int, int],
                  frame_counts: Mapping[int, int] | None) -> list[Cell]:
    """Cells before the frame gives the clusters: one per unit, its clusters from the
    population and the planned mean cluster size (unknown: infinitely many and large)."""
    size = campaign.planned_cluster_size
    cells = []
    for unit_id, big_n in known.items():
        available = max(1, round(big_n / size)) if size else None
        cells.append(Cell(unit_id, big_n, 0, available, float(size) if size else None,
                          float(min(take, size)) if size else float(take)))
    if campaign.size_mode == "margin":
        return _by_margin(campaign, cells)
    sizes = planned_unit_sizes(campaign, frame_counts)
    out = []
    for cell in cells:
        n = sizes.get(cell.unit_id, 0)
        drawn = math.ceil(n / take) if n else 0
        if cell.available is not None:
            drawn = min(drawn, cell.available)
        out.append(replace(cell, clusters=drawn))
    return out

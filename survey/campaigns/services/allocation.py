"""How many persons each unit and each frame stratum gets: the design's rule (a target
margin per unit, or a total allocated to the units) through ``analysis``. Before a frame
the sizes rest on the populations the department expects (the plan it costs); once a frame
is imported, on the frame's counts (the draw). A frame holding fewer persons than the plan
gives a unit is refused on import: the list is most likely incomplete."""

from __future__ import annotations

import math
from collections.abc import Mapping

from flask_babel import gettext as _

import analysis
from survey.campaigns.models import Campaign
from survey.common.errors import ServiceError

CONFIDENCE = 0.95


def unit_sizes(campaign: Campaign, population: Mapping[int, int]) -> dict[int, int]:
    """Invitations per unit: from the target margin (Cochran with fpc, deff and response
    rate; a census where it asks more than the population), or the total allocated."""
    if campaign.size_mode == "margin":
        margin = float(campaign.target_margin or 0.05)
        return {u: min(big_n, analysis.sample_size_proportion(
            margin, p=campaign.assumed_p, confidence=CONFIDENCE, deff=campaign.deff,
            population=big_n, response_rate=campaign.response_rate))
            for u, big_n in population.items()}
    sd = math.sqrt(campaign.assumed_p * (1 - campaign.assumed_p))
    try:
        sizes = analysis.allocate(int(campaign.total_sample or 0), dict(population),
                                  method=campaign.allocation,  # type: ignore[arg-type]
                                  sd={u: sd for u in population}, min_n=2)
    except ValueError as exc:
        total = sum(population.values())
        raise ServiceError(_("The total sample size cannot be allocated: it must lie between "
                             "2 per unit and the population (%(total)d).", total=total)) from exc
    return {int(u): int(n) for u, n in sizes.items()}  # type: ignore[call-overload]


def planned_unit_sizes(campaign: Campaign, frame_counts: Mapping[int, int] | None, *,
                       from_frame: bool = True) -> dict[int, int]:
    """Sizes per unit from the frame's counts (``from_frame``, where the frame has the
    unit) or else the expected populations."""
    base: dict[int, int] = {}
    counts = frame_counts or {}
    for cu in campaign.units:
        value = (counts.get(cu.unit_id) or cu.expected_population) if from_frame else \
            (cu.expected_population or counts.get(cu.unit_id))
        if value:
            base[cu.unit_id] = int(value)
    return unit_sizes(campaign, base) if base else {}


def planned_sizes(campaign: Campaign, counts: Mapping[tuple[int, str], int], *,
                  from_frame: bool = True) -> dict[tuple[int, str], int]:
    """Sizes per (unit, frame stratum): the unit's size shared proportionally between
    its strata in the frame (each at least 1)."""
    per_unit: dict[int, dict[str, int]] = {}
    for (unit_id, stratum), n in counts.items():
        per_unit.setdefault(unit_id, {})[stratum] = n
    sizes = planned_unit_sizes(campaign, {u: sum(s.values()) for u, s in per_unit.items()},
                               from_frame=from_frame)
    out: dict[tuple[int, str], int] = {}
    names = {cu.unit_id: cu.unit.name for cu in campaign.units}
    for unit_id, strata in per_unit.items():
        n_u = sizes.get(unit_id, 0)
        if len(strata) == 1:
            out[(unit_id, next(iter(strata)))] = n_u
            continue
        try:
            shares = analysis.allocate(n_u, dict(strata), method="proportional", min_n=1,
                                       max_n={s: 10**9 for s in strata})
        except ValueError as exc:
            raise ServiceError(_("%(unit)s has %(k)d strata in the frame but only %(n)d "
                                 "persons to draw: merge strata or raise its sample.",
                                 unit=names.get(unit_id, unit_id), k=len(strata),
                                 n=n_u)) from exc
        for stratum, n in shares.items():
            out[(unit_id, str(stratum))] = int(n)
    return out

"""Field progress of a two-stage campaign: the margins are the two-stage margins of the
clusters the draw took (respondents spread over them, the assumed ICC, both stages' fpc),
checked against ``analysis`` from the frame's own counts; larger than the one-stage
figure where clusters were sampled, and a constant number of statements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import progress
from survey.models import FrameRow, Response, SamplingFrame
from tests.survey.campaigns.test_progress import statements


@pytest.fixture
def inpatient(db: Any) -> Any:
    from survey.demo import campaigns as demo_campaigns
    from survey.demo import seed as demo

    demo.seed(responses=False)
    return demo_campaigns.seed_campaigns().closed


def frame_cells(db: Any, campaign: Any) -> dict[int, tuple[int, int, int]]:
    """Per unit: persons, clusters, clusters drawn — counted here from the rows."""
    frame_id = db.session.scalar(select(SamplingFrame.id).where(
        SamplingFrame.campaign_id == campaign.id))
    persons: dict[int, int] = defaultdict(int)
    clusters: dict[int, set[str]] = defaultdict(set)
    drawn: dict[int, set[str]] = defaultdict(set)
    for row in db.session.scalars(select(FrameRow).where(FrameRow.frame_id == frame_id)):
        persons[row.unit_id] += 1
        clusters[row.unit_id].add(row.cluster)
        if row.status in ("selected", "refused"):
            drawn[row.unit_id].add(row.cluster)
    return {u: (persons[u], len(clusters[u]), len(drawn[u])) for u in persons}


def test_two_stage_margins_per_unit_and_overall(db: Any, inpatient: Any) -> None:
    cells = frame_cells(db, inpatient)
    achieved = dict(db.session.execute(select(Response.unit_id, func.count()).where(
        Response.campaign_id == inpatient.id).group_by(Response.unit_id)).all())
    today = inpatient.period_end
    with statements() as seen:
        report = progress.progress(inpatient, today)
    by_name = {line.name: line for line in report.units}
    names = {cu.unit_id: cu.unit.name for cu in inpatient.units}
    sampled_clusters = 0
    for unit_id, (persons, available, taken) in cells.items():
        n = int(achieved.get(unit_id, 0))
        line = by_name[names[unit_id]]
        expected = analysis.two_stage_margin_of_error(
            taken, n / taken, population_clusters=available, cluster_size=persons / available,
            p=inpatient.assumed_p, icc=inpatient.planned_icc, deff=inpatient.deff)
        assert line.margin == pytest.approx(expected, rel=1e-12)
        one_stage = analysis.margin_of_error(n, p=inpatient.assumed_p, deff=inpatient.deff,
                                             population=persons)
        if taken < available:  # clusters sampled: the clustering costs precision
            sampled_clusters += 1
            assert line.margin > one_stage
    assert sampled_clusters >= 5  # the last hospital's two ward-days are taken whole
    # the whole campaign (every unit its own design stratum here): the strata together
    overall = analysis.stratified_two_stage_margin_of_error(
        {u: c[2] for u, c in cells.items()}, {u: c[0] for u, c in cells.items()},
        {u: achieved[u] / c[2] for u, c in cells.items()},
        population_clusters={u: c[1] for u, c in cells.items()},
        p=inpatient.assumed_p, icc=inpatient.planned_icc, deff=inpatient.deff)
    single = [s for s in report.strata if s.name == names[next(iter(cells))]]
    assert single and single[0].margin is not None
    assert overall < max(line.margin for line in report.units if line.margin)
    # a fixed number of statements, as for one-stage campaigns
    assert len(seen) <= 20, seen


def test_projected_two_stage_margin_shrinks_with_more_respondents(
        db: Any, inpatient: Any) -> None:
    middle = inpatient.period_start + (inpatient.period_end - inpatient.period_start) / 2
    early = progress.progress(inpatient, middle)
    late = progress.progress(inpatient, inpatient.period_end + dt.timedelta(days=0))
    for mid, end in zip(early.units, late.units, strict=True):
        assert mid.projected >= end.projected
        assert mid.projected_margin is not None and end.projected_margin is not None
        assert mid.projected_margin <= end.projected_margin + 1e-12

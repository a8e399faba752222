"""Two-stage campaigns (unit → cluster → person): the seeded draw of clusters then persons
with both stages' probabilities and populations recorded, and its refusals."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import campaigns, closing, draw, frames
from survey.common.access import Scope
from survey.common.errors import ServiceError
from survey.models import Campaign, CampaignDraw, CampaignWeight, FrameRow, ResultRow, User
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.test_close import answers, enter_rows

# Ward-days of each hospital and their patients; the third hospital has two ward-days, both
# taken (certainty clusters).
CLUSTERS = {"99.BV1": [10, 12, 8, 14, 9, 11], "99.BV2": [10, 10, 10, 10], "99.BV3": [12, 12]}
TAKE = 4


def frame_csv(clusters: dict[str, list[int]] = CLUSTERS) -> bytes:
    lines = ["ma,ma_don_vi,ngay_khoa"]
    for code, sizes in clusters.items():
        for c, size in enumerate(sizes):
            lines += [f"BA-{code}-{c}-{i:03d},{code},K{c}" for i in range(size)]
    return ("\n".join(lines) + "\n").encode()


def two_stage_campaign(db: Any, province: dict[str, Any], total: int = 30) -> Campaign:
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    today = dt.date.today()
    campaign = campaigns.create_campaign(admin, campaigns.CampaignInput(
        name="Nội trú theo ngày-khoa", owner_unit_id=province["health"].id,
        questionnaire="health_inpatient:1", unit_kind="hospital", coverage="all", unit_ids=[],
        period_start=today - dt.timedelta(days=4), period_end=today + dt.timedelta(days=5),
        channels=["paper", "field"], strata_by="unit", stages="unit_cluster_person",
        cluster_kind="ward_day", size_mode="total", target_margin_percent=None,
        total_sample=total, allocation="proportional"))
    frames.import_frame(campaign, io.BytesIO(frame_csv()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi", cluster_column="ngay_khoa"))
    return campaign


@pytest.fixture
def staged(db: Any, province: dict[str, Any]) -> Campaign:
    return two_stage_campaign(db, province)


def drawn(db: Any) -> list[FrameRow]:
    db.session.expire_all()
    return list(db.session.scalars(select(FrameRow).where(FrameRow.status == "selected")
                                   .order_by(FrameRow.id)))


def test_two_stage_draw_records_both_stages_and_is_seeded(db: Any, staged: Campaign) -> None:
    record = draw.draw_sample(staged, method="srs", seed=12, take=TAKE)
    rows = drawn(db)
    assert record.selected == len(rows)
    code_of = {cu.unit_id: cu.unit.code for cu in staged.units}
    planned = {code_of[u]: n for u, n in db.session.execute(select(
        FrameRow.unit_id, func.count()).where(FrameRow.status == "selected")
        .group_by(FrameRow.unit_id))}
    by_cluster: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        by_cluster[(code_of[r.unit_id], r.cluster)] += 1
    for code, sizes in CLUSTERS.items():
        taken = [c for (u, c) in by_cluster if u == code]
        # every selected cluster gives its fixed take (all its rows when fewer)
        assert all(by_cluster[(code, c)] == min(TAKE, sizes[int(c[1:])]) for c in taken)
        assert planned[code] == TAKE * len(taken)
    assert {c for (u, c) in by_cluster if u == "99.BV3"} == {"K0", "K1"}  # certainty
    for r in rows:
        sizes = CLUSTERS[code_of[r.unit_id]]
        m = len({c for (u, c) in by_cluster if u == code_of[r.unit_id]})
        n_i = sizes[int(r.cluster[1:])]
        assert (r.stage1_population, r.stage2_population) == (len(sizes), n_i)
        assert r.stage1_probability == pytest.approx(m / len(sizes))
        assert r.stage2_probability == pytest.approx(min(TAKE, n_i) / n_i)
        assert r.selection_probability == pytest.approx(
            r.stage1_probability * r.stage2_probability)
    first = [(r.id, r.selection_probability) for r in rows]
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE)
    assert [(r.id, r.selection_probability) for r in drawn(db)] == first
    draw.draw_sample(staged, method="srs", seed=13, take=TAKE)
    assert [(r.id, r.selection_probability) for r in drawn(db)] != first


def test_two_stage_pps_selects_clusters_by_their_row_count(db: Any, staged: Campaign) -> None:
    draw.draw_sample(staged, method="pps", seed=5, take=TAKE)
    rows = drawn(db)
    code_of = {cu.unit_id: cu.unit.code for cu in staged.units}
    bv1 = [r for r in rows if code_of[r.unit_id] == "99.BV1"]
    m = len({r.cluster for r in bv1})
    assert m == math.ceil(len(bv1) / TAKE)
    total = sum(CLUSTERS["99.BV1"])
    for r in bv1:  # no ward-day of BV1 is large enough to be taken with certainty
        assert r.stage1_probability == pytest.approx(m * r.stage2_population / total)
    # a drawn again sample with one stage clears the stage columns
    staged.stages = "unit_person"
    draw.draw_sample(staged, method="srs", seed=5)
    assert {(r.stage1_probability, r.stage2_population) for r in drawn(db)} == {(None, None)}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "systematic", "take": TAKE}, "PPS"),
    ({"method": "srs", "take": TAKE, "reserve": 1001}, "dự phòng"),
    ({"method": "srs"}, "mỗi cụm"),
    ({"method": "srs", "take": 0}, "mỗi cụm"),
])
def test_bad_two_stage_draws_are_refused_and_write_nothing(db: Any, staged: Campaign,
                                                           kwargs: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        draw.draw_sample(staged, seed=1, **kwargs)
    assert db.session.scalar(select(func.count()).select_from(CampaignDraw)) == 0
    assert drawn(db) == []


def test_a_two_stage_draw_needs_the_cluster_column(db: Any, province: dict[str, Any]) -> None:
    campaign = two_stage_campaign(db, province)
    frames.import_frame(campaign, io.BytesIO(frame_csv()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi"))
    with pytest.raises(ServiceError, match="cột cụm"):
        draw.draw_sample(campaign, method="srs", seed=1, take=TAKE)
    assert drawn(db) == []


ITEMS = ["a1", "a2", "a3", "a4", "a5"]


def test_the_snapshot_uses_the_multistage_design(db: Any, staged: Campaign,
                                                 make_user: Any,
                                                 province: dict[str, Any]) -> None:
    draw.draw_sample(staged, method="srs", seed=12, take=TAKE)
    campaigns.advance_status(staged, "fieldwork")
    make_user("nhaplieu", "clerk", province["province"], sector="health")
    rows = sorted(drawn(db), key=lambda r: r.row_number)
    enter_rows(db, staged, rows)  # every sampled person answers: answers(i), i = rank
    snapshot = closing.close(staged, closing.CloseOptions(), "soyte")
    assert snapshot.status == "done", snapshot.error
    assert staged.weighting_report["two_stage"] is True
    assert snapshot.designs[f"campaign:{staged.id}"]["two_stage"] is True
    weights = list(db.session.scalars(select(CampaignWeight).order_by(CampaignWeight.response_id)))
    row_of = {r.id: r for r in rows}
    rank = {r.id: i for i, r in enumerate(rows)}
    for w in weights:
        r = row_of[w.frame_row_id]
        assert (w.psu2, w.fpc, w.fpc2) == (str(r.id), r.stage1_population, r.stage2_population)
        assert w.psu.endswith(f":{r.cluster}")
    df = pd.DataFrame([{
        "unit": str(row_of[w.frame_row_id].unit_id), "stratum": w.stratum, "psu": w.psu,
        "psu2": w.psu2, "fpc": w.fpc, "fpc2": w.fpc2, "w": w.final,
        **{k: float(v) for k, v in answers(rank[w.frame_row_id]).items() if k in ITEMS}}
        for w in weights])

    def by_unit(**design: Any) -> pd.DataFrame:
        d = analysis.SurveyDesign(df, strata="stratum", weights="w", lonely_psu="adjust",
                                  **design)
        return d.satisfaction_index(ITEMS, threshold=4, by="unit").summary_frame() \
            .set_index("unit")

    multistage = by_unit(psu=["psu", "psu2"], fpc=["fpc", "fpc2"])
    one_stage = by_unit(psu="psu", fpc="fpc")
    stored = {str(r.unit_id): r for r in db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == snapshot.id, ResultRow.domain == "unit",
        ResultRow.node == "tiep_can"))}
    assert len(multistage) == 3
    for unit, line in multistage.iterrows():
        assert stored[str(unit)].estimate == pytest.approx(line["estimate"])
        assert stored[str(unit)].se == pytest.approx(line["se"])
    certain = str(next(cu.unit_id for cu in staged.units if cu.unit.code == "99.BV3"))
    # both ward-days of BV3 taken: the first stage alone says no variance at all
    assert one_stage.loc[certain, "se"] == pytest.approx(0, abs=1e-12)
    assert stored[certain].se > 0.01


def test_the_draw_form_takes_the_persons_per_cluster(client: Any, db: Any, login: Any,
                                                     staged: Campaign) -> None:
    login("soyte")
    url = f"{BASE}/{staged.id}/draw"
    refused = client.post(url, data={"method": "srs", "seed": "3", "reserve": "0"})
    assert refused.status_code == 422
    assert "Số người lấy trong mỗi cụm phải từ 1 đến 1000." in refused.get_data(as_text=True)
    assert drawn(db) == []
    done = client.post(url, data={"method": "srs", "seed": "3", "reserve": "0", "take": "4"})
    assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
    rows = drawn(db)
    assert rows and all(r.stage2_probability is not None for r in rows)
    assert len(rows) == db.session.scalar(select(CampaignDraw.selected))

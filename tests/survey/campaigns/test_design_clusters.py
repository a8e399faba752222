"""The design page of a two-stage campaign (unit → cluster → person) prices the clustering:
clusters drawn per unit, the two-stage margins with the assumed ICC and take, before and
after a frame; bad assumptions are refused with nothing saved; one-stage pages unchanged."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from typing import Any

import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import campaigns, design, draw, frames, progress
from survey.common.access import Scope
from survey.models import AuditLog, Campaign, FrameRow, User
from tests.survey.campaigns.conftest import BASE, campaign_form
from tests.survey.campaigns.test_stages import CLUSTERS, frame_csv

POPULATIONS = [400, 1200, 3000]


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def two_stage(db: Any, province: dict[str, Any], **overrides: Any) -> Campaign:
    admin = Scope.for_user(db.session.scalar(select(User).where(User.username == "admin")))
    today = dt.date.today()
    data: dict[str, Any] = dict(
        name="Nội trú theo ngày-khoa", owner_unit_id=province["health"].id,
        questionnaire="health_inpatient:1", unit_kind="hospital", coverage="all", unit_ids=[],
        period_start=today, period_end=today + dt.timedelta(days=9), channels=["paper"],
        strata_by="unit", stages="unit_cluster_person", cluster_kind="ward_day",
        size_mode="margin", target_margin_percent=5.0, total_sample=None,
        allocation="proportional")
    data.update(overrides)
    return campaigns.create_campaign(admin, campaigns.CampaignInput(**data))


def design_post(campaign: Campaign, **fields: str) -> dict[str, str]:
    data = {"p_percent": "50", "deff": "1.2", "response_percent": "80"}
    for i, cu in enumerate(campaign.units):
        data[f"units-{i}-unit_id"] = str(cu.unit_id)
        data[f"units-{i}-stratum"] = ""
        data[f"units-{i}-population"] = str(POPULATIONS[i])
    data.update(fields)
    return data


def margin_text(margin: float) -> str:
    return f"±{margin * 100:.1f}"


def test_before_a_frame_clusters_and_two_stage_margins(client: Any, db: Any, login: Any,
                                                       province: dict[str, Any]) -> None:
    login("soyte")
    campaign = two_stage(db, province)
    page = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert 'name="icc"' in page and 'name="take"' in page and "0,02 đến 0,10" in page
    assert "Nhập số người lấy trong mỗi cụm" in page  # no take yet: no margin promised
    posted = client.post(f"{BASE}/{campaign.id}", data=design_post(
        campaign, take="10", icc="0.05", cluster_size=""))
    assert posted.status_code == 302, posted.get_data(as_text=True)[-2000:]
    db.session.refresh(campaign)
    assert (campaign.planned_take, campaign.planned_icc) == (10, pytest.approx(0.05))
    assert campaign.planned_cluster_size is None
    plan = design.plan(campaign)
    assert plan.two_stage and plan.cluster_source == "unknown"
    pops = {cu.unit_id: cu.expected_population for cu in campaign.units}

    def unknown(clusters: int) -> float:  # infinitely many, infinitely large clusters
        return analysis.two_stage_margin_of_error(clusters, 10, icc=0.05, deff=1.2,
                                                  response_rate=0.8)

    for unit in plan.units:
        # the fewest clusters whose two-stage margin meets ±5 %, at most as many as the
        # unit's persons fill: without a cluster count there is no fpc, so the smallest
        # hospital cannot reach it even inviting everyone, and the page says so
        most = math.ceil(pops[unit.unit_id] / 10)
        assert unit.clusters is not None and unit.clusters_available is None
        assert unit.margin == pytest.approx(unknown(unit.clusters))
        if unit.reachable:
            assert unit.margin <= 0.05 < unknown(unit.clusters - 1)
        else:
            assert unit.clusters == most and unit.margin > 0.05
        assert unit.invitations == min(unit.clusters * 10, pops[unit.unit_id])
        # the one-stage size of the same target would have missed it
        n = analysis.sample_size_proportion(0.05, deff=1.2, population=pops[unit.unit_id],
                                            response_rate=0.8)
        assert unknown(math.ceil(n / 10)) > 0.05
        assert unit.cluster_deff == pytest.approx(1 + (10 * 0.8 - 1) * 0.05)
    assert [u.reachable for u in plan.units] == [False, True, True]
    assert plan.clusters == sum(u.clusters or 0 for u in plan.units)
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "coi là vô số và vô cùng lớn" in html
    assert "Số cụm được chọn (Khoa-ngày)" in html and f"<dd>{plan.clusters}</dd>" in html
    assert margin_text(plan.overall_margin or 0) in html
    for unit in plan.units:
        assert f"{unit.clusters} / —" in html and margin_text(unit.margin or 0) in html
    assert ("Không thể đạt sai số mục tiêu ở Bệnh viện 1: ngay cả khi chọn mọi cụm có thể, "
            f"sai số vẫn là {margin_text(plan.units[0].margin or 0)} điểm") in html

    # a planned mean cluster size: clusters per unit and both stages' fpc
    posted = client.post(f"{BASE}/{campaign.id}", data=design_post(
        campaign, take="10", icc="0.05", cluster_size="25"))
    assert posted.status_code == 302
    db.session.refresh(campaign)
    plan = design.plan(campaign)
    assert plan.cluster_source == "planned"
    for unit in plan.units:
        big_n = pops[unit.unit_id]
        assert unit.clusters_available == round(big_n / 25)

        def planned(clusters: int, big_n: int = big_n) -> float:
            return analysis.two_stage_margin_of_error(
                clusters, 10, population_clusters=round(big_n / 25), cluster_size=25,
                icc=0.05, deff=1.2, response_rate=0.8)

        # both stages' fpc: the fewest clusters that reach ±5 %, or all 16 of the first
        # hospital, whose 160 persons at 10 a ward-day cannot reach it
        assert unit.clusters is not None
        assert unit.margin == pytest.approx(planned(unit.clusters))
        if unit.reachable:
            assert unit.margin <= 0.05 < planned(unit.clusters - 1)
        else:
            assert unit.clusters == unit.clusters_available == 16 and unit.margin > 0.05
    assert [u.reachable for u in plan.units] == [False, True, True]
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "ước tính từ quy mô trung bình của cụm" in html
    assert f"{plan.units[0].clusters} / {plan.units[0].clusters_available}" in html


def test_with_a_frame_the_plan_is_what_the_draw_selects(client: Any, db: Any, login: Any,
                                                       province: dict[str, Any]) -> None:
    campaign = two_stage(db, province, size_mode="total", total_sample=30,
                         target_margin_percent=None)
    frames.import_frame(campaign, io.BytesIO(frame_csv()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi", cluster_column="ngay_khoa"))
    campaign.planned_take, campaign.planned_icc = 4, 0.1
    campaign.planned_cluster_size = 500  # ignored once the frame gives the clusters
    db.session.commit()
    plan = design.plan(campaign)
    assert plan.from_frame and plan.cluster_source == "frame"
    code_of = {cu.unit_id: cu.unit.code for cu in campaign.units}
    for unit in plan.units:
        sizes = CLUSTERS[code_of[unit.unit_id]]
        assert unit.population == sum(sizes) and unit.clusters_available == len(sizes)
        expected = analysis.two_stage_margin_of_error(
            unit.clusters or 0, 4, population_clusters=len(sizes),
            cluster_size=sum(sizes) / len(sizes), icc=0.1, response_rate=0.8)
        assert unit.margin == pytest.approx(expected)
    # the draw selects the clusters and persons the page priced
    draw.draw_sample(campaign, method="srs", seed=3, take=4)
    db.session.expire_all()
    selected = db.session.execute(select(
        FrameRow.unit_id, func.count(func.distinct(FrameRow.cluster)), func.count()).where(
        FrameRow.status == "selected").group_by(FrameRow.unit_id)).all()
    assert {u: (c, n) for u, c, n in selected} == {
        u.unit_id: (u.clusters, u.invitations) for u in plan.units}
    # the third hospital: both of its ward-days, no first-stage variance left
    third = next(u for u in plan.units if code_of[u.unit_id] == "99.BV3")
    assert third.clusters == third.clusters_available == 2
    assert third.margin == pytest.approx(analysis.margin_of_error(
        8, population=24, response_rate=0.8) * math.sqrt(0.9))
    login("soyte")
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "lấy từ khung mẫu đã nhập" in html
    assert f"{third.clusters} / {third.clusters_available}" in html
    assert margin_text(plan.overall_margin or 0) in html
    assert f"{plan.cluster_deff:.2f}" in html
    # the draw form proposes the planned take
    frame_page = client.get(f"{BASE}/{campaign.id}/frame").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="take"[^>]*value="4"', frame_page)


def test_a_frame_without_its_cluster_column_is_pointed_out(client: Any, db: Any, login: Any,
                                                           province: dict[str, Any]) -> None:
    campaign = two_stage(db, province, size_mode="total", total_sample=30,
                         target_margin_percent=None)
    frames.import_frame(campaign, io.BytesIO(frame_csv()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi"))
    campaign.planned_take, campaign.planned_cluster_size = 4, 8
    db.session.commit()
    plan = design.plan(campaign)
    # the populations are the frame's, the clusters the planned size's until it has them
    assert plan.from_frame and plan.cluster_source == "planned"
    code_of = {cu.unit_id: cu.unit.code for cu in campaign.units}
    for unit in plan.units:
        assert unit.population == sum(CLUSTERS[code_of[unit.unit_id]])
        assert unit.clusters_available == round((unit.population or 0) / 8)
    login("soyte")
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "Khung mẫu đã nhập không có cột cụm" in html


def test_stratum_and_overall_margins_combine_the_units(db: Any,
                                                       province: dict[str, Any]) -> None:
    campaign = two_stage(db, province, strata_by="hospital_level", size_mode="total",
                         total_sample=600, target_margin_percent=None)
    for cu, level, pop in zip(campaign.units, ["I", "II", "II"], [1000, 500, 500], strict=True):
        cu.stratum, cu.expected_population = level, pop
    campaign.planned_take, campaign.planned_icc, campaign.planned_cluster_size = 15, 0.08, 30
    db.session.commit()
    plan = design.plan(campaign)
    assert [u.invitations for u in plan.units] == [300, 150, 150]
    ids = {u.unit_id: u for u in plan.units}
    second = [cu.unit_id for cu in campaign.units][1:]
    strata = {s.name: s for s in plan.strata}
    assert strata["II"].clusters == 2 * 10
    expected = analysis.stratified_two_stage_margin_of_error(
        {u: ids[u].clusters or 0 for u in second}, {u: 500 for u in second}, 15,
        population_clusters={u: round(500 / 30) for u in second},
        cluster_size={u: 30 for u in second}, icc=0.08, response_rate=0.8)
    assert strata["II"].margin == pytest.approx(expected)
    assert strata["II"].margin > analysis.stratified_margin_of_error(
        {u: 150 for u in second}, {u: 500 for u in second}, response_rate=0.8)
    assert plan.overall_margin is not None and plan.overall_margin < strata["II"].margin
    assert plan.cluster_deff is not None and plan.cluster_deff > 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"icc": "0.7"}, "Từ 0 đến 0,5"),
    ({"icc": "-0.1"}, "Từ 0 đến 0,5"),
    ({"icc": ""}, "tương quan trong cụm phải nằm trong khoảng từ 0 đến 0,5"),
    ({"take": "0"}, "1 đến 1000"),
    ({"take": ""}, "Số người lấy trong mỗi cụm phải là số nguyên từ 1 đến 1000"),
    ({"cluster_size": "0"}, "số nguyên dương"),
])
def test_bad_cluster_assumptions_refused_and_nothing_saved(
        client: Any, db: Any, login: Any, province: dict[str, Any], fields: dict[str, str],
        message: str) -> None:
    login("soyte")
    campaign = two_stage(db, province)
    campaign.planned_take, campaign.planned_icc = 6, 0.04
    db.session.commit()
    before = count(db, AuditLog)
    data = design_post(campaign, take="12", icc="0.05", cluster_size="20")
    data.update(fields)
    response = client.post(f"{BASE}/{campaign.id}", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    again = db.session.get(Campaign, campaign.id)
    assert (again.planned_take, again.planned_icc, again.planned_cluster_size) == (
        6, pytest.approx(0.04), None)
    assert again.deff == 1.0 and all(cu.expected_population is None for cu in again.units)
    assert count(db, AuditLog) == before


def test_the_service_refuses_too(db: Any, province: dict[str, Any]) -> None:
    from survey.common.errors import ServiceError

    campaign = two_stage(db, province)
    rows = {cu.unit_id: (None, 100) for cu in campaign.units}
    for kwargs, field in [({"take": 5, "icc": 0.51}, "icc"), ({"take": 1001, "icc": 0.1}, "take"),
                          ({"take": 5, "icc": 0.1, "cluster_size": 0}, "cluster_size")]:
        with pytest.raises(ServiceError) as caught:
            design.set_assumptions(campaign, p=0.5, deff=1.0, response_rate=0.8, units=rows,
                                   **kwargs)
        assert caught.value.field == field
        db.session.expire_all()
        assert db.session.get(Campaign, campaign.id).planned_take is None


def test_one_stage_page_unchanged(client: Any, db: Any, login: Any,
                                  province: dict[str, Any]) -> None:
    login("soyte")
    assert client.post(f"{BASE}/new", data=campaign_form(province["health"])).status_code == 302
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
    posted = client.post(f"{BASE}/{campaign.id}", data=design_post(campaign))
    assert posted.status_code == 302
    db.session.refresh(campaign)
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert 'name="icc"' not in html and 'name="take"' not in html
    assert "Hệ số thiết kế do chọn cụm" not in html and "Số cụm" not in html
    plan = design.plan(campaign)
    assert not plan.two_stage and all(u.clusters is None for u in plan.units)
    pops = {cu.unit_id: cu.expected_population for cu in campaign.units}
    for unit in plan.units:
        n = analysis.sample_size_proportion(0.05, deff=1.2, population=pops[unit.unit_id],
                                            response_rate=0.8)
        assert unit.invitations == n
        assert unit.margin == pytest.approx(analysis.margin_of_error(
            n, population=pops[unit.unit_id], deff=1.2, response_rate=0.8))
    # the two-stage assumptions are not asked for, so none is stored
    assert campaign.planned_take is None and campaign.planned_icc == pytest.approx(0.05)


def test_a_target_margin_sizes_the_clusters_and_the_draw_takes_them(
        client: Any, db: Any, login: Any, province: dict[str, Any]) -> None:
    """±10 % per hospital with 5 patients a ward-day of 20 and an ICC of 0.1: the first
    hospital (100 ward-days) and the second (60, in two frame strata of 40 and 20) get the
    fewest ward-days that reach it (the one-stage size would have missed it), the third (3
    ward-days) cannot and takes all of them, and the draw selects exactly the ward-days and
    patients the page priced."""
    campaign = two_stage(db, province, target_margin_percent=10.0)
    layout = {"99.BV1": [("A", 100)], "99.BV2": [("A", 40), ("B", 20)], "99.BV3": [("A", 3)]}
    lines = ["ma,ma_don_vi,ngay_khoa,tang"]
    for code, strata in layout.items():
        for stratum, k in strata:
            lines += [f"BA-{code}-{stratum}{c}-{i},{code},{stratum}{c},{stratum}"
                      for c in range(k) for i in range(20)]
    frames.import_frame(campaign, io.BytesIO("\n".join(lines).encode()), "khung.csv",
                        frames.Mapping("ma", "ma_don_vi", stratum_column="tang",
                                       cluster_column="ngay_khoa"))
    campaign.assumed_p, campaign.deff, campaign.response_rate = 0.5, 1.0, 0.8
    campaign.planned_take, campaign.planned_icc = 5, 0.1
    db.session.commit()
    plan = design.plan(campaign)
    assert plan.cluster_source == "frame" and plan.problem is None
    units = {u.name: u for u in plan.units}

    def margin(clusters: dict[str, int], available: dict[str, int]) -> float:
        return analysis.stratified_two_stage_margin_of_error(
            clusters, {k: 20 * v for k, v in available.items()}, 5.0,
            population_clusters=available, cluster_size={k: 20.0 for k in available},
            icc=0.1, response_rate=0.8)

    first = units["Bệnh viện 1"]
    assert first.reachable and first.clusters_available == 100
    assert first.margin == pytest.approx(margin({"A": first.clusters or 0}, {"A": 100}))
    assert first.margin <= 0.10 < margin({"A": (first.clusters or 0) - 1}, {"A": 100})
    assert first.invitations == 5 * (first.clusters or 0)
    # the one-stage size (115 patients: 23 ward-days) misses the target once clustered
    one_stage = analysis.sample_size_proportion(0.10, population=2000, response_rate=0.8)
    assert margin({"A": math.ceil(one_stage / 5)}, {"A": 100}) > 0.10
    assert first.clusters == 28 > math.ceil(one_stage / 5) == 23
    second = units["Bệnh viện 2"]
    assert second.reachable and second.clusters_available == 60
    assert second.margin is not None and second.margin <= 0.10
    third = units["Bệnh viện 3"]
    assert not third.reachable and third.clusters == third.clusters_available == 3
    assert third.margin == pytest.approx(margin({"A": 3}, {"A": 3})) and third.margin > 0.10
    assert [u.name for u in plan.out_of_reach] == ["Bệnh viện 3"]
    login("soyte")
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "số cụm ít nhất mà sai số hai giai đoạn đạt mục tiêu" in html
    assert "Không thể đạt sai số mục tiêu ở Bệnh viện 3" in html
    assert "Không thể đạt sai số mục tiêu ở Bệnh viện 1" not in html
    # the draw: the planned ward-days in every hospital and frame stratum, 5 patients each
    draw.draw_sample(campaign, method="srs", seed=11, take=5)
    db.session.expire_all()
    name_of = {cu.unit_id: cu.unit.name for cu in campaign.units}
    selected = db.session.execute(select(
        FrameRow.unit_id, FrameRow.stratum, func.count(func.distinct(FrameRow.cluster)),
        func.count()).where(FrameRow.status == "selected").group_by(
        FrameRow.unit_id, FrameRow.stratum)).all()
    per_unit: dict[str, tuple[int, int]] = {}
    per_stratum = {}
    for unit_id, stratum, clusters, persons in selected:
        c, n = per_unit.get(name_of[unit_id], (0, 0))
        per_unit[name_of[unit_id]] = (c + clusters, n + persons)
        per_stratum[(name_of[unit_id], stratum)] = clusters
    assert per_unit == {u.name: (u.clusters, u.invitations) for u in plan.units}
    # the second hospital's ward-days shared 40 : 20 between its strata, at least one each
    a, b = per_stratum[("Bệnh viện 2", "A")], per_stratum[("Bệnh viện 2", "B")]
    assert a + b == second.clusters and a >= b >= 1
    assert second.margin == pytest.approx(margin({"A": a, "B": b}, {"A": 40, "B": 20}))
    # in fieldwork, the progress page expects the interviews of the clusters drawn
    campaign.status = "fieldwork"
    db.session.commit()
    report = progress.progress(campaign, campaign.period_start)
    assert {line.name: (line.target, line.selected) for line in report.units} == {
        u.name: (math.ceil(u.invitations * 0.8 - 1e-9), u.invitations) for u in plan.units}


def test_the_assumptions_are_read_only_outside_draft(db: Any, client: Any) -> None:
    """The demo's closed campaign shows its priced assumptions in disabled fields, with no
    button to save them; a draft's managers get them enabled."""
    from survey.demo import campaigns as demo_campaigns
    from survey.demo import seed as demo

    demo.seed(responses=False)
    done = demo_campaigns.seed_campaigns()
    assert client.post("/login", data={"username": "soyte", "password": demo.DEMO_PASSWORD}
                       ).status_code == 302
    page = client.get(f"/staff/campaigns/{done.closed.id}").get_data(as_text=True)
    assert '<fieldset class="plain" disabled>' in page
    assert 'name="take"' in page and 'value="4"' in page

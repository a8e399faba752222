"""Campaign create/edit/status pages and the design page's figures (from analysis)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import design
from survey.models import AuditLog, Campaign, CampaignUnit
from tests.survey.campaigns.conftest import BASE, campaign_form


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def create(client: Any, owner: Any, **overrides: Any) -> Campaign:
    response = client.post(f"{BASE}/new", data=campaign_form(owner, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return _latest()


def _latest() -> Campaign:
    from survey.extensions import db

    return db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()


def test_create_all_hospitals_and_design_figures(client: Any, db: Any, login: Any,
                                                 province: dict[str, Any]) -> None:
    login("soyte")
    assert client.get(f"{BASE}/new").status_code == 200
    campaign = create(client, province["health"])
    assert campaign.sector == "health" and campaign.status == "draft"
    assert {cu.unit_id for cu in campaign.units} == {h.id for h in province["hospitals"]}
    assert campaign.target_margin == pytest.approx(0.05)
    page = client.get(f"{BASE}/{campaign.id}")
    assert page.status_code == 200
    assert "Nhập quy mô dự kiến" in page.get_data(as_text=True)
    # expected populations per unit, then the figures come from analysis
    rows = {}
    for i, cu in enumerate(campaign.units):
        rows[f"units-{i}-unit_id"] = str(cu.unit_id)
        rows[f"units-{i}-stratum"] = ""
        rows[f"units-{i}-population"] = str([400, 1200, 3000][i])
    posted = client.post(f"{BASE}/{campaign.id}", data={
        "p_percent": "50", "deff": "1.5", "response_percent": "80", **rows})
    assert posted.status_code == 302
    db.session.refresh(campaign)
    assert campaign.deff == 1.5 and campaign.response_rate == pytest.approx(0.8)
    result = design.plan(campaign)
    pops = {cu.unit_id: cu.expected_population for cu in campaign.units}
    for unit in result.units:
        n = analysis.sample_size_proportion(0.05, deff=1.5, population=pops[unit.unit_id],
                                            response_rate=0.8)
        assert unit.invitations == n
        assert unit.margin is not None and unit.margin <= 0.05
    assert result.invitations == sum(u.invitations for u in result.units)
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert f"<dd>{result.invitations}</dd>" in html
    assert f"±{result.overall_margin * 100:.1f}" in html


def test_total_sample_allocated_and_strata(client: Any, db: Any, login: Any,
                                           province: dict[str, Any]) -> None:
    login("soyte")
    campaign = create(client, province["health"], size_mode="total", total_sample="600",
                      allocation="proportional", strata_by="hospital_level")
    levels = ["Hạng I", "Hạng II", "Hạng II"]
    pops = [1000, 500, 500]
    for cu, level, pop in zip(campaign.units, levels, pops, strict=True):
        cu.stratum, cu.expected_population = level, pop
    db.session.commit()
    result = design.plan(campaign)
    assert [u.invitations for u in result.units] == [300, 150, 150]
    strata = {s.name: s for s in result.strata}
    assert set(strata) == {"Hạng I", "Hạng II"}
    ids = [cu.unit_id for cu in campaign.units]
    expected = analysis.stratified_margin_of_error(
        {ids[1]: 150, ids[2]: 150}, {ids[1]: 500, ids[2]: 500}, response_rate=0.8)
    assert strata["Hạng II"].margin == pytest.approx(expected)
    assert strata["Hạng II"].invitations == 300


def test_total_too_small_is_explained(client: Any, db: Any, login: Any,
                                      province: dict[str, Any]) -> None:
    login("soyte")
    campaign = create(client, province["health"], size_mode="total", total_sample="4")
    for cu in campaign.units:
        cu.expected_population = 100
    db.session.commit()
    html = client.get(f"{BASE}/{campaign.id}").get_data(as_text=True)
    assert "không thể phân bổ" in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": "  "}, "Mục này bắt buộc"),
    ({"period_end": "2026-11-01"}, "kết thúc trước"),
    ({"channels": []}, "ít nhất một kênh"),
    ({"stages": "unit_cluster_person", "cluster_kind": ""}, "cụm"),
    ({"target_margin_percent": "45"}, "sai số mục tiêu"),
    ({"size_mode": "total", "total_sample": "1"}, "cỡ mẫu"),
    ({"unit_kind": "school"}, "không thuộc lĩnh vực"),
    ({"coverage": "list", "unit_ids": []}, "chưa có đơn vị"),
    ({"questionnaire": "health_inpatient:99"}, "bộ câu hỏi"),
])
def test_bad_input_refused_and_nothing_written(client: Any, db: Any, login: Any,
                                               province: dict[str, Any], overrides: Any,
                                               message: str) -> None:
    login("soyte")
    before = count(db, Campaign), count(db, AuditLog)
    response = client.post(f"{BASE}/new", data=campaign_form(province["health"], **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert (count(db, Campaign), count(db, AuditLog)) == before


def test_pick_list_outside_sector_refused(client: Any, db: Any, login: Any,
                                          province: dict[str, Any]) -> None:
    login("admin")
    school = province["schools"][0]
    response = client.post(f"{BASE}/new", data=campaign_form(
        province["health"], coverage="list", unit_ids=[province["hospitals"][0].id, school.id]))
    assert response.status_code == 422
    assert count(db, Campaign) == 0 and count(db, CampaignUnit) == 0


def test_edit_status_and_delete(client: Any, db: Any, login: Any,
                                province: dict[str, Any]) -> None:
    login("soyte")
    campaign = create(client, province["health"])
    first = province["hospitals"][0]
    edited = client.post(f"{BASE}/{campaign.id}/edit", data=campaign_form(
        province["health"], name="Đợt 2", coverage="list", unit_ids=[first.id]))
    assert edited.status_code == 302
    db.session.refresh(campaign)
    assert campaign.name == "Đợt 2" and [cu.unit_id for cu in campaign.units] == [first.id]
    # fieldwork needs a drawn sample
    client.post(f"{BASE}/{campaign.id}/status", data={"target": "fieldwork"})
    db.session.refresh(campaign)
    assert campaign.status == "draft"
    client.post(f"{BASE}/{campaign.id}/status", data={"target": "closed"})
    db.session.refresh(campaign)
    assert campaign.status == "draft"
    assert client.post(f"{BASE}/{campaign.id}/delete").status_code == 302
    assert count(db, Campaign) == 0

"""Closing a campaign: weights (base × nonresponse adjustment within cells, collapsed cells,
raking, trimming) checked by hand, the results through the engine as a frozen snapshot
equal to analysis' estimates from the weighted data, the weighting report, refusals."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

import analysis
from survey.campaigns.services import closing, entry
from survey.common.errors import ServiceError
from survey.models import Campaign, CampaignWeight, FrameRow, ResultRow, ResultSnapshot
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import (  # noqa: F401 (fixture)
    GOOD,
    fieldwork,
    scope_of,
    selected_rows,
    user_id,
)

# The fixture's design: three hospitals, 30 frame rows each, 8 drawn in each (equal
# allocation of 24): π = 8/30, base weight 3.75.
FRAME, DRAWN = 30, 8


def answers(i: int) -> dict[str, str]:
    """Varied answers: a1 from 2 to 5, a3 from 5 to 3, sex 1 and 2 in turn."""
    return {**GOOD, "a1": str(2 + i % 4), "a3": str(5 - i % 3), "gioi_tinh": str(1 + i % 2)}


def enter_rows(db: Any, campaign: Campaign, rows: list[FrameRow]) -> None:
    scope, uid = scope_of(db, "nhaplieu"), user_id(db, "nhaplieu")
    for i, row in enumerate(rows):
        entry.enter(scope, uid, campaign, entry.EntryInput(
            channel="paper", slip=str(row.row_number), unit_id=None, answers=answers(i),
            client_submission_id=entry.new_submission_id()))


def by_unit(db: Any, campaign: Campaign) -> dict[int, list[FrameRow]]:
    out: dict[int, list[FrameRow]] = {}
    for row in selected_rows(db, campaign):
        out.setdefault(row.unit_id, []).append(row)
    return out


def count(db: Any, model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def respond(db: Any, campaign: Campaign, per_unit: list[int]) -> dict[int, int]:
    """Let the first n sampled persons of each hospital answer; {unit_id: n}."""
    groups = by_unit(db, campaign)
    chosen: list[FrameRow] = []
    out = {}
    for (unit_id, rows), n in zip(sorted(groups.items()), per_unit, strict=True):
        chosen += rows[:n]
        out[unit_id] = n
    enter_rows(db, campaign, chosen)
    return out


def test_a_whole_campaign_closes_into_a_frozen_snapshot(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    answered = respond(db, fieldwork, [5, 6, 7])
    snapshot = closing.close(fieldwork, closing.CloseOptions(), "soyte")
    db.session.refresh(fieldwork)
    assert fieldwork.status == "closed" and fieldwork.snapshot_id == snapshot.id
    assert snapshot.status == "done", snapshot.error
    assert snapshot.n_responses == 18
    basis = f"campaign:{fieldwork.id}"
    assert snapshot.parameters["campaign"] == fieldwork.id
    assert snapshot.designs[basis]["probability"] is True
    assert snapshot.designs[basis]["strata"] == 3 and snapshot.designs[basis]["fpc"] is True
    assert snapshot.designs[basis]["two_stage"] is False
    # Weights by hand: base 30/8, times selected/respondents of the hospital.
    weights = list(db.session.scalars(select(CampaignWeight)))
    assert len(weights) == 18
    unit_of = {r.id: r.unit_id for r in db.session.scalars(select(FrameRow))}
    for w in weights:
        n = answered[unit_of[w.frame_row_id]]
        assert w.base == pytest.approx(FRAME / DRAWN)
        assert w.adjusted == pytest.approx(FRAME / DRAWN * DRAWN / n)
        assert w.final == pytest.approx(w.adjusted) and w.fpc == FRAME
    # Each hospital's weights add up to its frame count (nonresponse adjustment).
    assert sum(w.final for w in weights) == pytest.approx(3 * FRAME)
    rows = list(db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == snapshot.id)))
    assert {r.basis for r in rows} == {basis} and all(r.probability for r in rows)
    units = {r.unit_id for r in rows if r.domain == "unit"}
    assert set(answered) <= units
    assert {r.sector for r in rows if r.domain == "sector"} == {"health"}
    # The weighting report.
    report = fieldwork.weighting_report
    assert report["respondents"] == 18 and report["selected"] == 24
    assert report["cells_collapsed"] == [] and report["trimmed"] == 0
    assert report["draw_method"] == "srs" and report["fpc"] is True
    finals = pd.Series([w.final for w in weights])
    cv = float(finals.std(ddof=0) / finals.mean())
    assert report["weights"]["min"] == pytest.approx(FRAME / 7)
    assert report["weights"]["max"] == pytest.approx(FRAME / 5)
    assert report["weights"]["median"] == pytest.approx(float(finals.median()))
    assert report["weights"]["cv"] == pytest.approx(cv)
    assert report["weights"]["kish_deff"] == pytest.approx(1 + cv * cv)
    assert [(s["frame"], s["selected"], s["respondents"]) for s in report["strata"]] == [
        (30, 8, 5), (30, 8, 6), (30, 8, 7)]


def test_the_snapshot_equals_analysis_on_the_weighted_data(db: Any,
                                                           fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    snapshot = closing.close(fieldwork, closing.CloseOptions(), "soyte")
    # The weighted data, built by hand: the answers each respondent was given.
    weights = list(db.session.scalars(select(CampaignWeight).order_by(CampaignWeight.id)))
    unit_of = {r.id: r.unit_id for r in db.session.scalars(select(FrameRow))}
    order = {w.response_id: i for i, w in enumerate(sorted(weights, key=lambda w: w.response_id))}
    df = pd.DataFrame([{
        "unit": str(unit_of[w.frame_row_id]), "stratum": w.stratum, "psu": w.psu,
        "w": w.final, "fpc": w.fpc,
        **{k: float(v) for k, v in answers(order[w.response_id]).items()
           if k in ("a1", "a2", "a3", "a4", "a5")}} for w in weights])
    design = analysis.SurveyDesign(df, strata="stratum", psu="psu", weights="w", fpc="fpc",
                                   lonely_psu="adjust")
    expected = design.satisfaction_index(["a1", "a2", "a3", "a4", "a5"], threshold=4,
                                         by="unit").summary_frame()
    stored = {str(r.unit_id): r for r in db.session.scalars(select(ResultRow).where(
        ResultRow.snapshot_id == snapshot.id, ResultRow.domain == "unit",
        ResultRow.node == "tiep_can"))}
    assert len(expected) == 3
    for _i, line in expected.iterrows():
        row = stored[str(line["unit"])]
        assert row.estimate == pytest.approx(line["estimate"])
        assert row.se == pytest.approx(line["se"])
        assert row.n == line["n"]


def test_a_cell_with_too_few_respondents_is_collapsed(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [1, 4, 6])
    closing.close(fieldwork, closing.CloseOptions(), "soyte")
    report = fieldwork.weighting_report
    assert len(report["cells_collapsed"]) == 1 and report["cells"] == 2
    weights = list(db.session.scalars(select(CampaignWeight)))
    merged = [w for w in weights if w.cell == report["cells_collapsed"][0]["into"]]
    # The merged cell: 16 selected, 5 respondents, equal base weights.
    assert len(merged) == 5
    for w in merged:
        assert w.adjusted == pytest.approx(FRAME / DRAWN * 16 / 5)
    assert sum(w.final for w in weights) == pytest.approx(3 * FRAME)


def test_raking_to_margins_and_trimming(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    margins = closing.parse_margins("gioi_tinh: 1=40, 2=50")
    closing.close(fieldwork, closing.CloseOptions(margins, trim=1.1), "soyte")
    weights = list(db.session.scalars(select(CampaignWeight).order_by(CampaignWeight.response_id)))
    report = fieldwork.weighting_report
    assert report["raked_to"] == {"gioi_tinh": {"1": 40.0, "2": 50.0}}
    assert report["trimmed"] > 0
    assert sum(w.final for w in weights) == pytest.approx(90)
    assert max(w.final for w in weights) <= report["trim_upper"] + 1e-9


def test_raking_alone_meets_the_margins(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    closing.close(fieldwork, closing.CloseOptions({"gioi_tinh": {"1": 40, "2": 50}}), "x")
    weights = list(db.session.scalars(select(CampaignWeight).order_by(CampaignWeight.response_id)))
    sexes = [1 + i % 2 for i in range(len(weights))]
    assert sum(w.final for w, s in zip(weights, sexes, strict=True) if s == 1) == \
        pytest.approx(40)
    assert sum(w.final for w, s in zip(weights, sexes, strict=True) if s == 2) == \
        pytest.approx(50)


@pytest.mark.parametrize(("margins", "why"), [
    ({"gioi_tinh": {"1": 40, "2": -5}}, "âm"),
    ({"gioi_tinh": {"1": 40, "2": 50}, "bhyt": {"1": 80}}, "cùng một tổng"),
    ({"gioi_tinh": {"1": 40}}, "không có tổng"),
])
def test_bad_margins_are_refused_and_write_nothing(db: Any, fieldwork: Campaign,  # noqa: F811
                                                   margins: Any, why: str) -> None:
    respond(db, fieldwork, [5, 6, 7])
    with pytest.raises(ServiceError) as refused:
        closing.close(fieldwork, closing.CloseOptions(margins), "soyte")
    assert why in refused.value.message
    db.session.refresh(fieldwork)
    assert fieldwork.status == "fieldwork" and fieldwork.weighting_report is None
    assert count(db, CampaignWeight) == 0 and count(db, ResultSnapshot) == 0


def test_no_responses_cannot_close(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    with pytest.raises(ServiceError) as refused:
        closing.close(fieldwork, closing.CloseOptions(), "soyte")
    assert "chưa có" in refused.value.message.lower() or "không thể" in refused.value.message
    db.session.refresh(fieldwork)
    assert fieldwork.status == "fieldwork"
    assert count(db, CampaignWeight) == 0 and count(db, ResultSnapshot) == 0


def test_unreadable_margins_are_refused() -> None:
    with pytest.raises(ServiceError):
        closing.parse_margins("gioi_tinh 1=40")
    with pytest.raises(ServiceError):
        closing.parse_margins("gioi_tinh: 1=bốn mươi")
    assert closing.parse_margins("a: 1=2, 2=3\n\nb: x=5") == {
        "a": {"1": 2.0, "2": 3.0}, "b": {"x": 5.0}}


def test_close_from_the_pages(client: Any, db: Any, login: Any,
                              fieldwork: Campaign) -> None:  # noqa: F811
    respond(db, fieldwork, [5, 6, 7])
    login("sogddt")
    assert client.get(f"{BASE}/{fieldwork.id}/close").status_code == 404
    assert client.post(f"{BASE}/{fieldwork.id}/close", data={"confirm": "y"}).status_code \
        == 404
    client.post("/logout")
    login("soyte")
    page = client.get(f"{BASE}/{fieldwork.id}/close")
    assert page.status_code == 200 and "18" in page.get_data(as_text=True)
    # The status button does not close (the weights are computed on the close page).
    client.post(f"{BASE}/{fieldwork.id}/status", data={"target": "closed"})
    db.session.refresh(fieldwork)
    assert fieldwork.status == "fieldwork"
    unconfirmed = client.post(f"{BASE}/{fieldwork.id}/close", data={})
    assert unconfirmed.status_code == 422
    bad = client.post(f"{BASE}/{fieldwork.id}/close",
                      data={"confirm": "y", "margins": "gioi_tinh: 1=40, 2=-50"})
    assert bad.status_code == 422 and "âm" in bad.get_data(as_text=True)
    assert count(db, CampaignWeight) == 0
    done = client.post(f"{BASE}/{fieldwork.id}/close",
                       data={"confirm": "y", "margins": "gioi_tinh: 1=40, 2=50", "trim": "3"})
    assert done.status_code == 302 and done.headers["Location"].endswith(
        f"/{fieldwork.id}/weights")
    db.session.refresh(fieldwork)
    assert fieldwork.status == "closed" and count(db, CampaignWeight) == 18
    html = client.get(f"{BASE}/{fieldwork.id}/weights").get_data(as_text=True)
    assert "Kish" in html and "gioi_tinh" in html
    assert f"snapshot={fieldwork.snapshot_id}" in html
    overview = client.get(f"/staff/results/?snapshot={fieldwork.snapshot_id}")
    assert overview.status_code == 200
    assert "Mẫu xác suất của một đợt khảo sát" in overview.get_data(as_text=True)
    hospital = by_unit(db, fieldwork)
    unit_page = client.get(f"/staff/results/units/{sorted(hospital)[0]}"
                           f"?snapshot={fieldwork.snapshot_id}")
    assert unit_page.status_code == 200
    client.post("/logout")
    login("sogddt")
    assert client.get(f"{BASE}/{fieldwork.id}/weights").status_code == 404

"""Field progress: achieved n against the target per unit and stratum, response rate,
margins from ``analysis``, strata at risk, clerks' entries per day; by aggregate queries
(the statement count does not grow with the responses); the page within scope."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

import analysis
from survey.campaigns.services import entry, progress
from survey.extensions import db as ext_db
from survey.models import Campaign, CampaignEntry
from tests.survey.campaigns.conftest import BASE
from tests.survey.campaigns.entry_fixtures import (
    GOOD,
    fieldwork,  # noqa: F401 (fixture)
    scope_of,
    selected_rows,
    user_id,
)


def enter_rows(db: Any, campaign: Campaign, rows: list[Any], clerk: str = "nhaplieu") -> None:
    scope, uid = scope_of(db, clerk), user_id(db, clerk)
    for row in rows:
        entry.enter(scope, uid, campaign, entry.EntryInput(
            channel="paper", slip=str(row.row_number), unit_id=None, answers=GOOD,
            client_submission_id=f"tien-do-{row.id:08d}"))


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = ext_db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_figures_per_unit_and_stratum(db: Any, fieldwork: Campaign,  # noqa: F811
                                      province: dict[str, Any]) -> None:
    rows = selected_rows(db, fieldwork)
    first = province["hospitals"][0].id
    mine = [r for r in rows if r.unit_id == first]
    assert len(mine) == 8  # 24 allocated equally
    enter_rows(db, fieldwork, mine[:6])
    enter_rows(db, fieldwork, [r for r in rows if r.unit_id != first][:1], clerk="nhaplieu2")
    today = fieldwork.period_start + dt.timedelta(days=4)  # day 5 of 10
    report = progress.progress(fieldwork, today)
    assert (report.elapsed_days, report.total_days) == (5, 10)
    line = next(u for u in report.units if u.name == "Bệnh viện 1")
    target = math.ceil(8 * fieldwork.response_rate)
    assert (line.population, line.selected, line.achieved, line.target) == (30, 8, 6, target)
    assert line.response_rate == pytest.approx(6 / 8)
    assert line.projected == 12  # 6 in 5 days of 10
    assert line.margin == pytest.approx(analysis.margin_of_error(
        6, p=0.5, confidence=0.95, deff=1.0, population=30))
    assert line.projected_margin == pytest.approx(analysis.margin_of_error(
        12, p=0.5, confidence=0.95, deff=1.0, population=30))
    assert not line.at_risk
    others = [u for u in report.units if u.name != "Bệnh viện 1"]
    assert sum(u.achieved for u in others) == 1 and all(u.at_risk for u in others)
    assert report.at_risk == ["Bệnh viện 2", "Bệnh viện 3"]  # each unit its own stratum
    assert report.achieved == 7 and report.target == 3 * target
    clerks = {c.name: (c.entries, c.days) for c in report.clerks}
    assert clerks == {"Cán bộ nhaplieu": (6, 1), "Cán bộ nhaplieu2": (1, 1)}


def test_strata_of_several_units(db: Any, fieldwork: Campaign,  # noqa: F811
                                 province: dict[str, Any]) -> None:
    fieldwork.strata_by = "hospital_level"
    for cu, level in zip(fieldwork.units, ("Tỉnh", "Huyện", "Huyện"), strict=True):
        cu.stratum = level
    db.session.commit()
    rows = selected_rows(db, fieldwork)
    enter_rows(db, fieldwork, rows[:20])
    report = progress.progress(fieldwork, fieldwork.period_end)
    by_name = {s.name: s for s in report.strata}
    assert set(by_name) == {"Tỉnh", "Huyện"}
    district = by_name["Huyện"]
    units = [u for u in report.units if u.name in ("Bệnh viện 2", "Bệnh viện 3")]
    assert district.achieved == sum(u.achieved for u in units)
    assert district.population == 60 and district.selected == 16
    sizes = {i: u.achieved for i, u in enumerate(units)}
    assert district.margin == pytest.approx(analysis.stratified_margin_of_error(
        sizes, {i: 30 for i in sizes}, p=0.5, confidence=0.95, deff=1.0))


def test_bounded_number_of_statements(db: Any, fieldwork: Campaign) -> None:  # noqa: F811
    rows = selected_rows(db, fieldwork)
    enter_rows(db, fieldwork, rows[:2])
    db.session.expire_all()
    campaign = db.session.get(Campaign, fieldwork.id)
    with statements() as few:
        progress.progress(campaign, campaign.period_start)
    enter_rows(db, fieldwork, rows[2:20])
    db.session.expire_all()
    campaign = db.session.get(Campaign, fieldwork.id)
    with statements() as many:
        report = progress.progress(campaign, campaign.period_start)
    assert report.achieved == 20
    assert len(many) == len(few) <= 15
    assert db.session.scalar(select(CampaignEntry.id).limit(1)) is not None


def test_page_within_scope(client: Any, db: Any, login: Any,
                           fieldwork: Campaign) -> None:  # noqa: F811
    enter_rows(db, fieldwork, selected_rows(db, fieldwork)[:3])
    login("soyte")
    page = client.get(f"{BASE}/{fieldwork.id}/progress")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tiến độ thực địa" in html and "Bệnh viện 1" in html and "Cán bộ nhaplieu" in html
    assert "Các tầng có nguy cơ" in html
    client.post("/logout")
    login("sogddt")
    assert client.get(f"{BASE}/{fieldwork.id}/progress").status_code == 404
    client.post("/logout")
    login("nhaplieu")  # a clerk enters forms but does not manage the campaign
    assert client.get(f"{BASE}/{fieldwork.id}/progress").status_code == 403

"""A sector's page: its index tree with intervals and flags in words, the trend with the
significance of each change, its agencies against the sector's target; only for those
who see the whole sector (administrators, province-wide analysts, its sector manager)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest
from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.common.access import Scope
from survey.common.errors import NotFound
from survey.models import User
from survey.org.services import units
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import dashboard, sectors
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_rankings import _row
from tests.survey.results.test_results import province  # noqa: F401  (fixture)


@pytest.fixture
def two_sectors(db: Any, make_user: Any) -> dict[str, Any]:
    """A snapshot written directly: a ward (administrative) and two hospitals (health),
    with the sectors' own rows; one account per role."""
    questionnaire_versions.sync()
    root = units.create_unit(None, {"name": "Tỉnh Ngành", "kind": "province",
                                    "sector": "administrative", "code": "97"})
    ward = units.create_unit(root, {"name": "Phường Một", "kind": "commune",
                                    "sector": "administrative", "code": "97.P1"})
    good = units.create_unit(root, {"name": "Bệnh viện Tốt", "kind": "hospital",
                                    "sector": "health", "code": "97.BV1"})
    poor = units.create_unit(root, {"name": "Bệnh viện Kém", "kind": "hospital",
                                    "sector": "health", "code": "97.BV2"})
    snapshot = ResultSnapshot(period="2026-10", period_start=dt.date(2026, 10, 1),
                              period_end=dt.date(2026, 10, 31), status="done")
    db.session.add(snapshot)
    db.session.flush()
    for unit, estimate in ((ward, 0.92), (good, 0.95), (poor, 0.70)):
        db.session.add(_row(snapshot, unit, "open", estimate, 0.02, 120))
    for name, estimate in (("administrative", 0.92), ("health", 0.83)):
        row = _row(snapshot, ward, "open", estimate, 0.015, 240, domain="sector")
        row.unit_id, row.unit_code, row.unit_name, row.sector = None, None, name, name
        db.session.add(row)
    db.session.commit()
    make_user("tinh", "administrator", root)
    make_user("soyte", "sector_manager", root, sector="health")
    make_user("sogd", "sector_manager", root, sector="education")
    make_user("phuong", "unit_manager", ward)
    make_user("phantich", "analyst", root)
    return {"root": root, "ward": ward, "good": good, "poor": poor}


def _scope(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def test_agencies_against_the_sector_target(db: Any, two_sectors: dict[str, Any]) -> None:
    page = sectors.sector_page(_scope(db, "soyte"), "health")
    assert page.target == 0.85
    panel = page.panels[0]
    assert [n.line.row.unit_name for n in panel.nodes] == ["health"]
    assert [(line.row.unit_name, line.status) for line in panel.agencies] == [
        ("Bệnh viện Tốt", "above"), ("Bệnh viện Kém", "below")]
    assert panel.count("below") == 1 and panel.count("above") == 1


@pytest.mark.parametrize(("username", "sector", "status"), [
    ("tinh", "health", 200), ("tinh", "administrative", 200), ("phantich", "health", 200),
    ("soyte", "health", 200), ("soyte", "administrative", 404), ("sogd", "health", 404),
    ("phuong", "administrative", 404), ("tinh", "khong-co", 404)])
def test_only_who_sees_the_whole_sector_opens_its_page(
        client: Any, login: Any, two_sectors: dict[str, Any], username: str, sector: str,
        status: int) -> None:
    login(username)
    response = client.get(f"/staff/results/sectors/{sector}")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert ("Bệnh viện Kém" in html) == (sector == "health")
        assert "Phường Một" in html or sector == "health"
        assert "Bệnh viện" not in html or sector == "health"


def test_the_navigation_offers_the_sectors_one_may_open(client: Any, login: Any, db: Any,
                                                        two_sectors: dict[str, Any]) -> None:
    assert sectors.visible_sectors(_scope(db, "soyte")) == ["health"]
    assert sectors.visible_sectors(_scope(db, "phuong")) == []
    assert set(sectors.visible_sectors(_scope(db, "tinh"))) >= {"administrative", "health"}
    with pytest.raises(NotFound):
        sectors.sector_page(_scope(db, "phuong"), "administrative")
    units.create_unit(two_sectors["root"], {"name": "Trường Mới", "kind": "school",
                                            "sector": "education", "code": "97.T1"})
    login("tinh")  # a sector with units but no results yet: said so, not a 404
    response = client.get("/staff/results/sectors/education", follow_redirects=True)
    assert response.status_code == 200
    assert "Ngành này chưa có kết quả" in response.get_data(as_text=True)
    client.post("/logout")
    login("soyte")
    html = client.get("/staff/results/rankings").get_data(as_text=True)
    assert "/staff/results/sectors/health" in html
    assert "/staff/results/sectors/administrative" not in html


def test_sector_page_of_computed_snapshots(client: Any, login: Any, db: Any,
                                           two_months: dict[str, Any]) -> None:  # noqa: F811
    """From snapshots computed from submitted responses: the trend over September and
    October with the significance of the change, the agencies, the flags in words."""
    scope = _scope(db, "tinh")
    page = sectors.sector_page(scope, "administrative")
    assert page.snapshot.period == "2026-10"
    panel = next(p for p in page.panels if p.basis == "open")
    assert [t.period for t in panel.trend] == ["2026-09", "2026-10"]
    before, now = (t.line.row for t in panel.trend)
    change = panel.trend[1].line.change
    assert change is not None
    assert change.difference == pytest.approx(now.estimate - before.estimate)
    half = (change.ci_high - change.ci_low) / 2
    assert half > 1.9 * math.hypot(now.se, before.se)  # the SE of a difference
    names = [line.row.unit_name for line in panel.agencies]
    assert {"Xã 1", "Xã 2"} <= set(names)
    assert "Tỉnh Thử" not in names  # the province is the whole, not an agency of the sector
    for line in panel.agencies:
        assert line.target == dashboard.targets()["administrative"]
    login("tinh")
    html = client.get("/staff/results/sectors/administrative").get_data(as_text=True)
    assert "<svg" in html and "2026-09" in html and "p = " in html
    assert dashboard.explain_flags(now.flags) in html.replace("&#39;", "'")
    link = re.search(
        r'href="(/staff/results/rankings\?[^"]*basis=open[^"]*sector=administrative[^"]*)"', html)
    assert link is not None
    ranked = client.get(link.group(1).replace("&amp;", "&"))
    assert ranked.status_code == 200 and "Xã 1" in ranked.get_data(as_text=True)
    overview = client.get("/staff/results/").get_data(as_text=True)
    assert "/staff/results/sectors/administrative" in overview
    assert "/staff/results/rankings" in overview


def test_unit_page_breaks_down_by_service_point(client: Any, login: Any, db: Any,
                                                two_months: dict[str, Any]) -> None:  # noqa: F811
    from survey.models import ServicePoint

    commune = db.session.get(ServicePoint, two_months["points"][1]).unit_id
    page = dashboard.unit_page(_scope(db, "tinh"), commune)
    panel = page.panels[0]
    assert [line.row.unit_name for line in panel.points] == ["Bộ phận Một cửa"]
    assert panel.points[0].row.domain == "point"
    root = dashboard.unit_page(_scope(db, "tinh"), two_months["root"].id)
    opened = next(p for p in root.panels if p.basis == "open")
    assert not opened.points  # the province itself has no desk here
    assert {line.row.unit_name for line in opened.children} == {"Xã 1", "Xã 2"}
    login("xa1")
    html = client.get(f"/staff/results/units/{commune}").get_data(as_text=True)
    centre = client.get(f"/staff/results/units/{two_months['root'].id}")
    assert centre.status_code == 404
    assert "Bộ phận Một cửa" in html and "Theo điểm phục vụ" in html
    rows = db.session.scalars(select(ResultRow).where(ResultRow.domain == "point")).all()
    assert rows  # and none of them is in the unit manager's view of another unit
    other = db.session.get(ServicePoint, two_months["points"][2]).unit_id
    assert client.get(f"/staff/results/units/{other}").status_code == 404


def test_unit_page_puts_the_channels_side_by_side(client: Any, login: Any, db: Any,
                                                  two_months: dict[str, Any]) -> None:  # noqa: F811
    page = dashboard.unit_page(_scope(db, "tinh"), two_months["root"].id)
    channels = [(panel.basis, line.row.node) for panel, line in page.channels]
    assert channels == [("tokens", "hai_long"), ("open", "hai_long")]
    login("tinh")
    html = client.get(f"/staff/results/units/{two_months['root'].id}").get_data(as_text=True)
    assert "Theo kênh thu thập" in html
    link = re.search(r'href="(/staff/results/rankings\?[^"]*basis=open[^"]*within=[^"]*)"', html)
    assert link is not None  # the sub-units' ranking
    ranked = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Xã 1" in ranked and "Xã 2" in ranked and "Trung tâm PVHCC" not in ranked


def test_a_province_wide_snapshot_comes_before_a_newer_one_of_a_subtree(
        db: Any, two_sectors: dict[str, Any]) -> None:
    ward = two_sectors["ward"]
    partial = ResultSnapshot(period="2026-11", period_start=dt.date(2026, 11, 1),
                             period_end=dt.date(2026, 11, 30), status="done",
                             scope_unit_id=ward.id)
    db.session.add(partial)
    db.session.flush()
    row = _row(partial, ward, "open", 0.50, 0.02, 100, domain="sector")
    row.unit_id, row.unit_code, row.unit_name = None, None, "administrative"
    db.session.add(row)
    db.session.commit()
    page = sectors.sector_page(_scope(db, "tinh"), "administrative")
    assert page.snapshot.scope_unit_id is None and page.snapshot.period == "2026-10"
    chosen = sectors.sector_page(_scope(db, "tinh"), "administrative", partial.id)
    assert chosen.panels[0].nodes[0].line.row.estimate == 0.50  # when asked for, shown

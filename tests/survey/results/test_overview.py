"""The results overview: read from snapshots, agencies against their sector's target,
the change since the previous period with its significance, scoped by role."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest
from sqlalchemy import select

from survey.authoring.services import versions as questionnaire_versions
from survey.models import ServicePoint
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import dashboard
from tests.survey.results.test_results import _submit, province  # noqa: F401  (fixture)

SEPT = dt.datetime(2026, 9, 15, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def two_months(runner: Any, db: Any, make_user: Any,
               province: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    version = questionnaire_versions.latest_published("desk_rating")
    rng = random.Random(11)
    for n in (1, 2):
        point = province["points"][n]
        unit_id = db.session.get(ServicePoint, point).unit_id
        for _ in range(25):
            _submit(province["defn"], version, unit_id, point, "desk_qr", rng, 0.95, when=SEPT)
        if n == 1:  # enough October answers at the first desk to publish its figure
            for _ in range(30):
                _submit(province["defn"], version, unit_id, point, "desk_qr", rng, 0.5)
    for month in ("2026-09", "2026-10"):
        assert runner.invoke(args=["results", "compute", "--period", month]).exit_code == 0
    make_user("tinh", "administrator", province["root"])
    commune = db.session.get(type(province["root"]), db.session.get(
        ServicePoint, province["points"][1]).unit_id)
    make_user("xa1", "unit_manager", commune)
    return province


def test_overview_compares_with_the_previous_period(client: Any, login: Any, db: Any,
                                                    two_months: dict[str, Any]) -> None:
    login("tinh")
    html = client.get("/staff/results/").get_data(as_text=True)
    assert "2026-10" in html and "2026-09" in html
    assert "<svg" in html  # the headline chart of the tokens or the open panel
    assert "Xã 2 (n = 30" in html  # not published, with its n
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert "Xã 1" in chart and "Xã 2" not in chart
    assert "mẫu không xác suất" in html.lower() or "không xác suất" in html


def test_changes_use_the_se_of_a_difference(app: Any, db: Any,
                                            two_months: dict[str, Any]) -> None:
    from survey.common.access import Scope
    from survey.models import User

    scope = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    ov = dashboard.overview(scope)
    assert ov.snapshot.period == "2026-10" and ov.previous is not None
    panel = next(p for p in ov.panels if p.basis == "open")
    changed = [line for line in [*panel.province, *panel.units] if line.change is not None]
    assert changed
    sept = {(r.unit_id, r.node, r.basis): r for r in db.session.scalars(
        select(ResultRow).where(ResultRow.snapshot_id == ov.previous.id))}
    for line in changed:
        before = sept[(line.row.unit_id, line.row.node, line.row.basis)]
        assert line.change.difference == pytest.approx(line.row.estimate - before.estimate)
        se = math.hypot(line.row.se, before.se)
        half = (line.change.ci_high - line.change.ci_low) / 2
        assert half > 1.9 * se  # t quantile with df = min(df1, df2) times that SE
        assert 0 <= line.change.p_value <= 1


def test_status_against_the_target() -> None:
    def line(low: float, high: float, publication: str = "present") -> dashboard.Line:
        row = ResultRow(estimate=(low + high) / 2, ci_low=low, ci_high=high,
                        publication=publication)
        return dashboard.Line(row, 0.9)

    assert line(0.70, 0.85).status == "below"
    assert line(0.85, 0.95).status == "level"
    assert line(0.91, 0.97).status == "above"
    assert line(0.70, 0.85, "suppress").status == "suppressed"


def test_a_unit_manager_sees_only_their_unit(client: Any, login: Any, db: Any,
                                             two_months: dict[str, Any]) -> None:
    login("xa1")
    html = client.get("/staff/results/").get_data(as_text=True)
    assert "Xã 1" in html and "Xã 2" not in html and "Tỉnh Thử" not in html


def test_without_a_snapshot_the_overview_sends_to_the_list(client: Any, login: Any,
                                                           make_user: Any,
                                                           province: dict[str, Any]) -> None:  # noqa: F811
    make_user("tinh2", "administrator", province["root"])
    login("tinh2")
    response = client.get("/staff/results/")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/staff/results/snapshots")
    assert ResultSnapshot  # the model is what the overview reads


def test_unit_page_shows_the_tree_the_trend_and_sub_units(client: Any, login: Any, db: Any,
                                                          two_months: dict[str, Any]) -> None:
    login("tinh")
    root = two_months["root"]
    html = client.get(f"/staff/results/units/{root.id}").get_data(as_text=True)
    assert "2026-09" in html and "2026-10" in html  # the trend, one row per period
    assert html.count("<td>2026-09</td>") == 1  # the open panel trend, not repeated
    assert "<svg" in html and "Xã 1" in html  # sub-units with their intervals
    client.post("/logout")
    login("xa1")
    assert client.get(f"/staff/results/units/{root.id}").status_code == 404
    commune = db.session.get(ServicePoint, two_months["points"][1]).unit_id
    assert client.get(f"/staff/results/units/{commune}").status_code == 200


def test_flags_are_explained_in_words(app: Any) -> None:
    words = dashboard.explain_flags("small_n,wide_ci,suppress,missing:q1+q2")
    assert words.startswith("not published") or "không" in words
    assert "q1, q2" in words


def test_service_points_are_domains_of_the_full_design(runner: Any, db: Any,
                                                       province: dict[str, Any]) -> None:  # noqa: F811
    """A commune with one desk: the desk's figure is the commune's, to the last digit;
    every point row carries its unit (whose scope decides who reads it)."""
    assert runner.invoke(args=["results", "compute", "--period", "2026-10"]).exit_code == 0
    rows = db.session.scalars(select(ResultRow)).all()
    points = [r for r in rows if r.domain == "point"]
    assert {(r.unit_name, r.basis) for r in points} == {
        ("Bộ phận Một cửa", "open"), ("Quầy 1", "tokens")}
    commune = db.session.get(ServicePoint, province["points"][1]).unit_id
    unit_rows = {(r.basis, r.node): r for r in rows  # questions have no point rows
                 if r.domain == "unit" and r.unit_id == commune and r.rule != "item"}
    desk_rows = [r for r in points if r.unit_id == commune]
    assert len(desk_rows) == len(unit_rows) >= 3
    for r in desk_rows:
        twin = unit_rows[(r.basis, r.node)]
        assert (r.estimate, r.se, r.ci_low, r.ci_high, r.n, r.df) == (
            twin.estimate, twin.se, twin.ci_low, twin.ci_high, twin.n, twin.df)


def test_a_suppressed_headline_figure_is_not_shown(client: Any, login: Any, db: Any,
                                                   two_months: dict[str, Any]) -> None:
    """The headline table follows the publication rules like every other table: a
    suppressed figure shows as a dash with the reason, not as a number."""
    from survey.common.access import Scope
    from survey.models import User

    scope = Scope.for_user(db.session.scalar(select(User).where(User.username == "tinh")))
    ov = dashboard.overview(scope)
    row = next(line.row for p in ov.panels for line in p.province if not line.suppressed)
    shown = f"{row.estimate * 100:.1f}"
    login("tinh")
    assert shown in client.get("/staff/results/").get_data(as_text=True)
    row.publication, row.flags = "suppress", "small_n"
    db.session.commit()
    html = client.get("/staff/results/").get_data(as_text=True)
    headline = html[html.index("<tbody>"):html.index("</tbody>")]
    assert shown not in headline and "—" in headline
    assert "ít phiếu" in headline

"""Rankings that respect uncertainty: rank intervals from analysis.rank_intervals, tied
groups where differences are not significant, suppressed figures apart with their reason,
the two channel bases never mixed, scoped by role."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

import analysis
from survey.authoring.services import versions as questionnaire_versions
from survey.common.access import Scope
from survey.common.errors import NotFound, ServiceError
from survey.models import User
from survey.org.services import units
from survey.results.models import ResultRow, ResultSnapshot
from survey.results.services import rankings
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)

# (name, estimate, se, n, publication, flags): A and B are not distinguishable, C is far
# below both, D is suppressed (too few responses).
UNITS = [("Phường A", 0.95, 0.010, 200, "present", ""),
         ("Phường B", 0.94, 0.012, 180, "present", ""),
         ("Phường C", 0.70, 0.020, 150, "present", ""),
         ("Phường D", 0.80, 0.150, 9, "suppress", "small_n,wide_ci,suppress")]


def _row(snapshot: ResultSnapshot, unit: Any, basis: str, estimate: float, se: float, n: int,
         publication: str = "present", flags: str = "", node: str = "hai_long",
         domain: str = "unit") -> ResultRow:
    return ResultRow(
        snapshot_id=snapshot.id, domain=domain, unit_id=unit.id, unit_code=unit.code,
        unit_name=unit.name, sector=unit.sector, basis=basis,
        probability=basis == "tokens", questionnaire="desk_rating v1", node=node,
        rule="share_at_least", estimate=estimate, se=se, ci_low=estimate - 2 * se,
        ci_high=min(1.0, estimate + 2 * se), n=n, n_eff=float(n), deff=1.0, df=float(n - 1),
        method="logit", publication=publication,
        flags=",".join(f for f in (flags, "" if basis == "tokens" else "non_probability") if f))


@pytest.fixture
def wards(db: Any, make_user: Any) -> dict[str, Any]:
    """A snapshot written directly: four wards under a province, open channel, plus one
    ward's tokens figure (which must never join the open ranking)."""
    questionnaire_versions.sync()
    root = units.create_unit(None, {"name": "Tỉnh Hạng", "kind": "province",
                                    "sector": "administrative", "code": "98"})
    made = {}
    for i, (name, *_rest) in enumerate(UNITS):
        made[name] = units.create_unit(root, {"name": name, "kind": "commune",
                                              "sector": "administrative", "code": f"98.{i}"})
    snapshot = ResultSnapshot(period="2026-10", period_start=dt.date(2026, 10, 1),
                              period_end=dt.date(2026, 10, 31), status="done")
    db.session.add(snapshot)
    db.session.flush()
    db.session.add(_row(snapshot, root, "open", 0.88, 0.01, 539))
    for name, estimate, se, n, publication, flags in UNITS:
        db.session.add(_row(snapshot, made[name], "open", estimate, se, n, publication, flags))
    db.session.add(_row(snapshot, made["Phường C"], "tokens", 0.99, 0.005, 60))
    db.session.commit()
    make_user("hang", "administrator", root)
    make_user("phuongb", "unit_manager", made["Phường B"])
    return {"root": root, "units": made, "snapshot": snapshot}


def _scope(db: Any, username: str) -> Scope:
    return Scope.for_user(db.session.scalar(select(User).where(User.username == username)))


def test_rank_intervals_are_those_of_analysis(db: Any, wards: dict[str, Any]) -> None:
    page = rankings.ranking(_scope(db, "hang"), basis="open")
    assert [r.line.row.unit_name for r in page.ranked] == ["Phường A", "Phường B", "Phường C"]
    rows = [r.line.row for r in page.ranked]
    expected = analysis.rank_intervals(analysis.Estimates(
        statistic="satisfaction_index", keys=pd.DataFrame({"u": [r.unit_id for r in rows]}),
        estimate=np.array([r.estimate for r in rows]), se=np.array([r.se for r in rows]),
        df=np.array([r.df for r in rows]), n=np.array([r.n for r in rows], dtype=float),
        deff=np.ones(3), sum_weights=np.ones(3), is_proportion=True),
        rng=np.random.default_rng(page.seed), n_draws=page.draws)
    assert [(r.rank, r.rank_low, r.rank_high) for r in page.ranked] == list(
        expected[["rank", "rank_low", "rank_high"]].itertuples(index=False, name=None))
    # A and B overlap: each could be first or second; C is surely third.
    assert (page.ranked[0].rank_low, page.ranked[0].rank_high) == (1, 2)
    assert (page.ranked[2].rank_low, page.ranked[2].rank_high) == (3, 3)
    # The same page twice: the same intervals (the generator is seeded by the snapshot).
    again = rankings.ranking(_scope(db, "hang"), basis="open")
    assert [(r.rank_low, r.rank_high) for r in again.ranked] == [
        (r.rank_low, r.rank_high) for r in page.ranked]


def test_tied_groups_follow_the_significance_of_differences(db: Any,
                                                            wards: dict[str, Any]) -> None:
    page = rankings.ranking(_scope(db, "hang"), basis="open")
    assert [r.group for r in page.ranked] == [1, 1, 2] and page.groups == 2
    a, b, c = (r.line.row for r in page.ranked)
    # What the grouping rests on: A - B is not significant, A - C is.
    for other, significant in ((b, False), (c, True)):
        comparison = analysis.Comparison(
            keys=pd.DataFrame({"i": [0]}), difference=np.array([a.estimate - other.estimate]),
            se=np.array([np.hypot(a.se, other.se)]), df=np.array([min(a.df, other.df)]))
        assert bool(comparison.p_value[0] < 0.05) is significant


def test_suppressed_figures_are_listed_with_their_reason(db: Any, client: Any, login: Any,
                                                         wards: dict[str, Any]) -> None:
    page = rankings.ranking(_scope(db, "hang"), basis="open")
    assert [s.row.unit_name for s in page.suppressed] == ["Phường D"]
    reason = page.suppressed[0].reason
    assert reason == "ít phiếu; khoảng tin cậy rộng"  # words (Vietnamese), not flag names
    assert page.containing == ["Tỉnh Hạng"]  # the province holds the wards' respondents
    login("hang")
    html = client.get("/staff/results/rankings?basis=open").get_data(as_text=True)
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert "Phường A" in chart and "Phường D" not in chart
    hidden = html[html.index("Phường D"):]
    assert reason in hidden.replace("&#39;", "'")
    assert "1–2 · Phường A" in chart  # the rank interval beside the name


def test_the_two_channel_bases_are_never_mixed(db: Any, wards: dict[str, Any]) -> None:
    scope = _scope(db, "hang")
    tokens = rankings.ranking(scope)  # the probability basis comes first
    assert tokens.filters.basis == "tokens" and tokens.probability
    assert [r.line.row.unit_name for r in tokens.ranked] == ["Phường C"]
    assert {r.line.row.basis for r in tokens.ranked} == {"tokens"}
    assert tokens.filters.bases == ["tokens", "open"]
    opened = rankings.ranking(scope, basis="open")
    assert {r.line.row.basis for r in opened.ranked} == {"open"} and not opened.probability


def test_filters_by_sector_and_by_parent(db: Any, make_unit: Any,
                                         wards: dict[str, Any]) -> None:
    scope = _scope(db, "hang")
    with pytest.raises(ServiceError) as err:
        rankings.ranking(scope, basis="open", sector="health")
    assert err.value.message and "health" in err.value.message
    assert err.value.field == "sector"
    page = rankings.ranking(scope, basis="open", sector="administrative")
    assert len(page.ranked) == 3
    below = rankings.ranking(scope, basis="open", within=wards["root"].id)
    assert [r.line.row.unit_name for r in below.ranked] == [
        r.line.row.unit_name for r in page.ranked]
    assert (wards["root"].id, "Tỉnh Hạng") in page.filters.parents
    for bad in ({"questionnaire": "khong_co v9"}, {"basis": "campaign:1"},
                {"node": "khong_co"}):
        with pytest.raises(ServiceError):
            rankings.ranking(scope, **bad)


def test_bad_filters_are_refused_with_a_message(client: Any, login: Any, db: Any,
                                                wards: dict[str, Any]) -> None:
    before = db.session.scalar(select(func.count()).select_from(ResultRow))
    login("hang")
    response = client.get("/staff/results/rankings?basis=open&node=khong_co&_scheme=x")
    assert response.status_code == 302  # the bad choice is dropped, the others kept
    assert response.headers["Location"].endswith("/staff/results/rankings?basis=open")
    response = client.get(response.headers["Location"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "khong_co" in html
    assert "Không có" in html  # the Vietnamese message
    assert '<option value="open" selected>' in html
    assert db.session.scalar(select(func.count()).select_from(ResultRow)) == before


def test_a_unit_manager_ranks_only_within_their_scope(client: Any, login: Any, db: Any,
                                                      wards: dict[str, Any]) -> None:
    page = rankings.ranking(_scope(db, "phuongb"), basis="open")
    assert [r.line.row.unit_name for r in page.ranked] == ["Phường B"]
    assert not page.suppressed and not page.containing
    with pytest.raises(NotFound):
        rankings.ranking(_scope(db, "phuongb"), within=wards["root"].id)
    login("phuongb")
    html = client.get("/staff/results/rankings?basis=open").get_data(as_text=True)
    assert "Phường B" in html and "Phường A" not in html and "Phường C" not in html
    assert client.get(f"/staff/results/rankings?within={wards['root'].id}").status_code == 404


def test_rankings_of_computed_snapshots_render(client: Any, login: Any,
                                               two_months: dict[str, Any]) -> None:  # noqa: F811
    """From snapshots computed from submitted responses (the demo's path)."""
    login("tinh")
    response = client.get("/staff/results/rankings")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Trung tâm PVHCC" in html  # the tokens basis
    html = client.get("/staff/results/rankings?basis=open").get_data(as_text=True)
    assert "Xã 1" in html and "Xã 2" in html  # Xã 2: not published in October, with a reason
    assert html.index("Xã 2") > html.index("</svg>")
    mean = client.get("/staff/results/rankings?basis=open&node=diem_binh_quan")
    assert mean.status_code == 200

"""Sampling, comparisons, confidence intervals, sufficient statistics, architecture."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    SurveyDesign,
    allocate,
    ci,
    compare_domains,
    compare_independent,
    index_from_sufficient,
    pps_systematic,
    rank_intervals,
    sample_size_proportion,
    stratified_srswor,
    sufficient_statistics,
    systematic,
)

ITEMS = ["q1", "q2", "q3", "q4", "q5"]


def test_sample_size_known_values() -> None:
    assert sample_size_proportion(0.05) == 385
    assert sample_size_proportion(0.05, population=1000) == 278
    assert sample_size_proportion(0.05, population=1000, method="slovin") == 286
    assert sample_size_proportion(0.05, deff=2, response_rate=0.5) == 1537  # ceil(1536.6)
    with pytest.raises(ValueError, match="margin"):
        sample_size_proportion(0)
    with pytest.raises(ValueError, match="population"):
        sample_size_proportion(0.05, method="slovin")


def test_allocation_methods_and_bounds() -> None:
    pop = {"a": 1000, "b": 3000, "c": 6000, "d": 10}
    prop = allocate(500, pop)
    assert sum(prop.values()) == 500 and prop["d"] == 2 and prop["c"] > prop["b"] > prop["a"]
    eq = allocate(400, pop, method="equal")
    assert eq["d"] == 10 and sum(eq.values()) == 400
    ney = allocate(300, pop, method="neyman", sd={"a": 0.5, "b": 0.1, "c": 0.1, "d": 0.5})
    assert ney["a"] > ney["b"] and sum(ney.values()) == 300
    pw = allocate(300, pop, method="power", power=0.5, max_n={"c": 100})
    assert pw["c"] <= 100 and sum(pw.values()) == 300
    with pytest.raises(ValueError, match="n="):
        allocate(5, pop)
    with pytest.raises(ValueError, match="sd"):
        allocate(300, pop, method="neyman")


def test_selection_and_inclusion_probabilities() -> None:
    rng = np.random.default_rng(7)
    strata = np.repeat(["a", "b"], [50, 100])
    s = stratified_srswor(strata, {"a": 5, "b": 20}, rng=rng)
    assert len(s.index) == 25 and len(set(s.index)) == 25
    assert s.weights.sum() == pytest.approx(150)
    sy = systematic(103, 10, rng=rng)
    assert len(sy.index) == 10 and sy.index.max() < 103
    sizes = np.array([100.0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    pps = pps_systematic(sizes, 4, rng=rng)
    assert 0 in pps.index and len(pps.index) == 4
    assert pps.inclusion_probability[pps.index == 0][0] == 1.0
    with pytest.raises(TypeError, match="rng"):
        systematic(10, 2, rng=None)  # type: ignore[arg-type]


def test_same_seed_same_sample() -> None:
    a = stratified_srswor(
        np.arange(100) % 4, {0: 3, 1: 3, 2: 3, 3: 3}, rng=np.random.default_rng(1)
    )
    b = stratified_srswor(
        np.arange(100) % 4, {0: 3, 1: 3, 2: 3, 3: 3}, rng=np.random.default_rng(1)
    )
    np.testing.assert_array_equal(a.index, b.index)


def test_compare_domains_in_separate_strata_are_independent(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    res = d.satisfaction_index(ITEMS, by="agency")
    comp = compare_domains(res, "A01", "A05")
    se = res.se[[0, 4]]
    assert comp.se[0] == pytest.approx(np.hypot(*se), rel=1e-12)
    assert comp.difference[0] == pytest.approx(res.estimate[0] - res.estimate[4])
    assert 0 < comp.p_value[0] < 1
    frame = comp.summary_frame()
    assert {"difference", "se", "p_value", "ci_low", "ci_high"} <= set(frame)


def test_compare_domains_sharing_strata_use_the_covariance(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="agency", weights="n_pop").poststratify(
        "sex", {"F": 60000.0, "M": 55000.0}
    )
    res = d.satisfaction_index("q1", by="channel")
    comp = compare_domains(res, "desk", "online")
    assert comp.se[0] != pytest.approx(np.hypot(*res.se), rel=1e-6)
    with pytest.raises(KeyError, match="first"):
        compare_domains(res, "nope", "desk")


def test_compare_independent_waves(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    w1 = d.satisfaction_index("q1", by="agency")
    w2 = d.satisfaction_index("q2", by="agency")
    comp = compare_independent(w1, w2)
    np.testing.assert_allclose(comp.se, np.hypot(w1.se, w2.se))
    np.testing.assert_allclose(comp.difference, w1.estimate - w2.estimate)


def test_rank_intervals(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    res = d.satisfaction_index(ITEMS, by="agency")
    a = rank_intervals(res, rng=np.random.default_rng(3))
    b = rank_intervals(res, rng=np.random.default_rng(3))
    pd.testing.assert_frame_equal(a, b)
    assert (a["rank_low"] <= a["rank"]).all() and (a["rank"] <= a["rank_high"]).all()
    assert a.loc[a["estimate"].idxmax(), "rank"] == 1


def test_wilson_with_large_df_is_the_classical_interval() -> None:
    p, n = np.array([0.3]), 200.0
    se = np.sqrt(p * (1 - p) / n)
    lo, hi = ci.wilson(p, se, np.array([1e12]), 0.05)
    ref = proportion_confint(60, 200, alpha=0.05, method="wilson")
    assert lo[0] == pytest.approx(ref[0], rel=1e-7)
    assert hi[0] == pytest.approx(ref[1], rel=1e-7)


def test_no_df_gives_nan_and_degenerate_proportions() -> None:
    # the bare formulas have no interval there; interval() replaces them (test_publication)
    lo, hi = ci.logit(np.array([0.4]), np.array([0.1]), np.array([0.0]), 0.05)
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    lo, hi = ci.beta(np.array([1.0]), np.array([0.0]), np.array([5.0]), np.array([6.0]), 0.05)
    assert lo[0] == hi[0] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strata": "stratum", "fpc": "n_pop"},
        {"strata": "stratum", "psu": "hh", "fpc": "n_hh_pop", "lonely_psu": "adjust"},
        {"strata": "stratum", "psu": "hh", "lonely_psu": "average"},
        {"strata": "stratum", "lonely_psu": "remove"},
    ],
)
@pytest.mark.parametrize("threshold", [4, None])
@pytest.mark.parametrize("by", ["agency", None, ["agency", "sex"]])
def test_sufficient_statistics_agree_with_microdata(
    synthetic: pd.DataFrame, kwargs: dict[str, str], threshold: float | None, by: str | None
) -> None:
    d = SurveyDesign(synthetic, **kwargs)  # type: ignore[arg-type]
    iw = {"q1": 1.0, "q2": 2.0, "q3": 0.5, "q5": 1.0}
    micro = d.satisfaction_index(ITEMS, threshold=threshold, item_weights=iw, by=by)
    cells, strata = sufficient_statistics(d, ITEMS, threshold=threshold, by=by)
    summed = index_from_sufficient(
        cells,
        strata,
        ITEMS,
        item_weights=iw,
        by=by,
        lonely_psu=d.lonely_psu,
        is_proportion=threshold is not None,
    )
    for f in ("estimate", "df", "n", "sum_weights"):
        np.testing.assert_allclose(getattr(summed, f), getattr(micro, f), rtol=1e-9, atol=1e-12)
    # variances: the quadratic form loses ~1e-16 absolute where the true variance is 0
    np.testing.assert_allclose(summed.variance, micro.variance, rtol=1e-9, atol=1e-14)
    # deff is 0/0 where the SE is zero (all answers alike)
    ok = micro.se > 1e-6
    assert np.isfinite(micro.deff[ok]).all()
    np.testing.assert_allclose(summed.deff[ok], micro.deff[ok], rtol=1e-9)
    pd.testing.assert_frame_equal(summed.keys, micro.keys)


def test_analysis_imports_no_web_or_io_packages() -> None:
    root = Path(__file__).resolve().parents[2] / "analysis"
    banned = {"flask", "flask_wtf", "sqlalchemy", "flask_sqlalchemy", "survey", "questionnaires"}
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
        for node in ast.walk(tree):  # randomness only through a Generator argument
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                if node.value.attr == "random":
                    assert node.attr == "Generator", f"{path.name} uses np.random.{node.attr}"

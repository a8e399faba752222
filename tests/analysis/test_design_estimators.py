"""Design declaration, estimators, domains, missing answers and result objects."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis import Estimates, SurveyDesign

ITEMS = ["q1", "q2", "q3", "q4", "q5"]


@pytest.fixture()
def design(synthetic: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(synthetic, strata="stratum", fpc="n_pop")


def test_fpc_as_fraction_equals_population_count(synthetic: pd.DataFrame) -> None:
    n_h = synthetic.groupby("stratum")["stratum"].transform("size")
    frac = synthetic.assign(f=n_h / synthetic["n_pop"])
    a = SurveyDesign(synthetic, strata="stratum", fpc="n_pop").satisfaction_index("q1")
    b = SurveyDesign(frac, strata="stratum", fpc="f").satisfaction_index("q1")
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)


def test_weights_default_to_population_over_sample(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    assert d.weights.sum() == pytest.approx(synthetic.groupby("stratum")["n_pop"].first().sum())


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"strata": "nope"}, KeyError, "strata"),
        ({"weights": "nope"}, KeyError, "weights"),
        ({"psu": "nope"}, KeyError, "psu"),
        ({"fpc": "sex"}, TypeError, "fpc"),
        ({"lonely_psu": "ignore"}, ValueError, "lonely_psu"),
    ],
)
def test_design_errors_name_the_argument(
    synthetic: pd.DataFrame, kwargs: dict[str, str], error: type[Exception], word: str
) -> None:
    with pytest.raises(error, match=word):
        SurveyDesign(synthetic, **kwargs)  # type: ignore[arg-type]


def test_fpc_must_be_constant_within_stratum(synthetic: pd.DataFrame) -> None:
    bad = synthetic.assign(n_pop=np.arange(len(synthetic)) + 1000.0)
    with pytest.raises(ValueError, match="fpc"):
        SurveyDesign(bad, strata="stratum", fpc="n_pop")


def test_lonely_psu_fail_raises_only_when_the_stratum_is_used(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", psu="hh", fpc="n_hh_pop")
    with pytest.raises(ValueError, match="A13_desk"):
        d.satisfaction_index("q1")
    by_agency = d.with_lonely_psu("fail")
    with pytest.raises(ValueError, match="only one PSU"):
        by_agency.satisfaction_index("q1", by="agency")
    other = synthetic[synthetic["agency"] != "A13"]
    ok = SurveyDesign(other, strata="stratum", psu="hh", fpc="n_hh_pop")
    assert np.isfinite(ok.satisfaction_index("q1").se).all()


def test_estimator_errors_name_the_argument(design: SurveyDesign) -> None:
    with pytest.raises(KeyError, match="items"):
        design.satisfaction_index(["q1", "zz"])
    with pytest.raises(KeyError, match="by"):
        design.mean("q1", by="zz")
    with pytest.raises(ValueError, match="item_weights"):
        design.satisfaction_index(ITEMS, item_weights={"q9": 1.0})
    with pytest.raises(ValueError, match="item_weights"):
        design.satisfaction_index(ITEMS, item_weights={"q1": -1.0})
    with pytest.raises(TypeError, match="var"):
        design.mean("sex")


def test_single_item_index_is_the_mean_of_the_indicator(
    design: SurveyDesign, synthetic: pd.DataFrame
) -> None:
    ind = synthetic.assign(s=np.where(synthetic["q2"].isna(), np.nan, synthetic["q2"] >= 4))
    d2 = SurveyDesign(ind, strata="stratum", fpc="n_pop")
    a = design.satisfaction_index("q2", by="agency")
    b = d2.mean("s", by="agency")
    for f in ("estimate", "se", "df", "deff", "n"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12)
    assert b.is_proportion and a.is_proportion


def test_threshold_none_is_the_weighted_mean_score(design: SurveyDesign) -> None:
    a = design.satisfaction_index("q3", threshold=None, by="agency")
    b = design.mean("q3", by="agency")
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)
    assert not a.is_proportion


def test_index_is_weighted_mean_of_item_indices(design: SurveyDesign) -> None:
    weights = {"q1": 2.0, "q2": 1.0, "q5": 1.0}
    whole = design.satisfaction_index(list(weights), item_weights=weights, by="agency")
    parts = [design.satisfaction_index(i, by="agency").estimate for i in weights]
    expected = (2 * parts[0] + parts[1] + parts[2]) / 4
    np.testing.assert_allclose(whole.estimate, expected, rtol=1e-12)


def test_domain_is_estimated_on_the_full_design_not_a_subset(
    design: SurveyDesign, synthetic: pd.DataFrame
) -> None:
    """Subsetting before the design changes n_h and so the SE; by= must not."""
    full = design.satisfaction_index("q5", by="agency")
    with_w = synthetic.assign(w=design.weights)
    sub = with_w[with_w["q5"].notna()]
    subset_design = SurveyDesign(
        sub, strata="stratum", weights="w", fpc="n_pop", lonely_psu="remove"
    )
    naive = subset_design.satisfaction_index("q5", by="agency")
    np.testing.assert_allclose(full.estimate, naive.estimate, rtol=1e-12)
    ok = naive.se > 0
    assert np.max(np.abs(full.se[ok] / naive.se[ok] - 1)) > 1e-3


def test_missing_by_key_rows_are_outside_every_domain(synthetic: pd.DataFrame) -> None:
    data = synthetic.assign(agency=synthetic["agency"].where(synthetic.index % 7 != 0))
    d = SurveyDesign(data, strata="stratum", fpc="n_pop")
    res = d.mean("q1", by="agency")
    assert res.keys["agency"].notna().all()
    assert (
        res.n.sum() == data["q1"].notna().sum() - data.loc[data.index % 7 == 0, "q1"].notna().sum()
    )


def test_summary_frame_contract(design: SurveyDesign) -> None:
    res = design.satisfaction_index(ITEMS, by=["agency", "channel"])
    frame = res.summary_frame()
    cols = ["agency", "channel", "estimate", "se", "ci_low", "ci_high", "deff", "n"]
    assert list(frame.columns) == [*cols, "publication"]
    assert set(frame["publication"]) <= {"present", "review", "suppress"}
    assert list(res.summary_frame(rules=None).columns) == cols
    for method in ("wald", "logit", "wilson", "beta", "korn-graubard"):
        f = res.summary_frame(0.1, method)
        ok = f["se"] > 0
        assert (f.loc[ok, "ci_low"] < f.loc[ok, "estimate"]).all()
        assert (f.loc[ok, "ci_high"] > f.loc[ok, "estimate"]).all()
    pct = res.summary_frame(scale=100, flags=True)
    np.testing.assert_allclose(pct["estimate"], 100 * frame["estimate"])
    assert {"df", "rse", "n_eff", "small_n", "wide_ci", "low_df", "partial", "suppress"} <= set(pct)
    assert list(design.mean("q1").summary_frame(rules=None).columns) == cols[2:]


def test_flags(design: SurveyDesign) -> None:
    res = design.satisfaction_index("q1", by="agency")
    flags = res.flags()
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.minimum(res.estimate * (1 - res.estimate) / res.se**2, res.n)
    a13 = flags["agency"] == "A13"  # p = 1 on 3 respondents: n_eff = n = 3
    np.testing.assert_allclose(flags.loc[~a13, "n_eff"], n_eff[~a13.to_numpy()], rtol=1e-12)
    np.testing.assert_array_equal(flags["small_n"], flags["n_eff"] < 30)
    ci = res.conf_int(method="korn-graubard")
    np.testing.assert_allclose(flags["ci_width"], ci[:, 1] - ci[:, 0], rtol=1e-12)
    np.testing.assert_array_equal(flags["wide_ci"], ci[:, 1] - ci[:, 0] >= 0.3)
    row = flags.loc[a13].iloc[0]
    assert row["n_eff"] == 3 and row["small_n"] and row["extreme"]
    assert row["publication"] == "suppress" and not row["review"]


def test_results_are_frozen(design: SurveyDesign) -> None:
    res = design.total("q1")
    assert isinstance(res, Estimates)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = np.zeros(1)  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.se[0] = 1.0


def test_proportion_only_methods_refuse_means(design: SurveyDesign) -> None:
    res = design.mean("q1")
    with pytest.raises(ValueError, match="wald"):
        res.conf_int(method="logit")
    with pytest.raises(ValueError, match="alpha"):
        res.conf_int(alpha=1.5)
    with pytest.raises(ValueError, match="method"):
        res.conf_int(method="exact")  # type: ignore[arg-type]


def test_ratio_and_total_relations(design: SurveyDesign, synthetic: pd.DataFrame) -> None:
    data = synthetic.assign(one=1.0)
    d = SurveyDesign(data, strata="stratum", fpc="n_pop")
    r = d.ratio("q1", "one", by="agency")
    m = d.mean("q1", by="agency")
    np.testing.assert_allclose(r.estimate, m.estimate, rtol=1e-12)
    np.testing.assert_allclose(r.se, m.se, rtol=1e-12)
    t = d.total("one")
    assert t.estimate[0] == pytest.approx(d.weights.sum())


@pytest.mark.parametrize("psu", [None, "hh"])
def test_sorted_key_path_equals_dense_bins(
    synthetic: pd.DataFrame, psu: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many domains x strata switch from dense bins to sorted keys: same numbers."""
    import analysis.variance as variance

    d = SurveyDesign(synthetic, strata="stratum", psu=psu, lonely_psu="average")
    dense = d.satisfaction_index(ITEMS, by=["agency", "sex"])
    monkeypatch.setattr(variance, "_DENSE_CELLS", 1)
    keyed = d.satisfaction_index(ITEMS, by=["agency", "sex"])
    np.testing.assert_array_equal(dense.se, keyed.se)
    np.testing.assert_array_equal(dense.df, keyed.df)


def test_package_exports_everything_public() -> None:
    import analysis

    for name in analysis.__all__:
        assert hasattr(analysis, name), name
    for name in ("SurveyDesign", "Estimates", "poststratify", "rake", "summary_frame"):
        assert name in analysis.__all__ or hasattr(analysis.Estimates, name)


def test_notebook_html(design: SurveyDesign) -> None:
    html = design.satisfaction_index("q1", by="agency")._repr_html_()
    assert "<table" in html and "ci_low" in html


def test_deff_of_an_unweighted_design_is_against_srs_with_replacement(
    synthetic: pd.DataFrame,
) -> None:
    """Sum of weights = n: SRSWOR has variance 0 (R: Inf); compare with SRSWR instead."""
    answered = synthetic.dropna(subset=["q1"])
    d = SurveyDesign(answered)  # one stratum, weights 1, no fpc: the design *is* SRSWR
    for res in (d.mean("q1"), d.satisfaction_index("q1"), d.total("q1")):
        assert res.deff[0] == pytest.approx(1.0, rel=1e-12)
    by = SurveyDesign(synthetic, strata="stratum").satisfaction_index(ITEMS, by="agency")
    assert np.isfinite(by.deff[by.n > 1]).all()
    # weights scaled to a population keep R's deff = TRUE (without replacement)
    scaled = SurveyDesign(answered.assign(w=10.0), weights="w").mean("q1")
    expected = 1 / (1 - len(answered) / scaled.sum_weights[0])  # v_design / v_SRSWOR
    assert scaled.deff[0] == pytest.approx(expected, rel=1e-12)

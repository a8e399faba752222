"""NCHS Korn-Graubard intervals, the fallback at p = 0 or 1, and the publication rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis import NCHS_2017, PublicationRules, SurveyDesign, ci
from analysis.publication import publication_flags


def _arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize(("p", "n"), [(0.0, 40), (1.0, 40), (0.0, 3), (1.0, 1000)])
def test_zero_and_one_are_one_sided_clopper_pearson_on_n(p: float, n: int) -> None:
    lo, hi = ci.korn_graubard(_arr(p), _arr(0.0), _arr(5.0), _arr(n), 0.05)
    ref = proportion_confint(int(p * n), n, alpha=0.05, method="beta")
    assert lo[0] == pytest.approx(ref[0], abs=1e-12)
    assert hi[0] == pytest.approx(ref[1], abs=1e-12)
    assert (lo[0], hi[0])[int(p)] == p  # the bound at the estimate itself


def test_inner_p_with_binomial_se_and_large_df_is_clopper_pearson() -> None:
    p, n = 0.3, 200
    se = np.sqrt(p * (1 - p) / n)
    lo, hi = ci.korn_graubard(_arr(p), _arr(se), _arr(1e9), _arr(n), 0.05)
    ref = proportion_confint(60, 200, alpha=0.05, method="beta")
    np.testing.assert_allclose([lo[0], hi[0]], ref, rtol=1e-7)


def test_effective_n_is_truncated_at_n_and_df_adjusted() -> None:
    p, n = _arr(0.3), _arr(100.0)
    se = np.sqrt(0.3 * 0.7 / 400)  # design effect 1/4: n_eff = 400 > n
    n_eff, n_eff_df = ci.nchs_effective_n(p, _arr(se), _arr(1e9), n, 0.05)
    assert n_eff[0] == pytest.approx(400.0) and n_eff_df[0] == pytest.approx(100.0)
    se2 = np.sqrt(0.3 * 0.7 / 50)
    _, adj = ci.nchs_effective_n(p, _arr(se2), _arr(10.0), n, 0.05)
    factor = (stats.t.ppf(0.975, 99) / stats.t.ppf(0.975, 10)) ** 2
    assert adj[0] == pytest.approx(50 * factor, rel=1e-12)
    # R's beta does not truncate: its interval is narrower than the NCHS one here
    r_lo, r_hi = ci.beta(p, _arr(se), _arr(1e9), n, 0.05)
    lo, hi = ci.korn_graubard(p, _arr(se), _arr(1e9), n, 0.05)
    assert hi[0] - lo[0] > r_hi[0] - r_lo[0]


def test_no_degrees_of_freedom_gives_zero_to_one() -> None:
    lo, hi = ci.korn_graubard(_arr(0.4), _arr(0.1), _arr(0.0), _arr(50.0), 0.05)
    assert (lo[0], hi[0]) == (0.0, 1.0)


def test_fuzz_treats_one_minus_epsilon_as_one() -> None:
    a = ci.korn_graubard(_arr(1 - 1e-16), _arr(5e-18), _arr(50.0), _arr(51.0), 0.05)
    b = ci.korn_graubard(_arr(1.0), _arr(0.0), _arr(50.0), _arr(51.0), 0.05)
    assert a == b


@pytest.mark.parametrize("method", ["auto", "wald", "logit", "wilson", "beta", "korn-graubard"])
@pytest.mark.parametrize(("p", "se", "df"), [(0.0, 0.0, 20.0), (1.0, 0.0, 20.0), (0.4, 0.0, 20.0)])
def test_no_proportion_method_gives_a_zero_width_interval(
    method: str, p: float, se: float, df: float
) -> None:
    lo, hi = ci.interval(method, _arr(p), _arr(se), _arr(df), _arr(60.0), 0.05, is_proportion=True)
    kg = ci.korn_graubard(_arr(p), _arr(se), _arr(df), _arr(60.0), 0.05)
    assert hi[0] > lo[0]
    assert (lo[0], hi[0]) == (kg[0][0], kg[1][0])


def test_no_df_proportion_falls_back_but_a_mean_stays_nan() -> None:
    lo, hi = ci.interval(
        "logit", _arr(0.4), _arr(0.1), _arr(0.0), _arr(9.0), 0.05, is_proportion=True
    )
    assert (lo[0], hi[0]) == (0.0, 1.0)
    lo, hi = ci.interval(
        "wald", _arr(3.0), _arr(0.1), _arr(0.0), _arr(9.0), 0.05, is_proportion=False
    )
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_inner_proportions_keep_r_numbers() -> None:
    args = (_arr(0.3), _arr(0.04), _arr(30.0), _arr(150.0), 0.05)
    np.testing.assert_array_equal(ci.interval("beta", *args, is_proportion=True), ci.beta(*args))
    np.testing.assert_array_equal(
        ci.interval("logit", *args[:3], args[3], 0.05, is_proportion=True),
        ci.logit(*args[:3], 0.05),
    )


def _decide(p: float, se: float, n: float, df: float) -> pd.Series:
    frame = publication_flags(
        _arr(p), _arr(se), _arr(df), _arr(n), is_proportion=True, partial=np.zeros(1, bool)
    )
    return frame.iloc[0]


def _se(p: float, n_eff: float) -> float:
    return float(np.sqrt(p * (1 - p) / n_eff))


@pytest.mark.parametrize(
    ("p", "n_eff", "n", "df", "decision", "reason"),
    [
        (0.5, 625, 1000, 100, "present", None),
        (0.5, 25, 1000, 100, "suppress", "small_n"),  # n_eff < 30
        (0.5, 30, 30, 100, "suppress", "wide_ci"),  # CP on 30 trials: width 0.37 >= 0.30
        (0.02, 100, 1000, 100, "suppress", "wide_relative_ci"),  # width 0.07, 350 % of p
        (0.5, 625, 1000, 5, "review", "low_df"),
        (0.0, np.inf, 1000, 100, "review", "extreme"),  # n_eff = n = 1000
        (0.0, np.inf, 20, 100, "suppress", "small_n"),  # n_eff = n = 20
    ],
)
def test_nchs_2017_rules(
    p: float, n_eff: float, n: float, df: float, decision: str, reason: str | None
) -> None:
    row = _decide(p, 0.0 if p in (0.0, 1.0) else _se(p, n_eff), n, df)
    assert row["publication"] == decision
    if reason is not None:
        assert row[reason]
    assert row["suppress"] == (decision == "suppress")
    assert row["review"] == (decision == "review")


def test_complement_footnote() -> None:
    row = _decide(0.97, _se(0.97, 100), 1000, 100)  # CP width 0.08: 270 % of 1 - p
    assert row["publication"] == "present" and row["complement_unreliable"]
    assert not _decide(0.5, _se(0.5, 625), 1000, 100)["complement_unreliable"]


def test_other_statistics_use_n_and_rse() -> None:
    frame = publication_flags(
        _arr(3.2, 3.2, 3.2, 0.1),
        _arr(0.1, 0.1, 0.1, 0.05),
        _arr(50, 50, 4, 50),
        _arr(100, 20, 100, 100),
        is_proportion=False,
        partial=np.zeros(4, bool),
    )
    assert frame["publication"].tolist() == ["present", "suppress", "review", "review"]
    assert frame["high_rse"].tolist() == [False, False, False, True]


def test_rules_are_configurable_and_validated() -> None:
    row = publication_flags(
        _arr(0.5),
        _arr(_se(0.5, 25)),
        _arr(100.0),
        _arr(1000.0),
        is_proportion=True,
        partial=np.zeros(1, bool),
        rules=PublicationRules(min_n_eff=20, max_ci_width=0.5),
    ).iloc[0]
    assert row["publication"] == "present"
    assert NCHS_2017 == PublicationRules()
    with pytest.raises(ValueError, match="max_ci_width"):
        PublicationRules(max_ci_width=-1)
    with pytest.raises(ValueError, match="alpha"):
        PublicationRules(alpha=2.0)


def test_partial_index_goes_to_review(synthetic: pd.DataFrame) -> None:
    data = synthetic.copy()
    data.loc[data["agency"] == "A05", "q2"] = np.nan
    d = SurveyDesign(data, strata="stratum", fpc="n_pop")
    flags = d.satisfaction_index(["q1", "q2"], by="agency").flags()
    row = flags[flags["agency"] == "A05"].iloc[0]
    assert row["partial"] and row["missing_children"] == ("q2",)
    assert row["publication"] in ("review", "suppress")
    strict = PublicationRules(review_partial=False)
    again = d.satisfaction_index(["q1", "q2"], by="agency").flags(rules=strict)
    assert again.loc[again["agency"] == "A05", "partial"].item()


def test_estimates_at_zero_and_one_get_an_interval(synthetic: pd.DataFrame) -> None:
    d = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    res = d.satisfaction_index("q1", threshold=2, by="agency")  # p = 1 in A09, A11, A13
    table = res.summary_frame(flags=True)
    ones = table[table["estimate"] >= 1 - 1e-12]
    assert set(ones["agency"]) == {"A09", "A11", "A13"}
    assert (ones["ci_high"] == 1.0).all() and (ones["ci_low"] < 1.0).all()
    assert ones["extreme"].all()
    assert ones.loc[ones["agency"] == "A13", "publication"].item() == "suppress"  # n = 3

"""Inputs that used to give wrong numbers silently: each is refused or flagged."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from analysis import (
    SurveyDesign,
    base_weights,
    index_from_sufficient,
    nonresponse_adjustment,
    sufficient_statistics,
    weight_diagnostics,
)


@pytest.fixture()
def design(synthetic: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(synthetic, strata="stratum", fpc="n_pop")


# -- trim_weights(strict=True) with bounds no weights can meet -----------------------------
def test_strict_trim_refuses_an_upper_bound_below_the_mean(design: SurveyDesign) -> None:
    mean = design.weights.mean()
    with pytest.raises(ValueError, match="upper"):
        design.trim_weights(upper=0.9 * mean, strict=True)
    with pytest.raises(ValueError, match="lower"):
        design.trim_weights(lower=1.1 * mean, strict=True)
    ok = design.trim_weights(upper=1.5 * mean, strict=True)  # feasible: met exactly
    assert ok.weights.max() <= 1.5 * mean * (1 + 1e-12)
    assert ok.weights.sum() == pytest.approx(design.weights.sum(), rel=1e-12)


def test_one_pass_trim_keeps_r_behaviour(design: SurveyDesign) -> None:
    """strict=False is one pass (R): weights may end above the bound; not an error."""
    mean = design.weights.mean()
    once = design.trim_weights(upper=0.9 * mean)
    assert once.weights.max() > 0.9 * mean
    assert once.weights.sum() == pytest.approx(design.weights.sum(), rel=1e-12)


# -- infinite weights -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.inf, -1.0, np.nan])
def test_weights_must_be_finite_and_non_negative(synthetic: pd.DataFrame, bad: float) -> None:
    data = synthetic.assign(w=10.0)
    data.loc[3, "w"] = bad
    with pytest.raises(ValueError, match="weights"):
        SurveyDesign(data, strata="stratum", weights="w")
    d = SurveyDesign(synthetic.assign(w=10.0), strata="stratum", weights="w")
    w = d.weights.copy()
    w[3] = bad
    with pytest.raises(ValueError, match="weights"):
        d.with_weights(w)
    with pytest.raises(ValueError, match="weights"):
        weight_diagnostics(w)
    with pytest.raises(ValueError, match="weights"):
        nonresponse_adjustment(w, np.zeros(len(w)), np.ones(len(w), dtype=bool))


def test_infinite_fpc_and_frame_counts_are_refused(synthetic: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="fpc"):
        SurveyDesign(synthetic.assign(n_pop=np.inf), strata="stratum", fpc="n_pop")
    with pytest.raises(ValueError, match="population"):
        base_weights(["a", "b"], {"a": np.inf, "b": 3.0})


def test_with_weights_checks_the_length(design: SurveyDesign) -> None:
    with pytest.raises(ValueError, match="weights"):
        design.with_weights(np.ones(3))


# -- duplicate items --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.satisfaction_index(["q1", "q1", "q2"]),
        lambda d: d.satisfaction_index(["q1", "q2", "q1"], item_weights={"q1": 1, "q2": 1}),
        lambda d: d.pooled_index(["q1", "q1"]),
        lambda d: d.mean_score(["q2", "q2"]),
        lambda d: sufficient_statistics(d, ["q1", "q1"]),
    ],
)
def test_duplicate_items_are_refused(
    design: SurveyDesign, call: Callable[[SurveyDesign], object]
) -> None:
    # before: ["q1", "q1", "q2"] gave weights 1/3, 1/3 summing to 2/3 (index scaled by 2/3)
    with pytest.raises(ValueError, match="items"):
        call(design)


def test_duplicate_items_in_sums_and_domains_are_refused(design: SurveyDesign) -> None:
    cells, strata = sufficient_statistics(design, ["q1", "q2"])
    with pytest.raises(ValueError, match="items"):
        index_from_sufficient(cells, strata, ["q1", "q2", "q2"])
    with pytest.raises(ValueError, match="by"):
        design.mean("q1", by=["agency", "agency"])


# -- domains whose weights are all zero -------------------------------------------------------
def test_domain_with_only_zero_weights_has_no_se_and_is_suppressed(
    synthetic: pd.DataFrame,
) -> None:
    data = synthetic.assign(w=np.where(synthetic["agency"] == "A05", 0.0, 10.0))
    d = SurveyDesign(data, strata="stratum", weights="w", lonely_psu="remove")
    for res in (
        d.mean("q1", by="agency"),
        d.total("q1", by="agency"),
        d.ratio("q1", "q2", by="agency"),
        d.satisfaction_index(["q1", "q2"], by="agency"),
        d.pooled_index(["q1", "q2"], by="agency"),
    ):
        i = int(np.nonzero(res.keys["agency"].to_numpy() == "A05")[0][0])
        assert res.n[i] == 0 and np.isnan(res.se[i]), res.statistic  # was SE 0
        others = np.delete(np.arange(len(res)), i)
        assert np.isfinite(res.se[others]).all()
        flags = res.flags()
        assert flags.loc[i, "empty"] and flags.loc[i, "publication"] == "suppress"
        assert not flags["empty"].to_numpy()[others].any()

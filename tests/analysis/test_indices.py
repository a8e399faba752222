"""Index nodes: children without data in a domain (renormalised, flagged, named)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import Estimates, SurveyDesign, index_from_sufficient, sufficient_statistics

ITEMS = ["q1", "q2", "q3", "q4", "q5"]
WEIGHTS = {"q1": 5.0, "q2": 3.0, "q5": 2.0}


def partial_items(syn: pd.DataFrame) -> pd.DataFrame:
    out = syn.copy()
    out.loc[out["agency"].isin(["A03", "A07"]), "q2"] = np.nan
    out.loc[out["agency"] == "A07", "q5"] = np.nan
    return out


@pytest.fixture()
def partial(synthetic: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(partial_items(synthetic), strata="stratum", fpc="n_pop")


def _row(res: Estimates, agency: str) -> int:
    return int(np.nonzero(res.keys["agency"].to_numpy() == agency)[0][0])


def test_missing_child_is_left_out_and_the_rest_renormalised(partial: SurveyDesign) -> None:
    res = partial.satisfaction_index(list(WEIGHTS), item_weights=WEIGHTS, by="agency")
    assert np.isfinite(res.estimate).all() and np.isfinite(res.se).all()
    items = {i: partial.satisfaction_index(i, by="agency") for i in WEIGHTS}
    a03, a07 = _row(res, "A03"), _row(res, "A07")
    p = {i: r.estimate for i, r in items.items()}
    assert res.estimate[a03] == pytest.approx((5 * p["q1"][a03] + 2 * p["q5"][a03]) / 7)
    assert res.estimate[a07] == pytest.approx(p["q1"][a07], rel=1e-12)
    assert res.se[a07] == pytest.approx(items["q1"].se[a07], rel=1e-12)
    assert res.missing_children[a03] == ("q2",)
    assert res.missing_children[a07] == ("q2", "q5")
    flags = res.flags()
    assert flags["partial"].tolist() == [k in ("A03", "A07") for k in res.keys["agency"]]
    assert flags.loc[a07, "missing_children"] == ("q2", "q5")
    table = res.summary_frame(flags=True)
    assert table.loc[a03, "partial"] and table.loc[a03, "missing_children"] == ("q2",)


def test_complete_domains_keep_their_numbers_to_the_bit(
    partial: SurveyDesign, synthetic: pd.DataFrame
) -> None:
    full = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    a = full.satisfaction_index(list(WEIGHTS), item_weights=WEIGHTS, by="agency")
    b = partial.satisfaction_index(list(WEIGHTS), item_weights=WEIGHTS, by="agency")
    same = ~b.flags()["partial"].to_numpy()
    np.testing.assert_array_equal(a.estimate[same], b.estimate[same])
    np.testing.assert_array_equal(a.se[same], b.se[same])
    assert all(m == () for m in a.missing_children)


def test_domain_without_any_answer_is_nan_and_names_every_child(
    synthetic: pd.DataFrame,
) -> None:
    data = synthetic.copy()
    data.loc[data["agency"] == "A05", ITEMS] = np.nan
    res = SurveyDesign(data, strata="stratum", fpc="n_pop").satisfaction_index(ITEMS, by="agency")
    i = _row(res, "A05")
    assert np.isnan(res.estimate[i]) and res.n[i] == 0
    assert res.missing_children[i] == tuple(ITEMS)
    assert res.flags()["partial"][i]


def test_zero_weight_items_are_never_missing(partial: SurveyDesign) -> None:
    res = partial.satisfaction_index(["q1", "q2"], item_weights={"q1": 1.0}, by="agency")
    assert all(m == () for m in res.missing_children)


@pytest.mark.parametrize("threshold", [4, None])
def test_sufficient_statistics_follow_the_same_rule(
    partial: SurveyDesign, threshold: float | None
) -> None:
    micro = partial.satisfaction_index(
        ITEMS, threshold=threshold, item_weights=WEIGHTS, by="agency"
    )
    cells, strata = sufficient_statistics(partial, ITEMS, threshold=threshold, by="agency")
    summed = index_from_sufficient(
        cells, strata, ITEMS, item_weights=WEIGHTS, by="agency", is_proportion=threshold is not None
    )
    np.testing.assert_allclose(summed.estimate, micro.estimate, rtol=1e-12)
    np.testing.assert_allclose(summed.variance, micro.variance, rtol=1e-9, atol=1e-14)
    assert summed.missing_children == micro.missing_children


def test_pooled_index_is_the_ratio_of_per_respondent_counts(synthetic: pd.DataFrame) -> None:
    answers = synthetic[ITEMS]
    data = synthetic.assign(
        sat=(answers >= 4).sum(axis=1).where(answers.notna().any(axis=1)),
        cnt=answers.notna().sum(axis=1).where(answers.notna().any(axis=1)),
        tot=answers.sum(axis=1).where(answers.notna().any(axis=1)),
    )
    d = SurveyDesign(data, strata="stratum", fpc="n_pop")
    pooled = d.pooled_index(ITEMS, by="agency")
    ref = d.ratio("sat", "cnt", by="agency")
    for f in ("estimate", "se", "df", "n", "deff"):
        np.testing.assert_array_equal(getattr(pooled, f), getattr(ref, f))
    assert pooled.statistic == "pooled_index" and pooled.is_proportion
    score = d.mean_score(ITEMS, by="agency")
    np.testing.assert_array_equal(score.estimate, d.ratio("tot", "cnt", by="agency").estimate)
    assert score.statistic == "mean_score" and not score.is_proportion


def test_pooled_equals_item_mean_without_missing_answers(synthetic: pd.DataFrame) -> None:
    """With every item answered by everyone, pooling answers = averaging item shares."""
    full = synthetic.dropna(subset=ITEMS)
    d = SurveyDesign(full, strata="stratum", lonely_psu="remove")
    pooled = d.pooled_index(ITEMS, by="agency")
    index = d.satisfaction_index(ITEMS, by="agency")
    np.testing.assert_allclose(pooled.estimate, index.estimate, rtol=1e-12)
    np.testing.assert_allclose(pooled.se, index.se, rtol=1e-10)
    # with item non-response they differ: items answered by more people weigh more
    d2 = SurveyDesign(synthetic, strata="stratum", fpc="n_pop")
    gap = (
        d2.pooled_index(ITEMS, by="agency").estimate
        - d2.satisfaction_index(ITEMS, by="agency").estimate
    )
    assert np.nanmax(np.abs(gap)) > 1e-3


def test_pooled_index_single_item_is_the_item_index(design_a: SurveyDesign) -> None:
    a = design_a.pooled_index("q2", by="agency")
    b = design_a.satisfaction_index("q2", by="agency")
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)
    np.testing.assert_array_equal(a.n, b.n)
    with pytest.raises(ValueError, match="threshold"):
        design_a.pooled_index("q2", threshold=float("nan"))


@pytest.fixture()
def design_a(synthetic: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(synthetic, strata="stratum", fpc="n_pop")

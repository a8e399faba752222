"""Weighting: post-stratification, raking, trimming, nonresponse, diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    ConvergenceError,
    SurveyDesign,
    base_weights,
    nonresponse_adjustment,
    weight_diagnostics,
)


@pytest.fixture()
def design(synthetic: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(synthetic, strata="stratum", fpc="n_pop")


@pytest.fixture()
def cells(synthetic_totals: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(r.sex, r.age): float(r.Freq) for r in synthetic_totals.itertuples()}


def _margin(cells: dict[tuple[str, str], float], pos: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in cells.items():
        out[key[pos]] = out.get(key[pos], 0.0) + v
    return out


def test_poststratify_meets_the_cell_totals(
    design: SurveyDesign, synthetic: pd.DataFrame, cells: dict[tuple[str, str], float]
) -> None:
    ps = design.poststratify(["sex", "age"], cells)
    sums = pd.Series(ps.weights).groupby([synthetic["sex"], synthetic["age"]]).sum()
    for key, value in cells.items():
        assert sums[key] == pytest.approx(value, rel=1e-12)
    assert design.calibrations == () and len(ps.calibrations) == 1


def test_rake_meets_every_margin(
    design: SurveyDesign, synthetic: pd.DataFrame, cells: dict[tuple[str, str], float]
) -> None:
    sex, age = _margin(cells, 0), _margin(cells, 1)
    rk = design.rake({"sex": sex, "age": age})
    for col, margin in (("sex", sex), ("age", age)):
        sums = pd.Series(rk.weights).groupby(synthetic[col]).sum()
        for key, value in margin.items():
            assert sums[key] == pytest.approx(value, rel=1e-9)


def test_rake_with_a_joint_margin_equals_poststratification(
    design: SurveyDesign, cells: dict[tuple[str, str], float]
) -> None:
    rk = design.rake({("sex", "age"): cells})
    ps = design.poststratify(["sex", "age"], cells)
    np.testing.assert_allclose(rk.weights, ps.weights, rtol=1e-12)
    a = rk.satisfaction_index("q1", by="agency").se
    b = ps.satisfaction_index("q1", by="agency").se
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_calibration_variance_differs_from_fixed_weights(
    design: SurveyDesign, cells: dict[tuple[str, str], float]
) -> None:
    ps = design.poststratify(["sex", "age"], cells)
    fixed = ps.with_weights(ps.weights)
    object.__setattr__(fixed, "calibrations", ())
    calibrated = ps.satisfaction_index("q1").se
    as_fixed = fixed.satisfaction_index("q1").se
    assert abs(calibrated[0] / as_fixed[0] - 1) > 1e-4


def test_weighting_errors(design: SurveyDesign, cells: dict[tuple[str, str], float]) -> None:
    with pytest.raises(ValueError, match="empty cell"):
        design.poststratify("sex", {"F": 10.0, "M": 10.0, "X": 5.0})
    with pytest.raises(ValueError, match="no population count"):
        design.poststratify("sex", {"F": 10.0})
    with pytest.raises(KeyError, match="by"):
        design.poststratify("nope", {"F": 10.0})
    sex, age = _margin(cells, 0), _margin(cells, 1)
    with pytest.raises(ValueError, match="totals differ"):
        design.rake({"sex": sex, "age": {k: 2 * v for k, v in age.items()}})
    with pytest.raises(ConvergenceError):
        design.rake({"sex": sex, "age": age}, max_iter=1, tol=1e-14)
    with pytest.raises(ValueError, match="empty cell"):
        design.rake({"sex": {**sex, "X": 3.0}, "age": age})


def test_trim_weights_keeps_the_total_and_bounds(design: SurveyDesign) -> None:
    upper = float(np.quantile(design.weights, 0.9))
    trimmed = design.trim_weights(upper=upper, strict=True)
    assert trimmed.weights.sum() == pytest.approx(design.weights.sum(), rel=1e-12)
    assert trimmed.weights.max() <= upper * (1 + 1e-12)
    once = design.trim_weights(upper=upper)
    assert once.weights.sum() == pytest.approx(design.weights.sum(), rel=1e-12)
    with pytest.raises(ValueError, match="lower"):
        design.trim_weights(upper=1.0, lower=2.0)


def test_trim_matches_r_trimweights_rule() -> None:
    data = pd.DataFrame({"w": [1.0, 2.0, 3.0, 10.0], "y": [1.0, 0.0, 1.0, 0.0]})
    d = SurveyDesign(data, weights="w").trim_weights(upper=5.0)
    # the 5 cut from the last weight is shared equally by the three untrimmed units (as R)
    expected = [1 + 5 / 3, 2 + 5 / 3, 3 + 5 / 3, 5.0]
    np.testing.assert_allclose(d.weights, expected, rtol=1e-12)


def test_base_weights_and_nonresponse() -> None:
    strata = np.array(["a", "a", "b", "b", "b"])
    w = base_weights(strata, {"a": 10, "b": 30})
    np.testing.assert_allclose(w, [5, 5, 10, 10, 10])
    adj = nonresponse_adjustment(w, strata, [True, False, True, True, False])
    np.testing.assert_allclose(adj, [10, 0, 15, 15, 0])
    assert adj.sum() == pytest.approx(w.sum())
    with pytest.raises(ValueError, match="no respondent"):
        nonresponse_adjustment(w, strata, [False, False, True, True, True])
    with pytest.raises(ValueError, match="population"):
        base_weights(strata, {"a": 10})


def test_weight_diagnostics() -> None:
    w = np.array([1.0, 1.0, 2.0, 4.0])
    diag = weight_diagnostics(w)
    assert diag.n_effective == pytest.approx(64 / 22)
    assert diag.kish_deff == pytest.approx(4 * 22 / 64)
    assert diag.kish_deff == pytest.approx(1 + diag.cv**2)
    with pytest.raises(ValueError, match="weights"):
        weight_diagnostics([-1.0, 2.0])

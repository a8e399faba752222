"""GREG residuals of calibrated designs: rank-revealing column choice and the projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis import SurveyDesign
from analysis.greg import CalibrationStep, independent_columns


def _raked(big: pd.DataFrame, totals: dict[str, dict[str, float]], margins: tuple[str, ...]):
    d = SurveyDesign(big, strata="stratum", fpc="n_pop")
    return d.rake({m: totals[m] for m in margins}, max_iter=1000, tol=1e-13)


@pytest.mark.parametrize(
    ("margins", "aliased"),
    [(("agency", "sexage"), 1), (("stratum", "ag_age"), 30), (("stratum",), 0)],
)
def test_rank_revealing_choice_drops_exactly_the_aliased_columns(
    rake120: pd.DataFrame,
    rake120_totals: dict[str, dict[str, float]],
    margins: tuple[str, ...],
    aliased: int,
) -> None:
    step = _raked(rake120, rake120_totals, margins).calibrations[0]
    keep = independent_columns(step.x, step.d)
    p = step.x.shape[1]
    assert len(keep) == p - aliased
    dense = step.x.toarray() * np.sqrt(step.d)[:, None]
    assert np.linalg.matrix_rank(dense) == p - aliased
    assert np.linalg.matrix_rank(dense[:, keep]) == len(keep)


@pytest.mark.parametrize(
    "margins", [("agency", "sexage"), ("stratum", "ag_age"), ("stratum",), ("sexage",)]
)
def test_residuals_are_the_weighted_least_squares_projection(
    rake120: pd.DataFrame, rake120_totals: dict[str, dict[str, float]], margins: tuple[str, ...]
) -> None:
    step = _raked(rake120, rake120_totals, margins).calibrations[0]
    rng = np.random.default_rng(11)
    e = rng.normal(size=(len(step.g), 3)) * (rng.random((len(step.g), 1)) < 0.3)
    got = step.residuals(e)
    # R: qr.resid(qr(X sqrt(d)), e / (g sqrt(d))) * g sqrt(d); here with an SVD solver
    sd = np.sqrt(step.d)
    a = step.x.toarray() * sd[:, None]
    target = e / (step.g * sd)[:, None]
    coef, *_ = np.linalg.lstsq(a, target, rcond=None)
    want = (target - a @ coef) * (step.g * sd)[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * np.abs(e).max())
    # normal equations hold: X' (residual / g) = 0
    assert np.abs(step.x.T @ (got / step.g[:, None])).max() < 1e-9 * np.abs(e).sum()
    np.testing.assert_array_equal(step.residuals(e), got)  # factorised once, same numbers


def test_zero_weight_rows_and_columns() -> None:
    x = sparse.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 0.0]]))
    d = np.array([2.0, 3.0, 0.0, 4.0])
    # with d = 0 on row 3, column 2 equals column 0 on the rows that count
    assert list(independent_columns(x, d)) == [0, 1]
    step = CalibrationStep(x=x, g=np.ones(4), d=d)
    res = step.residuals(np.array([[1.0], [2.0], [0.0], [3.0]]))
    # B_0 = (e_0 + e_1) / (d_0 + d_1) = 0.6, residual e - g d B
    np.testing.assert_allclose(res[:, 0], [1 - 2 * 0.6, 2 - 3 * 0.6, 0.0, 0.0], atol=1e-12)

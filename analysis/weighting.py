"""Weighting: base weights, nonresponse adjustment, post-stratification, raking, trimming.

Post-stratification and raking return a new design that remembers the calibration, so that
variances use the GREG residuals ``e_i = g_i d_i (u_i - x_i' B)``,
``B = (sum d x x')^- sum d x u`` as R's ``postStratify()`` and
``calibrate(..., calfun = "raking")`` do, not the calibrated weights as if they were fixed.

References
----------
Deville, J.-C., Sarndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87.
Deming, W. E., Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. *Ann. Math. Stat.* 11, 427-444.
Kish, L. (1992). Weighting for unequal P_i. *J. Official Statistics* 8, 183-200.
Lumley, T. (2010). *Complex Surveys*, ch. 7 (R ``postStratify``, ``rake``, ``calibrate``,
    ``trimWeights``).
Valliant, R., Dever, J. A., Kreuter, F. (2018). *Practical Tools for Designing and Weighting
    Survey Samples*, 2nd ed., ch. 13-14.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from analysis._checks import (
    FloatArray,
    IntArray,
    as_columns,
    check_weights,
    group_codes,
    require_columns,
)
from analysis.designbase import CalibrationStep, DesignBase

D = TypeVar("D", bound=DesignBase)


class ConvergenceError(RuntimeError):
    """Raised when raking does not reach its tolerance within ``max_iter`` sweeps."""


@dataclass(frozen=True)
class WeightDiagnostics:
    """Summary of a set of weights.

    Attributes
    ----------
    n : int
        Number of positive weights.
    total : float
        Sum of the weights (estimated population size).
    min, max, mean : float
    cv : float
        Coefficient of variation of the positive weights (population form, divisor n).
    kish_deff : float
        Kish's design effect due to weighting, ``1 + cv^2 = n sum w^2 / (sum w)^2``.
    n_effective : float
        Kish's effective sample size ``(sum w)^2 / sum w^2``.
    """

    n: int
    total: float
    min: float
    max: float
    mean: float
    cv: float
    kish_deff: float
    n_effective: float


def weight_diagnostics(weights: npt.ArrayLike) -> WeightDiagnostics:
    """Kish design effect due to weighting, effective sample size and CV (Kish 1992)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be a 1-d array of finite non-negative numbers")
    w = w[w > 0]
    if len(w) == 0:
        raise ValueError("weights: no positive weight")
    s, s2 = float(w.sum()), float((w * w).sum())
    cv = float(w.std() / w.mean())
    return WeightDiagnostics(
        n=len(w),
        total=s,
        min=float(w.min()),
        max=float(w.max()),
        mean=float(w.mean()),
        cv=cv,
        kish_deff=len(w) * s2 / s**2,
        n_effective=s**2 / s2,
    )


def base_weights(strata: npt.ArrayLike, population: Mapping[Hashable, float]) -> FloatArray:
    """Compute base weights ``N_h / n_h`` for stratified simple random sampling.

    Parameters
    ----------
    strata : array-like
        Stratum of each sampled (or responding) unit.
    population : mapping
        Frame count ``N_h`` of each stratum.
    """
    s = pd.Series(np.asarray(strata))
    counts = s.value_counts()
    missing = [h for h in counts.index if h not in population]
    if missing:
        raise ValueError(f"population: no frame count for strata {missing[:5]}")
    infinite = [h for h in counts.index if not np.isfinite(float(population[h]))]
    if infinite:
        raise ValueError(f"population: frame counts must be finite (strata {infinite[:5]})")
    bad = [h for h in counts.index if float(population[h]) < counts[h]]
    if bad:
        raise ValueError(f"population: frame count below the sample size in strata {bad[:5]}")
    ratio = {h: float(population[h]) / float(counts[h]) for h in counts.index}
    return s.map(ratio).to_numpy(dtype=np.float64)


def nonresponse_adjustment(
    weights: npt.ArrayLike, classes: npt.ArrayLike, responded: npt.ArrayLike
) -> FloatArray:
    """Weighting-class nonresponse adjustment.

    Respondents of class ``c`` get ``w * sum_c w / sum_{c, resp} w``; nonrespondents 0
    (Valliant et al. 2018, sec. 13.5). Raises when a class has no respondent.
    """
    w = check_weights(np.asarray(weights, dtype=np.float64), "weights")
    resp = np.asarray(responded, dtype=bool)
    cls = np.asarray(classes)
    if not (len(w) == len(resp) == len(cls)):
        raise ValueError("weights, classes and responded must have the same length")
    codes, labels = pd.factorize(pd.Series(cls), sort=True)
    if (codes < 0).any():
        raise ValueError("classes: missing values")
    all_w = np.bincount(codes, weights=w)
    resp_w = np.bincount(codes, weights=np.where(resp, w, 0.0), minlength=len(labels))
    empty = [labels[int(i)] for i in np.nonzero(resp_w <= 0)[0]]
    if empty:
        raise ValueError(f"classes: no respondent in class(es) {empty[:5]}")
    return np.where(resp, w * (all_w / resp_w)[codes], 0.0)


def _cells(
    design: DesignBase, by: str | Sequence[str], totals: Mapping[Any, float], name: str
) -> tuple[IntArray, FloatArray]:
    cols = as_columns(by, name)
    require_columns(design.data, cols, name)
    if design.data[cols].isna().any().any():
        raise ValueError(f"{name}: column(s) {cols} have missing values")
    if not isinstance(totals, Mapping) or not totals:
        raise TypeError(f"{name}: totals must be a non-empty mapping category -> count")
    codes, keys = group_codes(design.data, cols)
    labels = [tuple(r) if len(cols) > 1 else r[0] for r in keys.itertuples(index=False)]
    missing = [lab for lab in labels if lab not in totals]
    if missing:
        raise ValueError(f"{name}: no population count for categories {missing[:5]}")
    present = set(labels)
    empty = [k for k, v in totals.items() if k not in present and float(v) > 0]
    if empty:
        raise ValueError(f"{name}: categories {empty[:5]} have no respondents (empty cell)")
    pop = np.array([float(totals[lab]) for lab in labels])
    if (pop < 0).any() or not np.isfinite(pop).all():
        raise ValueError(f"{name}: population counts must be finite and non-negative")
    sums = np.bincount(codes, weights=design.weights, minlength=len(labels))
    if (sums <= 0).any():
        raise ValueError(f"{name}: a category has respondents but zero total weight")
    return codes, pop


def _indicator(codes: IntArray, n_cells: int) -> sparse.csr_matrix:
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, n_cells))


def _calibrated(design: D, new_w: FloatArray, x: sparse.csr_matrix) -> D:
    old = design.weights
    g = np.where(old > 0, new_w / np.where(old > 0, old, 1.0), 1.0)
    return design.with_weights(new_w, calibration=CalibrationStep(x=x, g=g, d=old))


def poststratify(design: D, by: str | Sequence[str], totals: Mapping[Any, float]) -> D:
    """Post-stratify a design to known population counts (R ``postStratify``).

    Parameters
    ----------
    design : SurveyDesign
    by : str or list of str
        Post-stratification column(s).
    totals : mapping
        Population count of each category (a tuple of categories when ``by`` has several
        columns). Every sampled category needs a count; a category with a positive count and
        no respondent is an error (collapse cells first).

    Returns
    -------
    SurveyDesign
        Weights ``w_i N_c / sum_{c} w``; variances from residuals on cell means.
    """
    codes, pop = _cells(design, by, totals, "by")
    sums = np.bincount(codes, weights=design.weights, minlength=len(pop))
    new_w = design.weights * (pop / sums)[codes]
    return _calibrated(design, new_w, _indicator(codes, len(pop)))


def rake(
    design: D,
    margins: Mapping[str | tuple[str, ...], Mapping[Any, float]],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> D:
    """Rake a design to several margins by iterative proportional fitting.

    Parameters
    ----------
    design : SurveyDesign
    margins : mapping
        Column (or tuple of columns) -> mapping category -> population count.
    max_iter : int
        Maximum number of full sweeps over the margins.
    tol : float
        Convergence when every margin is met within ``tol`` relative to its count.

    Returns
    -------
    SurveyDesign
        Same weights as R's ``calibrate(..., calfun = "raking")``, with its GREG variance.

    Raises
    ------
    ValueError
        A margin has an empty cell, or the margins disagree on the population total.
    ConvergenceError
        IPF did not converge within ``max_iter`` sweeps.
    """
    if not isinstance(margins, Mapping) or not margins:
        raise TypeError("margins must be a non-empty mapping column -> {category: count}")
    if int(max_iter) < 1 or not tol > 0:
        raise ValueError("max_iter must be >= 1 and tol > 0")
    parts = []
    for col, totals in margins.items():
        cols = list(col) if isinstance(col, tuple) else col
        parts.append(_cells(design, cols, totals, f"margins[{col!r}]"))
    grand = [float(p.sum()) for _, p in parts]
    if max(grand) - min(grand) > 1e-9 * max(grand):
        raise ValueError(f"margins: population totals differ between margins: {grand}")
    w = design.weights.copy()
    for _ in range(int(max_iter)):
        for codes, pop in parts:
            sums = np.bincount(codes, weights=w, minlength=len(pop))
            w = w * np.where(sums > 0, pop / np.where(sums > 0, sums, 1.0), 1.0)[codes]
        err = max(
            float(np.max(np.abs(np.bincount(c, w, len(p)) - p) / np.maximum(p, 1)))
            for c, p in parts
        )
        if err < tol:
            break
    else:
        raise ConvergenceError(
            f"rake: no convergence in {max_iter} sweeps (max relative error {err:.3g})"
        )
    x = sparse.hstack([_indicator(c, len(p)) for c, p in parts], format="csr")
    return _calibrated(design, w, x)


def trim_weights(
    design: D, *, upper: float = np.inf, lower: float = -np.inf, strict: bool = False
) -> D:
    """Trim weights to ``[lower, upper]`` and spread the trimmed amount (R ``trimWeights``).

    The weight cut from trimmed units (or added to them) is shared equally among the
    untrimmed units, so the total is kept (R survey 4.1); with ``strict=True`` this repeats
    until no weight is outside the bounds. Variances treat the trimmed weights as fixed (earlier
    calibrations are kept).

    Raises
    ------
    ValueError
        ``lower >= upper``; every weight outside the bounds; with ``strict=True``, bounds that
        no set of weights with the same total can meet (``upper`` below the mean weight or
        ``lower`` above it - R recurses without end there) or no convergence in 1,000 passes.
    """
    if not lower < upper:
        raise ValueError("lower must be smaller than upper")
    pw = design.weights.copy()
    if strict:
        mean = float(pw.sum()) / len(pw)
        if upper < mean * (1 - 1e-12):
            raise ValueError(
                f"upper: {upper!r} is below the mean weight {mean:.6g}; no weights with the "
                "same total fit under it (strict=True)"
            )
        if lower > mean * (1 + 1e-12):
            raise ValueError(
                f"lower: {lower!r} is above the mean weight {mean:.6g}; no weights with the "
                "same total fit over it (strict=True)"
            )
    for _ in range(1000):
        outside = (pw < lower) | (pw > upper)
        if not outside.any():
            break
        clipped = np.clip(pw, lower, upper)
        if outside.all():
            raise ValueError("upper/lower: every weight is outside the bounds")
        share = float((pw - clipped).sum() / (~outside).sum())
        pw = np.where(outside, clipped, clipped + share)
        if not strict:
            break
    else:
        raise ValueError("upper/lower: strict trimming did not converge in 1000 passes")
    return design.with_weights(pw)

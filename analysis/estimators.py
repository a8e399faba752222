"""Design-based estimators: mean, total, ratio and the satisfaction index, by domain.

Every estimator works on the full design: a domain (``by=``) and the rows with a missing
value are handled by giving those rows a zero linearised value, never by dropping rows
before the design is built (Lumley 2010, sec. 2.3; Lohr 2022, sec. 14.2).

References
----------
Kish, L. (1965). *Survey Sampling*, sec. 8.6 (design effect).
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., sec. 9.1 (linearisation).
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2.
Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, IntArray, as_columns, group_codes, numeric_column
from analysis.designbase import DesignBase
from analysis.results import Estimates, Linearization
from analysis.variance import domain_df, domain_variance


def _domains(design: DesignBase, by: str | Sequence[str] | None) -> tuple[IntArray, pd.DataFrame]:
    cols = as_columns(by, "by")
    missing = [c for c in cols if c not in design.data.columns]
    if missing:
        raise KeyError(f"by: column(s) {missing} not found in the data")
    return group_codes(design.data, cols)


def _srs_variance(
    w: FloatArray, u: FloatArray, dom: IntArray, n_dom: int, n: FloatArray, sw: FloatArray
) -> FloatArray:
    """SRSWOR variance of a mean of ``u`` in each domain: ``s2 (N - n) / (N n)`` (R's deff)."""
    inside = dom >= 0
    swu2 = np.bincount(dom[inside], weights=w[inside] * u[inside] ** 2, minlength=n_dom)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = n / (n - 1) * swu2 / sw
        v = s2 * (sw - n) / (sw * n)
    return np.where((sw >= n) & (n > 1), v, np.nan)


def _result(
    design: DesignBase,
    statistic: str,
    keys: pd.DataFrame,
    est: FloatArray,
    z: FloatArray,
    dom: IntArray,
    vsrs: FloatArray,
    n: FloatArray,
    sw: FloatArray,
    *,
    is_proportion: bool,
) -> Estimates:
    n_dom = len(keys)
    var = domain_variance(design, z, dom, n_dom)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / vsrs
    return Estimates(
        statistic=statistic,
        keys=keys,
        estimate=est,
        se=np.sqrt(var),
        df=domain_df(design, dom, n_dom),
        n=n,
        deff=deff,
        sum_weights=sw,
        is_proportion=is_proportion,
        linearization=Linearization(design=design, z=z, dom=dom),
    )


def _valid_domain(design: DesignBase, codes: IntArray, valid: np.ndarray) -> IntArray:
    return np.where(valid & (codes >= 0) & (design.weights != 0), codes, -1)


def _sums(dom: IntArray, n_dom: int, *values: FloatArray) -> list[FloatArray]:
    inside = dom >= 0
    d = dom[inside]
    out = [np.bincount(d, minlength=n_dom).astype(np.float64)]
    out += [np.bincount(d, weights=v[inside], minlength=n_dom).astype(np.float64) for v in values]
    return out


def _column_sums(
    design: DesignBase, var: str, by: str | Sequence[str] | None
) -> tuple[FloatArray, pd.DataFrame, IntArray, FloatArray, FloatArray, list[FloatArray]]:
    """``var`` with its domains (missing values outside), weights, the variable with zeros
    outside the domains, and per-domain ``n, sum w, sum w y``."""
    y = numeric_column(design.data, var, "var")
    codes, keys = _domains(design, by)
    dom = _valid_domain(design, codes, ~np.isnan(y))
    w = design.weights
    y0 = np.where(dom >= 0, y, 0.0)
    return y, keys, dom, w, y0, _sums(dom, len(keys), w, w * y0)


def mean(design: DesignBase, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
    """Weighted mean ``sum w y / sum w`` of ``var`` per domain, as R's ``svymean``.

    Rows with a missing ``var`` are outside the domain of this estimate only. A variable
    whose valid values are all 0 or 1 is treated as a proportion (all CI methods allowed).

    Parameters
    ----------
    design : SurveyDesign
    var : str
        Numeric column.
    by : str or list of str, optional
        Domain columns; rows with a missing key belong to no domain.
    """
    y, keys, dom, w, y0, (n, sw, swy) = _column_sums(design, var, by)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = swy / sw
    inside = dom >= 0
    u = np.zeros_like(y0)
    u[inside] = y0[inside] - est[dom[inside]]
    z = np.zeros_like(y0)
    z[inside] = w[inside] * u[inside] / sw[dom[inside]]
    vals = y[~np.isnan(y)]
    is_prop = bool(np.isin(vals, (0.0, 1.0)).all())
    vsrs = _srs_variance(w, u, dom, len(keys), n, sw)
    return _result(design, "mean", keys, est, z, dom, vsrs, n, sw, is_proportion=is_prop)


def total(design: DesignBase, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
    """Weighted total ``sum w y`` of ``var`` per domain, as R's ``svytotal``."""
    y, keys, dom, w, y0, (n, sw, swy) = _column_sums(design, var, by)
    inside = dom >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = swy / sw
    u = np.zeros_like(y0)
    u[inside] = y0[inside] - ybar[dom[inside]]
    z = np.where(inside, w * y0, 0.0)
    vsrs = _srs_variance(w, u, dom, len(keys), n, sw) * sw**2
    return _result(design, "total", keys, swy, z, dom, vsrs, n, sw, is_proportion=False)


def ratio(
    design: DesignBase, num: str, den: str, *, by: str | Sequence[str] | None = None
) -> Estimates:
    """Ratio of totals ``sum w y / sum w x`` per domain, as R's ``svyratio``.

    ``deff`` compares with SRSWOR of the linearised variable ``(y - R x) / xbar``.
    """
    y = numeric_column(design.data, num, "num")
    x = numeric_column(design.data, den, "den")
    codes, keys = _domains(design, by)
    dom = _valid_domain(design, codes, ~np.isnan(y) & ~np.isnan(x))
    w = design.weights
    inside = dom >= 0
    y0 = np.where(inside, y, 0.0)
    x0 = np.where(inside, x, 0.0)
    n, sw, swy, swx = _sums(dom, len(keys), w, w * y0, w * x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = swy / swx
    d = dom[inside]
    z = np.zeros_like(y0)
    z[inside] = w[inside] * (y0[inside] - est[d] * x0[inside]) / swx[d]
    u = np.zeros_like(y0)
    u[inside] = z[inside] * sw[d] / np.where(w[inside] > 0, w[inside], 1.0)
    vsrs = _srs_variance(w, u, dom, len(keys), n, sw)
    return _result(design, "ratio", keys, est, z, dom, vsrs, n, sw, is_proportion=False)


def normalized_item_weights(
    items: list[str], item_weights: Mapping[str, float] | None
) -> dict[str, float]:
    """Validate item weights and scale them to sum 1; items with weight 0 are left out.

    ``None`` gives every item ``1 / len(items)``. Shared by :func:`satisfaction_index` and
    :func:`analysis.sufficient.index_from_sufficient`.
    """
    if item_weights is None:
        return {item: 1.0 / len(items) for item in items}
    if not isinstance(item_weights, Mapping):
        raise TypeError("item_weights must be a mapping item -> weight")
    unknown = [k for k in item_weights if k not in items]
    if unknown:
        raise ValueError(f"item_weights: {unknown} are not in items")
    raw = {item: float(item_weights.get(item, 0.0)) for item in items}
    if any(not np.isfinite(v) or v < 0 for v in raw.values()):
        raise ValueError("item_weights must be finite and non-negative")
    s = sum(raw.values())
    if s <= 0:
        raise ValueError("item_weights must not all be zero")
    return {item: v / s for item, v in raw.items() if v > 0}


def satisfaction_index(
    design: DesignBase,
    items: str | Sequence[str],
    *,
    threshold: float | None = 4,
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
) -> Estimates:
    """Satisfaction index: weighted mean over items of each item's share of satisfied answers.

    ``I = sum_j a_j P_j`` with ``P_j = sum_i w_i r_ij 1[y_ij >= threshold] / sum_i w_i r_ij``,
    where ``r_ij`` marks a valid answer to item ``j`` (missing answers are excluded item by
    item) and ``a_j`` are the item weights (default ``1/J``). With ``threshold=None`` the
    item statistic is the weighted mean score instead of the share.

    The variance is that of the linearised variable
    ``z_i = w_i sum_j a_j r_ij (y_ij - P_j) / N_j`` (Woodruff 1971), summed by PSU within
    strata. The domain of the estimate is the respondents of the ``by`` group who answered at
    least one item: their number is ``n`` and their PSUs and strata give ``df``.

    Parameters
    ----------
    design : SurveyDesign
    items : str or list of str
        Item columns (scores, e.g. 1-5; NaN when not answered or "not applicable").
    threshold : float or None
        An answer is "satisfied" when its score is >= threshold (SIPAS: levels 4 and 5).
    item_weights : mapping, optional
        Non-negative weight of each item, normalised to sum 1; items left out weigh 0. Use it
        for a node of an index tree flattened into leaf weights.
    by : str or list of str, optional
        Domain columns (e.g. ``"agency"``).

    Returns
    -------
    Estimates
        On the 0-1 scale (``summary_frame(scale=100)`` for percentages).
    """
    cols = as_columns(items, "items")
    weights = normalized_item_weights(cols, item_weights)
    if threshold is not None and not np.isfinite(float(threshold)):
        raise ValueError("threshold must be a finite number or None")
    scores = {c: numeric_column(design.data, c, "items") for c in weights}
    codes, keys = _domains(design, by)
    n_dom = len(keys)
    answered = np.zeros(design.n, dtype=bool)
    for s in scores.values():
        answered |= ~np.isnan(s)
    dom = _valid_domain(design, codes, answered)
    inside = dom >= 0
    w = design.weights
    n, sw = _sums(dom, n_dom, w)
    est = np.zeros(n_dom)
    z = np.zeros(design.n)
    # full-length arithmetic (rows outside get weight 0 and the spare bin n_dom) is faster
    # than boolean-mask copies on a million rows
    bins = np.where(inside, dom, n_dom)
    w_in = np.where(inside, w, 0.0)
    for item, a in weights.items():
        s = scores[item]
        answered = ~np.isnan(s)
        wr = np.where(answered, w_in, 0.0)
        if threshold is not None:
            y = (s >= threshold).astype(np.float64)  # NaN >= t is False
        else:
            y = np.where(answered, s, 0.0)
        nj = np.bincount(bins, weights=wr, minlength=n_dom + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            pj = np.bincount(bins, weights=wr * y, minlength=n_dom + 1) / nj
            scale = np.where(nj > 0, a / nj, 0.0)
        est += a * pj[:n_dom]  # NaN where the item has no answer in the domain
        centre = np.where(nj > 0, pj, 0.0)
        z += wr * (y - centre[bins]) * scale[bins]
    u = np.zeros(design.n)
    u[inside] = z[inside] * sw[dom[inside]] / w[inside]
    vsrs = _srs_variance(w, u, dom, n_dom, n, sw)
    return _result(
        design,
        "satisfaction_index",
        keys,
        est,
        z,
        dom,
        vsrs,
        n,
        sw,
        is_proportion=threshold is not None,
    )

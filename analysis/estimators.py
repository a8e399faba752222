"""Design-based estimators of means, totals and ratios, by domain (R ``svymean``, ...).

Domains and missing values are handled as in :mod:`analysis.domain` (zero linearised values
outside, never dropped rows). The satisfaction index is in :mod:`analysis.indices`.

References
----------
Kish, L. (1965). *Survey Sampling*, sec. 8.6 (design effect).
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., sec. 9.1 (linearisation).
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, IntArray, numeric_column
from analysis.designbase import DesignBase
from analysis.domain import (
    domain_codes,
    domain_estimates,
    domain_sums,
    srs_variance,
    valid_domain,
)
from analysis.results import Estimates


def _column_sums(
    design: DesignBase, var: str, by: str | Sequence[str] | None
) -> tuple[FloatArray, pd.DataFrame, IntArray, FloatArray, FloatArray, list[FloatArray]]:
    """``var`` with its domains (missing values outside), weights, the variable with zeros
    outside the domains, and per-domain ``n, sum w, sum w y``."""
    y = numeric_column(design.data, var, "var")
    codes, keys = domain_codes(design, by)
    dom = valid_domain(design, codes, ~np.isnan(y))
    w = design.weights
    y0 = np.where(dom >= 0, y, 0.0)
    return y, keys, dom, w, y0, domain_sums(dom, len(keys), w, w * y0)


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
    vsrs = srs_variance(w, u, dom, len(keys), n, sw)
    return domain_estimates(design, "mean", keys, est, z, dom, vsrs, n, sw, is_proportion=is_prop)


def total(design: DesignBase, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
    """Weighted total ``sum w y`` of ``var`` per domain, as R's ``svytotal``."""
    y, keys, dom, w, y0, (n, sw, swy) = _column_sums(design, var, by)
    inside = dom >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = swy / sw
    u = np.zeros_like(y0)
    u[inside] = y0[inside] - ybar[dom[inside]]
    z = np.where(inside, w * y0, 0.0)
    vsrs = srs_variance(w, u, dom, len(keys), n, sw) * sw**2
    return domain_estimates(design, "total", keys, swy, z, dom, vsrs, n, sw, is_proportion=False)


def ratio(
    design: DesignBase, num: str, den: str, *, by: str | Sequence[str] | None = None
) -> Estimates:
    """Ratio of totals ``sum w y / sum w x`` per domain, as R's ``svyratio``.

    ``deff`` compares with SRSWOR of the linearised variable ``(y - R x) / xbar``. Rows with
    a missing ``num`` or ``den`` are outside the domain of this estimate.
    """
    y = numeric_column(design.data, num, "num")
    x = numeric_column(design.data, den, "den")
    return ratio_values(design, y, x, by=by)


def ratio_values(
    design: DesignBase,
    y: FloatArray,
    x: FloatArray,
    *,
    by: str | Sequence[str] | None = None,
    statistic: str = "ratio",
    is_proportion: bool = False,
) -> Estimates:
    """:func:`ratio` of two arrays (one value per row; NaN puts a row outside the domain).

    For estimators built on per-respondent values, e.g. :func:`analysis.indices.pooled_index`.
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if y.shape != (design.n,) or x.shape != (design.n,):
        raise ValueError(f"y and x must have one value per row ({design.n})")
    codes, keys = domain_codes(design, by)
    dom = valid_domain(design, codes, ~np.isnan(y) & ~np.isnan(x))
    w = design.weights
    inside = dom >= 0
    y0 = np.where(inside, y, 0.0)
    x0 = np.where(inside, x, 0.0)
    n, sw, swy, swx = domain_sums(dom, len(keys), w, w * y0, w * x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = swy / swx
    d = dom[inside]
    z = np.zeros_like(y0)
    z[inside] = w[inside] * (y0[inside] - est[d] * x0[inside]) / swx[d]
    u = np.zeros_like(y0)
    u[inside] = z[inside] * sw[d] / np.where(w[inside] > 0, w[inside], 1.0)
    vsrs = srs_variance(w, u, dom, len(keys), n, sw)
    return domain_estimates(
        design, statistic, keys, est, z, dom, vsrs, n, sw, is_proportion=is_proportion
    )

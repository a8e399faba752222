"""Shared machinery of the linearised domain estimators (estimators.py, indices.py).

Every estimator works on the full design: a domain (``by=``) and the rows with a missing
value are handled by giving those rows a zero linearised value, never by dropping rows
before the design is built (Lumley 2010, sec. 2.3; Lohr 2022, sec. 14.2). These functions
turn ``by=`` into domain codes, sum per domain, give the SRSWOR variance for the design effect
and assemble the :class:`analysis.results.Estimates`.

References
----------
Kish, L. (1965). *Survey Sampling*, sec. 8.6 (design effect).
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._checks import FloatArray, IntArray, as_columns, group_codes
from analysis.designbase import DesignBase
from analysis.results import Estimates, Linearization
from analysis.variance import domain_df, domain_variance


def domain_codes(
    design: DesignBase, by: str | Sequence[str] | None
) -> tuple[IntArray, pd.DataFrame]:
    """Domain code of each row (``-1``: missing key) and the frame of domain keys."""
    cols = as_columns(by, "by")
    missing = [c for c in cols if c not in design.data.columns]
    if missing:
        raise KeyError(f"by: column(s) {missing} not found in the data")
    return group_codes(design.data, cols)


def srs_variance(
    w: FloatArray, u: FloatArray, dom: IntArray, n_dom: int, n: FloatArray, sw: FloatArray
) -> FloatArray:
    """SRS variance of a mean of ``u`` in each domain, the denominator of the design effect.

    ``u`` is centred within its domain; see :func:`srs_variance_from_sums`.
    """
    inside = dom >= 0
    swu2 = np.bincount(dom[inside], weights=w[inside] * u[inside] ** 2, minlength=n_dom)
    return srs_variance_from_sums(np.asarray(swu2, dtype=np.float64), n, sw)


def srs_variance_from_sums(swu2: FloatArray, n: FloatArray, sw: FloatArray) -> FloatArray:
    """SRS variance of a mean from ``sum w u^2`` (``u`` centred), ``n`` and ``N = sum w``.

    ``s2 = n/(n-1) sum w u^2 / sum w`` (R's ``svyvar``). When the weights estimate a population
    larger than the sample (``N > n``) this is simple random sampling without replacement of
    ``n`` from ``N``, ``s2 (N - n) / (N n)``: R's ``svymean(deff = TRUE)``. Otherwise the
    weights are not scaled to a population (an unweighted design, or weights normalised to
    sum to ``n``) and that variance is 0 or negative (R returns ``Inf`` or ``NA``); then the
    comparison is with sampling with replacement, ``s2 / n``: R's ``deff = "replace"``.
    NaN with fewer than two respondents.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = n / (n - 1) * swu2 / sw
        v = np.where(sw > n, s2 * (sw - n) / (sw * n), s2 / n)
    return np.asarray(np.where(n > 1, v, np.nan), dtype=np.float64)


def domain_estimates(
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
    missing_children: tuple[tuple[str, ...], ...] = (),
) -> Estimates:
    """Assemble the result: variance and df of ``z`` by domain, deff against ``vsrs``.

    A domain without any respondent of non-zero weight (``n == 0``) has no standard error
    (NaN, not the 0 its all-zero linearised values would give) and is suppressed by
    :meth:`Estimates.flags` (``empty``).
    """
    n_dom = len(keys)
    var = domain_variance(design, z, dom, n_dom)
    var = np.where(n > 0, var, np.nan)
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
        missing_children=missing_children,
        linearization=Linearization(design=design, z=z, dom=dom),
    )


def valid_domain(design: DesignBase, codes: IntArray, valid: npt.NDArray[np.bool_]) -> IntArray:
    """Domain codes restricted to rows with ``valid`` values and non-zero weight."""
    return np.where(valid & (codes >= 0) & (design.weights != 0), codes, -1)


def domain_sums(dom: IntArray, n_dom: int, *values: FloatArray) -> list[FloatArray]:
    """Per domain: the row count, then the sum of each of ``values``."""
    inside = dom >= 0
    d = dom[inside]
    out = [np.bincount(d, minlength=n_dom).astype(np.float64)]
    out += [np.bincount(d, weights=v[inside], minlength=n_dom).astype(np.float64) for v in values]
    return out

"""Confidence intervals for design-based estimates, with the design degrees of freedom.

All intervals use Student's t with the design degrees of freedom ``df`` (``df <= 0`` gives
NaN limits for means, totals and ratios rather than a normal fallback).

Proportions where a method has no interval - an estimate of exactly 0 or 1, a standard error
of 0, or ``df <= 0`` - get the Korn-Graubard interval of the NCHS standard instead
(:func:`korn_graubard`: one-sided Clopper-Pearson on the domain sample size at 0 and 1,
``[0, 1]`` without degrees of freedom), never the zero-width ``[p, p]``; such cells are flagged
by :meth:`analysis.results.Estimates.flags`.

References
----------
Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. *Survey Methodology* 24(2), 193-201.
Lumley, T. (2010). *Complex Surveys*, sec. 2.4 (R ``svyciprop``).
Parker, J. D., Talih, M., Malec, D. J., et al. (2017). National Center for Health Statistics
    data presentation standards for proportions. *Vital Health Stat* 2(175). NCHS.
Wilson, E. B. (1927). Probable inference... *JASA* 22, 209-212; with the effective sample size
    ``p(1-p)/v`` as in Kish (1965) and SAS SURVEYFREQ.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import special, stats

from analysis._checks import BoolArray, FloatArray, check_alpha, check_choice

CIMethod = Literal["auto", "wald", "logit", "wilson", "beta", "korn-graubard"]
CI_METHODS: tuple[str, ...] = ("auto", "wald", "logit", "wilson", "beta", "korn-graubard")


def t_quantile(alpha: float, df: FloatArray) -> FloatArray:
    """Upper ``1 - alpha/2`` quantile of t with ``df`` degrees of freedom (NaN when df <= 0)."""
    df = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf(1.0 - alpha / 2.0, np.where(df > 0, df, np.nan))
    return np.asarray(q, dtype=np.float64)


def wald(
    est: FloatArray, se: FloatArray, df: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Wald interval ``est +/- t_df se`` (R ``confint`` / ``svyciprop(method="mean")``)."""
    q = t_quantile(alpha, df)
    return est - q * se, est + q * se


def _degenerate(p: FloatArray, se: FloatArray) -> BoolArray:
    return np.asarray((p <= 0) | (p >= 1) | ~(se > 0), dtype=bool)


def logit(
    p: FloatArray, se: FloatArray, df: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Logit interval ``expit(logit p +/- t_df se / (p (1 - p)))`` (R ``xlogit``, Stata)."""
    q = t_quantile(alpha, df)
    bad = _degenerate(p, se)
    ps = np.where(bad, 0.5, p)
    half = q * se / (ps * (1 - ps))
    lo = np.where(bad, p, special.expit(special.logit(ps) - half))
    hi = np.where(bad, p, special.expit(special.logit(ps) + half))
    return lo, hi


def wilson(
    p: FloatArray, se: FloatArray, df: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval with the effective sample size ``n_eff = p(1-p)/se^2``.

    The normal quantile is replaced by ``t_df``; with ``df -> inf`` this is the classical
    Wilson interval on ``n_eff`` observations.
    """
    q = t_quantile(alpha, df)
    bad = _degenerate(p, se)
    ps = np.where(bad, 0.5, p)
    n_eff = ps * (1 - ps) / np.where(bad, 1.0, se) ** 2
    q2n = q * q / n_eff
    centre = (ps + q2n / 2) / (1 + q2n)
    half = q / (1 + q2n) * np.sqrt(ps * (1 - ps) / n_eff + q * q / (4 * n_eff * n_eff))
    return np.where(bad, p, centre - half), np.where(bad, p, centre + half)


def beta(
    p: FloatArray, se: FloatArray, df: FloatArray, n: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Korn-Graubard interval in R's form (``svyciprop(method="beta")``).

    ``n_eff = p(1-p)/v * (qt(alpha/2, n-1) / qt(alpha/2, df))^2``, limits
    ``qbeta(alpha/2, n_eff p, n_eff (1-p) + 1)`` and ``qbeta(1-alpha/2, n_eff p + 1, n_eff (1-p))``;
    ``n`` is the number of respondents in the domain; no truncation of ``n_eff``.
    """
    bad = _degenerate(p, se)
    ps = np.where(bad, 0.5, p)
    ratio = t_quantile(alpha, np.asarray(n, dtype=np.float64) - 1) / t_quantile(alpha, df)
    n_eff = ps * (1 - ps) / np.where(bad, 1.0, se) ** 2 * ratio**2
    with np.errstate(invalid="ignore"):
        lo = stats.beta.ppf(alpha / 2, n_eff * ps, n_eff * (1 - ps) + 1)
        hi = stats.beta.ppf(1 - alpha / 2, n_eff * ps + 1, n_eff * (1 - ps))
    return np.where(bad, p, lo), np.where(bad, p, hi)


FUZZ = 1e-12  # NCHS SAS macro: fuzz() takes a proportion within 1e-12 of 0 or 1 as 0 or 1


def fuzz(p: FloatArray) -> FloatArray:
    """Proportions within ``1e-12`` of 0 or 1 set to exactly 0 or 1 (SAS ``fuzz``).

    A domain where every answer is "satisfied" can sum to ``1 - 1e-16`` (R does); the NCHS
    rules for 0 and 1 must still apply.
    """
    p = np.asarray(p, dtype=np.float64)
    r = np.round(p)
    with np.errstate(invalid="ignore"):
        near = ((r == 0) | (r == 1)) & (np.abs(p - r) < FUZZ)
    return np.asarray(np.where(near, r, p), dtype=np.float64)


def nchs_effective_n(
    p: FloatArray, se: FloatArray, df: FloatArray, n: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Effective sample sizes of the NCHS standard (Parker et al. 2017), per domain.

    Returns ``(n_eff, n_eff_df)``: ``n_eff = p(1-p)/se^2`` (``n`` when ``p`` is 0 or 1, the
    rule of the standard; infinite when ``se`` is 0), and the degrees-of-freedom adjusted
    ``n_eff_df = min(n, n_eff (t_{1-alpha/2, n-1} / t_{1-alpha/2, df})^2)``, also ``n`` when
    ``p`` is 0 or 1 and 0 when ``df <= 0`` (the limit ``t_df -> inf``).
    """
    p = fuzz(p)
    se = np.asarray(se, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    extreme = (p <= 0) | (p >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(extreme, n, p * (1 - p) / se**2)
        q_n = np.where(n > 1, t_quantile(alpha, n - 1), np.inf)
        q_df = t_quantile(alpha, df)
        t_adj = np.where(df > 0, (q_n / q_df) ** 2, 0.0)
        adjusted = np.where(t_adj == 0, 0.0, n_eff * t_adj)  # 0 * inf when se = 0 and df <= 0
    n_eff_df = np.where(extreme, n, np.minimum(n, adjusted))
    return np.asarray(n_eff, dtype=np.float64), np.asarray(n_eff_df, dtype=np.float64)


def korn_graubard(
    p: FloatArray, se: FloatArray, df: FloatArray, n: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Korn-Graubard interval as the NCHS data presentation standard for proportions.

    Clopper-Pearson limits for ``x = p n_eff_df`` successes out of ``n_eff_df`` trials
    (:func:`nchs_effective_n`): ``qbeta(alpha/2, x, n_eff_df - x + 1)`` and
    ``qbeta(1 - alpha/2, x + 1, n_eff_df - x)``. Unlike R's ``beta`` (:func:`beta`) the
    effective sample size is truncated at the domain sample size ``n``, and an estimate of 0
    or 1 gets the one-sided interval ``[0, qbeta(1 - alpha/2, 1, n)]`` or
    ``[qbeta(alpha/2, n, 1), 1]`` (NCHS: "when p is 0 or 1 the effective sample size is the
    sample size"; Parker et al. 2017, and the NCHS SAS macro ``calculate_KornGraubard_CIs``).
    Without degrees of freedom (``df <= 0``) the interval of an inner ``p`` is ``[0, 1]``.
    ``n`` is the number of respondents in the domain; ``p`` within ``1e-12`` of 0 or 1
    counts as 0 or 1 (:func:`fuzz`, as the SAS macro).
    """
    p = fuzz(p)
    _, m = nchs_effective_n(p, se, df, n, alpha)
    x = p * m
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = stats.beta.ppf(alpha / 2, np.where(x > 0, x, 1.0), m - x + 1)
        hi = stats.beta.ppf(1 - alpha / 2, x + 1, np.where(m - x > 0, m - x, 1.0))
    lo = np.where(x > 0, lo, 0.0)
    hi = np.where(m - x > 0, hi, 1.0)
    undefined = np.isnan(p) | np.isnan(m)
    return np.where(undefined, np.nan, lo), np.where(undefined, np.nan, hi)


def _without_interval(p: FloatArray, se: FloatArray, df: FloatArray) -> BoolArray:
    """Proportions where the other methods have no interval or a zero-width one."""
    return np.asarray(_degenerate(fuzz(p), se) | ~(np.asarray(df) > 0), dtype=bool)


def interval(
    method: str,
    est: FloatArray,
    se: FloatArray,
    df: FloatArray,
    n: FloatArray,
    alpha: float,
    *,
    is_proportion: bool,
) -> tuple[FloatArray, FloatArray]:
    """Dispatch to one CI method; ``auto`` is ``logit`` for proportions, else ``wald``.

    For proportions, the domains where the chosen method gives no interval or a zero-width
    one (estimate 0 or 1, SE 0, ``df <= 0``) get :func:`korn_graubard` instead.
    """
    alpha = check_alpha(alpha)
    method = check_choice(method, CI_METHODS, "method")
    if method == "auto":
        method = "logit" if is_proportion else "wald"
    if not is_proportion:
        if method != "wald":
            raise ValueError(f"method={method!r} needs a proportion; use method='wald'")
        return wald(est, se, df, alpha)
    kg = korn_graubard(est, se, df, n, alpha)
    if method == "korn-graubard":
        return kg
    if method == "wald":
        lo, hi = wald(est, se, df, alpha)
    elif method == "logit":
        lo, hi = logit(est, se, df, alpha)
    elif method == "wilson":
        lo, hi = wilson(est, se, df, alpha)
    else:
        lo, hi = beta(est, se, df, n, alpha)
    fallback = _without_interval(est, se, df) & ~np.isnan(est)
    return np.where(fallback, kg[0], lo), np.where(fallback, kg[1], hi)

"""Confidence intervals for design-based estimates, with the design degrees of freedom.

All intervals use Student's t with the design degrees of freedom ``df`` (``df <= 0`` gives
NaN limits rather than a normal fallback). For an estimate of exactly 0 or 1, or a standard
error of 0, the proportion intervals are degenerate (``[p, p]``); such cells are flagged by
:meth:`analysis.results.Estimates.flags`.

References
----------
Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. *Survey Methodology* 24(2), 193-201.
Lumley, T. (2010). *Complex Surveys*, sec. 2.4 (R ``svyciprop``).
Wilson, E. B. (1927). Probable inference... *JASA* 22, 209-212; with the effective sample size
    ``p(1-p)/v`` as in Kish (1965) and SAS SURVEYFREQ.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import special, stats

from analysis._checks import FloatArray, check_alpha, check_choice

CIMethod = Literal["auto", "wald", "logit", "wilson", "beta"]
CI_METHODS: tuple[str, ...] = ("auto", "wald", "logit", "wilson", "beta")


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


def _degenerate(p: FloatArray, se: FloatArray) -> FloatArray:
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
    """Dispatch to one CI method; ``auto`` is ``logit`` for proportions, else ``wald``."""
    alpha = check_alpha(alpha)
    method = check_choice(method, CI_METHODS, "method")
    if method == "auto":
        method = "logit" if is_proportion else "wald"
    if method == "wald":
        return wald(est, se, df, alpha)
    if not is_proportion:
        raise ValueError(f"method={method!r} needs a proportion; use method='wald'")
    if method == "logit":
        return logit(est, se, df, alpha)
    if method == "wilson":
        return wilson(est, se, df, alpha)
    return beta(est, se, df, n, alpha)

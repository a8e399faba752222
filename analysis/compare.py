"""Comparisons: differences between domains or waves, and rankings with uncertainty.

References
----------
Lumley, T. (2010). *Complex Surveys*, sec. 2.3.2 (contrasts of domain means, ``svycontrast``).
Goldstein, H., Spiegelhalter, D. J. (1996). League tables and their limitations: statistical
    issues in comparisons of institutional performance. *JRSS A* 159, 385-443.
Lohr, S. L. (2022). *Sampling*, sec. 14.2 (domain differences under a common design).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import FloatArray, check_alpha
from analysis.ci import t_quantile
from analysis.results import Estimates
from analysis.variance import domain_df, domain_variance


@dataclass(frozen=True)
class Comparison:
    """Differences ``first - second`` with standard errors and two-sided t tests.

    Attributes
    ----------
    keys : pandas.DataFrame
        Labels of the compared cells (``first``/``second`` or the shared ``by`` keys).
    difference, se, df : ndarray
    """

    keys: pd.DataFrame
    difference: FloatArray
    se: FloatArray
    df: FloatArray

    @property
    def statistic(self) -> FloatArray:
        """The t statistics ``difference / se``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.difference / self.se, dtype=np.float64)

    @property
    def p_value(self) -> FloatArray:
        """Two-sided p-values from t with ``df`` degrees of freedom (NaN when df <= 0)."""
        df = np.where(self.df > 0, self.df, np.nan)
        return np.asarray(2 * stats.t.sf(np.abs(self.statistic), df), dtype=np.float64)

    def conf_int(self, alpha: float = 0.05) -> FloatArray:
        """Wald limits ``difference +/- t_df se``."""
        q = t_quantile(check_alpha(alpha), self.df)
        return np.column_stack([self.difference - q * self.se, self.difference + q * self.se])

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Columns ``[keys...], difference, se, ci_low, ci_high, df, statistic, p_value``."""
        ci = self.conf_int(alpha)
        frame = self.keys.copy()
        frame["difference"] = self.difference
        frame["se"] = self.se
        frame["ci_low"], frame["ci_high"] = ci[:, 0], ci[:, 1]
        frame["df"] = self.df
        frame["statistic"] = self.statistic
        frame["p_value"] = self.p_value
        return frame


def _domain_index(result: Estimates, key: Any, name: str) -> int:
    if result.keys.shape[1] == 0:
        raise ValueError(f"{name}: the result has no by= domains to compare")
    want = key if isinstance(key, tuple) else (key,)
    for i, row in enumerate(result.keys.itertuples(index=False)):
        if tuple(row) == want:
            return i
    raise KeyError(f"{name}: domain {key!r} not found in the result")


def compare_domains(result: Estimates, first: Hashable, second: Hashable) -> Comparison:
    """Difference between two domains of the same estimate and design (e.g. two agencies).

    The variance is that of ``z_first - z_second`` under the common design, so the covariance
    of domains sharing strata or PSUs (and calibration cells) is accounted for.

    Parameters
    ----------
    result : Estimates
        An estimate with ``by=`` domains, from an estimator of :class:`SurveyDesign`.
    first, second : hashable
        Domain keys (a tuple when ``by`` has several columns).
    """
    lin = result.linearization
    if lin is None:
        raise ValueError("result: no linearisation stored (estimates from sufficient statistics)")
    i = _domain_index(result, first, "first")
    j = _domain_index(result, second, "second")
    if i == j:
        raise ValueError("first and second must be different domains")
    sign = np.where(lin.dom == i, 1.0, np.where(lin.dom == j, -1.0, 0.0))
    dom = np.where(sign != 0, 0, -1).astype(np.int64)
    var = domain_variance(lin.design, lin.z * sign, dom, 1)
    df = domain_df(lin.design, dom, 1)
    keys = pd.DataFrame({"first": [first], "second": [second]})
    diff = np.array([result.estimate[i] - result.estimate[j]])
    return Comparison(keys=keys, difference=diff, se=np.sqrt(var), df=df)


def compare_independent(first: Estimates, second: Estimates) -> Comparison:
    """Differences between two independent samples (e.g. two survey waves), domain by domain.

    ``se = sqrt(se_1^2 + se_2^2)``; ``df = min(df_1, df_2)`` (conservative). Domains are
    matched on their ``by`` keys; domains present in one wave only are dropped.
    """
    if list(first.keys.columns) != list(second.keys.columns):
        raise ValueError("first and second must have the same by= columns")
    cols = list(first.keys.columns)
    a = first.keys.assign(_e1=first.estimate, _s1=first.se, _d1=first.df)
    b = second.keys.assign(_e2=second.estimate, _s2=second.se, _d2=second.df)
    m: pd.DataFrame = a.merge(b, on=cols, how="inner") if cols else pd.concat([a, b], axis=1)
    return Comparison(
        keys=m[cols].reset_index(drop=True),
        difference=(m["_e1"] - m["_e2"]).to_numpy(dtype=np.float64),
        se=np.hypot(m["_s1"].to_numpy(np.float64), m["_s2"].to_numpy(np.float64)),
        df=np.minimum(m["_d1"].to_numpy(np.float64), m["_d2"].to_numpy(np.float64)),
    )


def rank_intervals(
    result: Estimates,
    *,
    rng: np.random.Generator,
    alpha: float = 0.05,
    n_draws: int = 2000,
    descending: bool = True,
) -> pd.DataFrame:
    """Ranks of the domains with simulation intervals (Goldstein & Spiegelhalter 1996).

    Draws each domain's estimate from ``N(estimate, se^2)`` independently (domains in
    different strata are independent; for domains sharing PSUs this is an approximation),
    ranks each draw and reports the ``alpha/2`` and ``1 - alpha/2`` quantiles of the ranks.

    Parameters
    ----------
    result : Estimates
    rng : numpy.random.Generator
        Source of randomness (pass ``np.random.default_rng(seed)`` and record the seed).
    alpha : float
    n_draws : int
    descending : bool
        Rank 1 is the highest estimate when true.

    Returns
    -------
    pandas.DataFrame
        ``[by...], estimate, se, rank, rank_low, rank_high``.
    """
    check_alpha(alpha)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    if int(n_draws) < 1:
        raise ValueError("n_draws must be >= 1")
    est = np.nan_to_num(result.estimate, nan=-np.inf if descending else np.inf)
    se = np.nan_to_num(result.se, nan=0.0)
    draws = est[None, :] + se[None, :] * rng.standard_normal((int(n_draws), len(est)))
    sign = -1.0 if descending else 1.0
    ranks = stats.rankdata(sign * draws, axis=1, method="min")
    frame = result.keys.copy()
    frame["estimate"] = result.estimate
    frame["se"] = result.se
    frame["rank"] = stats.rankdata(sign * est, method="min").astype(np.int64)
    frame["rank_low"] = np.floor(np.quantile(ranks, alpha / 2, axis=0)).astype(np.int64)
    frame["rank_high"] = np.ceil(np.quantile(ranks, 1 - alpha / 2, axis=0)).astype(np.int64)
    return frame

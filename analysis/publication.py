"""Publication rules: which estimates to present, send to statistical review, or suppress.

Proportions follow the NCHS data presentation standards for proportions (Parker et al.
2017), as implemented in the NCHS SAS macro ``calculate_KornGraubard_CIs``:

1. **Suppress** when the effective sample size ``n_eff = p(1-p)/v`` (the sample size ``n``
   when ``p`` is 0 or 1, at most ``n``) is below 30; or the Korn-Graubard 95 % interval
   (:func:`analysis.ci.korn_graubard`) is 0.30 wide or wider; or it is wider than 0.05 and
   its width relative to ``p`` exceeds 130 %.
2. Otherwise **review** (statistical review before publishing) when ``p`` is 0 or 1, or the
   design degrees of freedom are below 8.
3. Otherwise **present**, with a footnote that the complement ``1 - p`` may be unreliable when
   the width is above 0.05 and its width relative to ``1 - p`` exceeds 130 %.

The widths are compared unrounded (the SAS macro rounds them to 0.1 percentage point first).

Means, totals, ratios and mean scores are not proportions: they follow NCHS's earlier rule
for such estimates (suppress below 30 respondents, review when the relative standard error is
30 % or more), with the same degrees-of-freedom review. SIPAS adds two review reasons: an index
node renormalised over the children with data (``partial``) and a standard error of 0; and a
domain without any respondent of non-zero weight (``empty``) is always suppressed.

References
----------
Parker, J. D., Talih, M., Malec, D. J., et al. (2017). National Center for Health Statistics
    data presentation standards for proportions. *Vital Health Stat* 2(175). NCHS.
Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. *Survey Methodology* 24(2), 193-201.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, check_alpha
from analysis.ci import fuzz, korn_graubard, nchs_effective_n

FLAG_COLUMNS = (
    "empty",
    "small_n",
    "wide_ci",
    "wide_relative_ci",
    "high_rse",
    "extreme",
    "zero_se",
    "low_df",
    "no_df",
    "partial",
    "complement_unreliable",
    "suppress",
    "review",
)


@dataclass(frozen=True)
class PublicationRules:
    """Thresholds of the publication rules; the defaults are the NCHS 2017 standard.

    Attributes
    ----------
    min_n_eff : float
        Proportions: suppress when the effective sample size is below this (30).
    max_ci_width : float
        Proportions: suppress when the Korn-Graubard interval is at least this wide (0.30).
    relative_width_floor : float
        Proportions: the relative-width rule applies only to intervals wider than this (0.05).
    max_relative_ci_width : float
        Proportions: suppress when the width over ``p`` exceeds this (1.30); the same bound on
        the width over ``1 - p`` gives the complement footnote.
    min_df : float
        Review when the design degrees of freedom are below this (8).
    min_n : float
        Other statistics: suppress with fewer respondents than this (30).
    max_rse : float
        Other statistics: review when the relative standard error is at least this (0.30).
    alpha : float
        One minus the level of the interval the rules are stated for (0.05, i.e. 95 %).
    review_extreme, review_partial, review_zero_se : bool
        Whether ``p`` of 0 or 1, a renormalised (partial) index node, and a standard error of
        0 send an estimate to review.
    """

    min_n_eff: float = 30.0
    max_ci_width: float = 0.30
    relative_width_floor: float = 0.05
    max_relative_ci_width: float = 1.30
    min_df: float = 8.0
    min_n: float = 30.0
    max_rse: float = 0.30
    alpha: float = 0.05
    review_extreme: bool = True
    review_partial: bool = True
    review_zero_se: bool = True

    def __post_init__(self) -> None:
        """Validate the thresholds (errors name the field)."""
        check_alpha(self.alpha)
        for name in ("min_n_eff", "max_ci_width", "relative_width_floor", "min_df", "min_n"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
        for name in ("max_relative_ci_width", "max_rse"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")


NCHS_2017 = PublicationRules()


def publication_flags(
    estimate: FloatArray,
    se: FloatArray,
    df: FloatArray,
    n: FloatArray,
    *,
    is_proportion: bool,
    partial: FloatArray,
    rules: PublicationRules = NCHS_2017,
) -> pd.DataFrame:
    """Per-domain flags and the decision (``publication``: present, review or suppress).

    Returns a frame with ``n_eff`` (proportions; NaN otherwise), ``ci_width`` and
    ``relative_ci_width`` of the Korn-Graubard interval at ``rules.alpha`` (proportions), the
    boolean columns of ``FLAG_COLUMNS`` and ``publication``. Rules: see the module docstring.
    """
    est = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    part = np.asarray(partial, dtype=bool)
    nan = np.full(len(est), np.nan)
    false = np.zeros(len(est), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        rse = np.abs(se / est)
        if is_proportion:
            n_eff = np.minimum(nchs_effective_n(est, se, df, n, rules.alpha)[0], n)
            lo, hi = korn_graubard(est, se, df, n, rules.alpha)
            width = hi - lo
            rel = width / est
            rel_complement = width / (1 - est)
        else:
            n_eff, width, rel, rel_complement = nan, nan, nan, nan
    wide_enough = ~(width <= rules.relative_width_floor)
    out = pd.DataFrame({"n_eff": n_eff, "ci_width": width, "relative_ci_width": rel})
    if is_proportion:
        out["small_n"] = ~(n_eff >= rules.min_n_eff)
        out["wide_ci"] = ~(width < rules.max_ci_width)
        out["wide_relative_ci"] = wide_enough & (rel > rules.max_relative_ci_width)
        out["high_rse"] = false
        out["extreme"] = (fuzz(est) <= 0) | (fuzz(est) >= 1)
    else:
        out["small_n"] = ~(n >= rules.min_n)
        out["wide_ci"] = false
        out["wide_relative_ci"] = false
        out["high_rse"] = ~(rse < rules.max_rse)
        out["extreme"] = false
    out["empty"] = ~(n > 0)
    out["zero_se"] = ~(se > 0) & ~out["empty"]
    out["low_df"] = ~(df >= rules.min_df)
    out["no_df"] = ~(df > 0)
    out["partial"] = part
    suppress = (
        out["empty"] | out["small_n"] | out["wide_ci"] | out["wide_relative_ci"] | np.isnan(est)
    )
    review = out["low_df"] | out["high_rse"]
    if rules.review_extreme:
        review |= out["extreme"]
    if rules.review_partial:
        review |= out["partial"]
    if rules.review_zero_se:
        review |= out["zero_se"] & ~out["extreme"]  # 0 or 1 has SE 0 by construction
    out["suppress"] = suppress
    out["review"] = review & ~suppress
    present = ~suppress & ~out["review"]
    out["complement_unreliable"] = (
        present & wide_enough & (rel_complement > rules.max_relative_ci_width)
        if is_proportion
        else false
    )
    out["publication"] = np.where(
        suppress, "suppress", np.where(out["review"], "review", "present")
    )
    return out

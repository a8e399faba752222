"""Frozen result objects returned by every estimator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, IntArray, check_alpha
from analysis.ci import CIMethod, interval
from analysis.designbase import DesignBase

SMALL_N = 30
HIGH_RSE = 0.30
WIDE_CI = 0.20
FLAG_COLUMNS = ("small_n", "high_rse", "wide_ci", "degenerate", "no_df", "partial")


@dataclass(frozen=True)
class Linearization:
    """What a comparison needs to recompute variances: the design and the influence values."""

    design: DesignBase
    z: FloatArray
    dom: IntArray


@dataclass(frozen=True)
class Estimates:
    """Design-based estimates for one statistic, one row per domain.

    Attributes
    ----------
    statistic : str
        ``"mean"``, ``"total"``, ``"ratio"`` or ``"satisfaction_index"``.
    keys : pandas.DataFrame
        The ``by`` columns (no columns when there is no ``by``), one row per domain.
    estimate, se : ndarray
        Point estimates and linearised standard errors.
    df : ndarray
        Design degrees of freedom of each domain (PSUs minus strata in the domain).
    n : ndarray
        Respondents contributing to each estimate (valid answers in the domain).
    deff : ndarray
        Design effect against simple random sampling without replacement (R's ``deff=TRUE``).
    sum_weights : ndarray
        Estimated population size of each domain.
    is_proportion : bool
        Whether the estimate is a proportion (enables the logit, Wilson and beta intervals).
    missing_children : tuple of tuples of str
        Per domain, the children (items) of an index node that have no valid answer there;
        the estimate renormalises the weights over the others (``partial`` flag). Empty for
        every domain of a complete index and of the other statistics.
    """

    statistic: str
    keys: pd.DataFrame
    estimate: FloatArray
    se: FloatArray
    df: FloatArray
    n: FloatArray
    deff: FloatArray
    sum_weights: FloatArray
    is_proportion: bool
    missing_children: tuple[tuple[str, ...], ...] = ()
    linearization: Linearization | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Store the arrays as read-only float64 copies."""
        for name in ("estimate", "se", "df", "n", "deff", "sum_weights"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        missing = tuple(tuple(str(c) for c in m) for m in self.missing_children)
        if not missing:
            missing = ((),) * len(self.estimate)
        if len(missing) != len(self.estimate):
            raise ValueError("missing_children: one entry per domain expected")
        object.__setattr__(self, "missing_children", missing)

    def __len__(self) -> int:
        """Return the number of domains."""
        return len(self.estimate)

    def _repr_html_(self) -> str:
        """Show the summary table in notebooks."""
        return str(self.summary_frame(flags=True).to_html(index=False))

    @property
    def variance(self) -> FloatArray:
        """Squared standard errors."""
        return self.se**2

    def conf_int(self, alpha: float = 0.05, method: CIMethod = "auto") -> FloatArray:
        """Confidence limits, an array with one ``[low, high]`` row per domain.

        Parameters
        ----------
        alpha : float
            One minus the confidence level.
        method : {"auto", "wald", "logit", "wilson", "beta"}
            ``wald``: ``p +/- t se``; ``logit``: R's ``xlogit``; ``wilson``: Wilson score
            with the effective sample size; ``beta``: Korn-Graubard as R. ``auto`` is
            ``logit`` for proportions and ``wald`` otherwise. All use ``t`` with ``df``.
        """
        lo, hi = interval(
            method,
            self.estimate,
            self.se,
            self.df,
            self.n,
            alpha,
            is_proportion=self.is_proportion,
        )
        return np.column_stack([lo, hi])

    def flags(self, alpha: float = 0.05, method: CIMethod = "auto") -> pd.DataFrame:
        """Publication flags per domain.

        Columns: ``small_n`` (n < 30), ``high_rse`` (relative SE > 30 %), ``wide_ci``
        (proportions: CI wider than 20 points), ``degenerate`` (proportion of 0 or 1, or
        SE of 0: no usable interval), ``no_df`` (df <= 0: no interval), ``partial`` (an index
        with children lacking data in the domain, renormalised over the others) and
        ``missing_children`` (their names, a tuple per domain).
        """
        ci = self.conf_int(alpha, method)
        with np.errstate(divide="ignore", invalid="ignore"):
            rse = np.abs(self.se / self.estimate)
        width = ci[:, 1] - ci[:, 0]
        degenerate = ~(self.se > 0)
        if self.is_proportion:
            degenerate |= (self.estimate <= 0) | (self.estimate >= 1)
        frame = self.keys.copy()
        frame["small_n"] = self.n < SMALL_N
        frame["high_rse"] = ~(rse <= HIGH_RSE)
        frame["wide_ci"] = (width > WIDE_CI) if self.is_proportion else False
        frame["degenerate"] = degenerate
        frame["no_df"] = ~(self.df > 0)
        frame["partial"] = [bool(m) for m in self.missing_children]
        frame["missing_children"] = list(self.missing_children)
        return frame

    def summary_frame(
        self,
        alpha: float = 0.05,
        method: CIMethod = "auto",
        *,
        scale: float = 1.0,
        flags: bool = False,
    ) -> pd.DataFrame:
        """Table with columns ``[by...], estimate, se, ci_low, ci_high, deff, n``.

        Parameters
        ----------
        alpha, method
            As :meth:`conf_int`.
        scale : float
            Multiplier for ``estimate``, ``se`` and the limits (``100`` for percentages).
        flags : bool
            Append ``df``, ``rse`` and the columns of :meth:`flags`.
        """
        check_alpha(alpha)
        ci = self.conf_int(alpha, method)
        frame = self.keys.copy()
        frame["estimate"] = self.estimate * scale
        frame["se"] = self.se * scale
        frame["ci_low"] = ci[:, 0] * scale
        frame["ci_high"] = ci[:, 1] * scale
        frame["deff"] = self.deff
        frame["n"] = self.n.astype(np.int64)
        if flags:
            with np.errstate(divide="ignore", invalid="ignore"):
                frame["df"] = self.df
                frame["rse"] = np.abs(self.se / self.estimate)
            extra = self.flags(alpha, method)
            for col in (*FLAG_COLUMNS, "missing_children"):
                frame[col] = extra[col].to_numpy()
        return frame

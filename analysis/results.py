"""Frozen result objects returned by every estimator."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, IntArray, check_alpha
from analysis.ci import CIMethod, interval
from analysis.designbase import DesignBase
from analysis.publication import FLAG_COLUMNS, NCHS_2017, PublicationRules, publication_flags


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
        method : {"auto", "wald", "logit", "wilson", "beta", "korn-graubard"}
            ``wald``: ``p +/- t se``; ``logit``: R's ``xlogit``; ``wilson``: Wilson score
            with the effective sample size; ``beta``: Korn-Graubard as R;
            ``korn-graubard``: Korn-Graubard as the NCHS standard (effective sample size
            truncated at ``n``, one-sided at 0 and 1). ``auto`` is ``logit`` for proportions
            and ``wald`` otherwise. All use ``t`` with ``df``. A proportion of 0 or 1, with SE
            0 or without degrees of freedom gets the ``korn-graubard`` interval whatever the
            method (:func:`analysis.ci.interval`).
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

    def flags(self, *, rules: PublicationRules = NCHS_2017) -> pd.DataFrame:
        """Publication flags and decision per domain (NCHS 2017 standard by default).

        Parameters
        ----------
        rules : PublicationRules
            Thresholds; see :mod:`analysis.publication` for the rules and the standard.

        Returns
        -------
        pandas.DataFrame
            The ``by`` keys; ``n_eff``, ``ci_width`` and ``relative_ci_width`` (proportions:
            NCHS effective sample size and the Korn-Graubard 95 % interval); the booleans
            ``empty`` (no respondent of non-zero weight), ``small_n``, ``wide_ci``,
            ``wide_relative_ci``, ``high_rse`` (not proportions), ``extreme`` (p of 0 or 1),
            ``zero_se``, ``low_df`` (df below ``rules.min_df``), ``no_df`` (df <= 0),
            ``partial`` (index renormalised over the children with data),
            ``complement_unreliable``, ``suppress``, ``review``; ``publication``
            (``"present"``, ``"review"`` or ``"suppress"``) and ``missing_children``.
        """
        frame = self.keys.copy()
        decided = publication_flags(
            self.estimate,
            self.se,
            self.df,
            self.n,
            is_proportion=self.is_proportion,
            partial=np.array([bool(m) for m in self.missing_children], dtype=bool),
            rules=rules,
        )
        for col in decided.columns:
            frame[col] = decided[col].to_numpy()
        frame["missing_children"] = list(self.missing_children)
        return frame

    def summary_frame(
        self,
        alpha: float = 0.05,
        method: CIMethod = "auto",
        *,
        scale: float = 1.0,
        flags: bool = False,
        rules: PublicationRules | None = NCHS_2017,
    ) -> pd.DataFrame:
        """Table with columns ``[by...], estimate, se, ci_low, ci_high, deff, n, publication``.

        Parameters
        ----------
        alpha, method
            As :meth:`conf_int`.
        scale : float
            Multiplier for ``estimate``, ``se`` and the limits (``100`` for percentages).
        flags : bool
            Append ``df``, ``rse``, ``n_eff``, the flag columns of :meth:`flags` and
            ``missing_children``.
        rules : PublicationRules or None
            Rules of the ``publication`` column (present / review / suppress; NCHS 2017 by
            default, :mod:`analysis.publication`). ``None`` leaves the column out (and the
            flags then use the default rules).
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
        decided = self.flags(rules=rules if rules is not None else NCHS_2017)
        if rules is not None:
            frame["publication"] = decided["publication"].to_numpy()
        if flags:
            with np.errstate(divide="ignore", invalid="ignore"):
                frame["df"] = self.df
                frame["rse"] = np.abs(self.se / self.estimate)
            for col in ("n_eff", *FLAG_COLUMNS, "missing_children"):
                frame[col] = decided[col].to_numpy()
        return frame

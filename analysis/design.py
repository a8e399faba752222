"""Survey design declaration: strata, clusters (PSUs), weights, fpc, lonely-PSU policy.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 5 (stratified sampling).
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., ch. 3, 5 and 9.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2-3.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from analysis._checks import (
    FloatArray,
    IntArray,
    check_choice,
    numeric_column,
    require_columns,
)

if TYPE_CHECKING:
    from analysis.results import Estimates
    from analysis.weighting import WeightDiagnostics

LonelyPSU = Literal["fail", "adjust", "remove", "certainty", "average"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "adjust", "remove", "certainty", "average")


@dataclass(frozen=True)
class CalibrationStep:
    """One calibration (post-stratification or raking) applied to a design.

    Attributes
    ----------
    x : scipy.sparse.csr_matrix
        Calibration model matrix (cell indicators), one row per respondent.
    g : ndarray
        Ratio of the weights after this step to the weights before it.
    d : ndarray
        Weights before this step (the regression weights of the GREG residuals).
    """

    x: sparse.csr_matrix
    g: FloatArray
    d: FloatArray


class SurveyDesign:
    """A stratified (optionally clustered) sample with weights, as R's ``svydesign``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent (the design never drops rows; missing answers are handled
        estimate by estimate as domain restrictions).
    strata : str, optional
        Column holding the stratum of each row (e.g. agency x channel). ``None``: one stratum.
    weights : str, optional
        Column of sampling weights. When omitted, weights are ``N_h / n_h`` if ``fpc`` is
        given (as R does), otherwise 1.
    fpc : str, optional
        Column with the finite population correction, constant within a stratum: either
        the population count ``N_h`` (of PSUs, or of respondents when ``psu`` is omitted) or,
        when every value is <= 1, the sampling fraction ``n_h / N_h``.
    psu : str, optional
        Column identifying primary sampling units (e.g. households, villages), nested
        within strata (ids may repeat across strata). ``None``: each row is its own PSU.
    lonely_psu : {"fail", "adjust", "remove", "certainty", "average"}
        What to do with strata holding a single PSU, with the meaning of R's
        ``options(survey.lonely.psu=)``: ``fail`` raises when such a stratum enters a
        variance, ``remove`` and ``certainty`` let it contribute zero, ``adjust`` centres
        its PSU total at zero (the grand mean) instead of its own mean, ``average`` gives it
        the average variance of the other strata present.

    Notes
    -----
    Variances use Taylor linearisation with the ultimate-cluster estimator
    ``v = sum_h f_h n_h/(n_h - 1) sum_i (t_hi - t_h)^2`` with ``f_h = 1 - n_h/N_h``
    (Lumley 2010, sec. 2.2; R's ``onestrat``). Only first-stage fpc is used.

    Examples
    --------
    >>> d = SurveyDesign(df, strata="stratum", weights="w")          # doctest: +SKIP
    >>> d.satisfaction_index(["q1", "q2"], by="agency").summary_frame()  # doctest: +SKIP
    """

    data: pd.DataFrame
    weights: FloatArray
    strata_codes: IntArray
    strata_labels: pd.Index
    psu_codes: IntArray
    psu_stratum: IntArray
    n_psu: IntArray
    fpc_factor: FloatArray
    has_psu: bool
    lonely_psu: str
    calibrations: tuple[CalibrationStep, ...]

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        strata: str | None = None,
        weights: str | None = None,
        fpc: str | None = None,
        psu: str | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        if len(data) == 0:
            raise ValueError("data must have at least one row")
        self.lonely_psu = check_choice(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
        self.data = data.reset_index(drop=True)
        n = len(self.data)
        if strata is None:
            self.strata_codes = np.zeros(n, dtype=np.int64)
            self.strata_labels = pd.Index([0])
        else:
            require_columns(self.data, [strata], "strata")
            if self.data[strata].isna().any():
                raise ValueError("strata: column has missing values")
            codes, labels = pd.factorize(self.data[strata], sort=True)
            self.strata_codes = codes.astype(np.int64)
            self.strata_labels = pd.Index(labels)
        h = self.strata_codes
        n_strata = len(self.strata_labels)
        if psu is None:
            self.has_psu = False
            self.psu_codes = np.arange(n, dtype=np.int64)
            self.psu_stratum = h.copy()
        else:
            require_columns(self.data, [psu], "psu")
            if self.data[psu].isna().any():
                raise ValueError("psu: column has missing values")
            pair = pd.MultiIndex.from_arrays([h, self.data[psu].to_numpy()])
            codes, uniq = pd.factorize(pair, sort=True)
            self.has_psu = True
            self.psu_codes = codes.astype(np.int64)
            self.psu_stratum = np.asarray(uniq.get_level_values(0), dtype=np.int64)
        self.n_psu = np.bincount(self.psu_stratum, minlength=n_strata).astype(np.int64)
        self.fpc_factor, pop = self._fpc(fpc, n_strata)
        if weights is not None:
            w = numeric_column(self.data, weights, "weights")
            if np.isnan(w).any() or (w < 0).any():
                raise ValueError("weights: must be non-negative and not missing")
        elif pop is not None:
            w = (pop / self.n_psu)[h]
        else:
            w = np.ones(n)
        self.weights = w
        self.calibrations = ()

    def _fpc(self, fpc: str | None, n_strata: int) -> tuple[FloatArray, FloatArray | None]:
        if fpc is None:
            return np.ones(n_strata), None
        values = numeric_column(self.data, fpc, "fpc")
        if np.isnan(values).any() or (values <= 0).any():
            raise ValueError("fpc: must be positive and not missing")
        lo = np.full(n_strata, np.inf)
        hi = np.full(n_strata, -np.inf)
        np.minimum.at(lo, self.strata_codes, values)
        np.maximum.at(hi, self.strata_codes, values)
        if not np.allclose(lo, hi):
            raise ValueError("fpc: must be constant within each stratum")
        if (lo <= 1).all():
            pop = self.n_psu / lo
        else:
            pop = lo
        if (pop < self.n_psu - 1e-9).any():
            raise ValueError("fpc: population size smaller than the number of sampled units")
        return (pop - self.n_psu) / pop, pop

    # -- internal constructors -------------------------------------------------
    def _with(
        self, *, weights: FloatArray, calibration: CalibrationStep | None = None
    ) -> SurveyDesign:
        new = object.__new__(SurveyDesign)
        new.__dict__.update(self.__dict__)
        new.weights = weights
        if calibration is not None:
            new.calibrations = (*self.calibrations, calibration)
        return new

    def __repr__(self) -> str:
        """Summarise the design: rows, strata, PSUs, calibrations."""
        return (
            f"SurveyDesign(n={self.n}, strata={len(self.strata_labels)}, "
            f"psus={int(self.n_psu.sum())}, calibrations={len(self.calibrations)}, "
            f"lonely_psu={self.lonely_psu!r})"
        )

    @property
    def n(self) -> int:
        """Number of rows (respondents) in the design."""
        return len(self.data)

    def with_lonely_psu(self, lonely_psu: LonelyPSU) -> SurveyDesign:
        """Return the same design with another lonely-PSU policy."""
        new = self._with(weights=self.weights)
        new.lonely_psu = check_choice(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
        return new

    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata among rows with non-zero weight."""
        keep = self.weights != 0
        return int(len(np.unique(self.psu_codes[keep])) - len(np.unique(self.strata_codes[keep])))

    # -- estimators (implemented in analysis.estimators) -------------------------
    def mean(self, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Design-based mean of ``var`` (see :func:`analysis.estimators.mean`)."""
        from analysis.estimators import mean

        return mean(self, var, by=by)

    def total(self, var: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Design-based total of ``var`` (see :func:`analysis.estimators.total`)."""
        from analysis.estimators import total

        return total(self, var, by=by)

    def ratio(self, num: str, den: str, *, by: str | Sequence[str] | None = None) -> Estimates:
        """Ratio of totals ``num / den`` (see :func:`analysis.estimators.ratio`)."""
        from analysis.estimators import ratio

        return ratio(self, num, den, by=by)

    def satisfaction_index(
        self,
        items: str | Sequence[str],
        *,
        threshold: float | None = 4,
        item_weights: Mapping[str, float] | None = None,
        by: str | Sequence[str] | None = None,
    ) -> Estimates:
        """Satisfaction index (see :func:`analysis.estimators.satisfaction_index`)."""
        from analysis.estimators import satisfaction_index

        return satisfaction_index(
            self, items, threshold=threshold, item_weights=item_weights, by=by
        )

    # -- weighting (implemented in analysis.weighting) ----------------------------
    def poststratify(
        self, by: str | Sequence[str], totals: Mapping[Hashable, float]
    ) -> SurveyDesign:
        """Post-stratify to population counts (see :func:`analysis.weighting.poststratify`)."""
        from analysis.weighting import poststratify

        return poststratify(self, by, totals)

    def rake(
        self,
        margins: Mapping[str | tuple[str, ...], Mapping[Hashable, float]],
        *,
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> SurveyDesign:
        """Rake to several margins (see :func:`analysis.weighting.rake`)."""
        from analysis.weighting import rake

        return rake(self, margins, max_iter=max_iter, tol=tol)

    def trim_weights(
        self, *, upper: float = np.inf, lower: float = -np.inf, strict: bool = False
    ) -> SurveyDesign:
        """Trim weights and redistribute (see :func:`analysis.weighting.trim_weights`)."""
        from analysis.weighting import trim_weights

        return trim_weights(self, upper=upper, lower=lower, strict=strict)

    def weight_diagnostics(self) -> WeightDiagnostics:
        """Kish design effect, effective n and CV of the weights."""
        from analysis.weighting import weight_diagnostics

        return weight_diagnostics(self.weights)

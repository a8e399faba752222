"""The declared sample: strata, clusters (PSUs), weights, fpc, lonely-PSU policy, calibrations.

:class:`DesignBase` holds what every estimator, variance and weighting function reads; it has
no estimator methods, so those modules can import it without importing them back.
:class:`analysis.design.SurveyDesign` adds the thin methods (``mean``, ``rake``, ...) that call
the free functions.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 5 (stratified sampling).
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., ch. 3, 5 and 9.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2-3.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
import pandas as pd

from analysis._checks import (
    FloatArray,
    IntArray,
    check_choice,
    check_weights,
    numeric_column,
    require_columns,
)
from analysis.greg import CalibrationStep

__all__ = ["LONELY_PSU_OPTIONS", "CalibrationStep", "DesignBase", "LonelyPSU"]

LonelyPSU = Literal["fail", "adjust", "remove", "certainty", "average"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "adjust", "remove", "certainty", "average")


class DesignBase:
    """A stratified (optionally clustered) sample with weights, as R's ``svydesign``.

    Use :class:`analysis.SurveyDesign`, which adds the estimator and weighting methods; the
    free functions accept either.

    Parameters: see :class:`analysis.SurveyDesign`.
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
            w = check_weights(numeric_column(self.data, weights, "weights"), "weights")
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
        if not np.isfinite(values).all() or (values <= 0).any():
            raise ValueError("fpc: must be positive, finite and not missing")
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

    def with_weights(
        self, weights: FloatArray, *, calibration: CalibrationStep | None = None
    ) -> Self:
        """Return the same design (same class) with other weights.

        Parameters
        ----------
        weights : ndarray
            New weight of each row. Variances treat them as fixed, except for the
            calibrations recorded on the design.
        calibration : CalibrationStep, optional
            The calibration that produced ``weights``, appended to :attr:`calibrations` so that
            variances use its GREG residuals (what :func:`analysis.weighting.poststratify` and
            :func:`analysis.weighting.rake` pass).
        """
        w = check_weights(weights, "weights")
        if w.shape != self.weights.shape:
            raise ValueError(f"weights: expected {self.weights.shape[0]} values, got {w.shape}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.weights = w
        if calibration is not None:
            new.calibrations = (*self.calibrations, calibration)
        return new

    def __repr__(self) -> str:
        """Summarise the design: rows, strata, PSUs, calibrations."""
        return (
            f"{type(self).__name__}(n={self.n}, strata={len(self.strata_labels)}, "
            f"psus={int(self.n_psu.sum())}, calibrations={len(self.calibrations)}, "
            f"lonely_psu={self.lonely_psu!r})"
        )

    @property
    def n(self) -> int:
        """Number of rows (respondents) in the design."""
        return len(self.data)

    def with_lonely_psu(self, lonely_psu: LonelyPSU) -> Self:
        """Return the same design with another lonely-PSU policy."""
        new = self.with_weights(self.weights)
        new.lonely_psu = check_choice(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
        return new

    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata among rows with non-zero weight."""
        keep = self.weights != 0
        return int(len(np.unique(self.psu_codes[keep])) - len(np.unique(self.strata_codes[keep])))

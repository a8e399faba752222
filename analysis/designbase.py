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

from collections.abc import Sequence
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
from analysis.stages import (
    Stage,
    fpc_values,
    nested_codes,
    next_stage,
    stage_columns,
    stage_fpc,
)

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
    stages: tuple[Stage, ...]

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        strata: str | Sequence[str | None] | None = None,
        weights: str | None = None,
        fpc: str | Sequence[str | None] | None = None,
        psu: str | Sequence[str | None] | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        if len(data) == 0:
            raise ValueError("data must have at least one row")
        self.lonely_psu = check_choice(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
        self.data = data.reset_index(drop=True)
        ids, strata_cols, fpc_cols = _stage_arguments(psu, strata, fpc)
        n = len(self.data)
        first_strata = strata_cols[0]
        if first_strata is None:
            self.strata_codes = np.zeros(n, dtype=np.int64)
            self.strata_labels = pd.Index([0])
        else:
            require_columns(self.data, [first_strata], "strata")
            if self.data[first_strata].isna().any():
                raise ValueError("strata: column has missing values")
            codes, labels = pd.factorize(self.data[first_strata], sort=True)
            self.strata_codes = codes.astype(np.int64)
            self.strata_labels = pd.Index(labels)
        h = self.strata_codes
        n_strata = len(self.strata_labels)
        first_psu = ids[0]
        if first_psu is None:
            self.has_psu = False
            self.psu_codes = np.arange(n, dtype=np.int64)
            self.psu_stratum = h.copy()
        else:
            require_columns(self.data, [first_psu], "psu")
            if self.data[first_psu].isna().any():
                raise ValueError("psu: column has missing values")
            ids_codes = pd.factorize(self.data[first_psu], sort=True)[0].astype(np.int64)
            self.has_psu = True  # PSUs nested in strata: sorted by (stratum, id)
            self.psu_codes, self.psu_stratum, _ = nested_codes(h, ids_codes)
        self.n_psu = np.bincount(self.psu_stratum, minlength=n_strata).astype(np.int64)
        given = {k: fpc_values(self.data, c, "fpc") for k, c in enumerate(fpc_cols) if c}
        # as R's as.fpc: sampling fractions when every value of every stage is <= 1
        fraction = bool(given) and all(bool((v <= 1).all()) for v in given.values())
        pop: FloatArray | None = None
        self.fpc_factor = np.ones(n_strata)
        first_fraction = np.zeros(n_strata)  # n/N of each stratum (0: no fpc, R's Inf)
        if 0 in given:
            pop = stage_fpc(given[0], h, n_strata, self.n_psu, fraction=fraction, name="fpc")
            self.fpc_factor = (pop - self.n_psu) / pop
            first_fraction = self.n_psu / pop
        self.stages = ()
        if given and len(ids) > 1:  # R recurses only when an fpc is given (popsize not NULL)
            self.stages = self._later_stages(ids, strata_cols, given, first_fraction, fraction)
        if weights is not None:
            w = check_weights(numeric_column(self.data, weights, "weights"), "weights")
        elif given and len(given) < len(ids):
            raise ValueError(
                "weights: give the weights when a stage has no fpc "
                "(the default weights are the product over the stages of N/n)"
            )
        elif pop is not None:
            w = (pop / self.n_psu)[h]
            for stage in self.stages:
                w = w / stage.group_fraction[stage.unit_group[stage.unit_codes]]
        else:
            w = np.ones(n)
        self.weights = w
        self.calibrations = ()

    def _later_stages(
        self,
        ids: list[str | None],
        strata_cols: list[str | None],
        fpc: dict[int, FloatArray],
        first_fraction: FloatArray,
        fraction: bool,
    ) -> tuple[Stage, ...]:
        stages: list[Stage] = []
        parent_units = self.psu_codes
        parent_fraction = first_fraction[self.psu_stratum]
        for k in range(1, len(ids)):
            stage = next_stage(
                self.data,
                k + 1,
                parent_units,
                parent_fraction,
                strata=strata_cols[k],
                ids=ids[k],
                fpc=fpc.get(k),
                fraction=fraction,
            )
            stages.append(stage)
            parent_units = stage.unit_codes
            parent_fraction = stage.unit_fraction()
        return tuple(stages)

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

    @property
    def multistage(self) -> bool:
        """Whether variances add stages below the first (several stages and an fpc given)."""
        return bool(self.stages)

    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata among rows with non-zero weight."""
        keep = self.weights != 0
        return int(len(np.unique(self.psu_codes[keep])) - len(np.unique(self.strata_codes[keep])))


def _stage_arguments(
    psu: str | Sequence[str | None] | None,
    strata: str | Sequence[str | None] | None,
    fpc: str | Sequence[str | None] | None,
) -> tuple[list[str | None], list[str | None], list[str | None]]:
    """One id column, stratum column and fpc column (or ``None``) per stage.

    ``psu`` gives the stages (a list: one id column per stage, the last may be ``None`` for
    "each row"); ``strata`` may list fewer stages than ``psu`` (the others are not
    stratified); ``fpc``, when given for a design of several stages, needs one entry per stage
    (``None``: no fpc at that stage), as R's ``svydesign(fpc = ~N1 + N2)``.
    """
    ids = stage_columns(psu, "psu", allow_none=True) or [None]
    if any(c is None for c in ids[:-1]):
        raise ValueError("psu: only the last stage may be None (each row is a unit)")
    strata_cols = stage_columns(strata, "strata", allow_none=True) or [None]
    if len(strata_cols) > len(ids):
        raise ValueError(
            f"strata: {len(strata_cols)} stages of strata for {len(ids)} stages of psu"
        )
    strata_cols += [None] * (len(ids) - len(strata_cols))
    fpc_cols = stage_columns(fpc, "fpc", allow_none=True) or [None] * len(ids)
    if len(fpc_cols) != len(ids):
        raise ValueError(
            f"fpc: give one column (or None) per stage: {len(ids)} stages, "
            f"{len(fpc_cols)} fpc column(s)"
        )
    return ids, strata_cols, fpc_cols

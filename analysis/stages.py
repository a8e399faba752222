"""Sampling stages below the first: the declared structure of a multistage design.

A design declared with one id column per stage (R ``svydesign(ids = ~psu + ssu, strata =
~st1 + st2, fpc = ~N1 + N2)``) keeps its first stage in :class:`analysis.designbase.DesignBase`
(``strata_codes``, ``psu_codes``, ``n_psu``, ``fpc_factor``) and every later stage ``k`` here,
as one :class:`Stage`: the units of stage ``k`` (nested in their stage ``k - 1`` unit), their
strata inside each stage ``k - 1`` unit (a stratum of stage ``k`` is a pair (parent unit,
stratum value), as R's ``interaction(strata[, k], ids[, k - 1])``), the number of units sampled
in each such stratum, its fpc factor ``1 - n/N`` and the product of the sampling fractions
``n/N`` of the stages above it, by which R's ``multistage()`` multiplies its variance.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 10-11 (multistage sampling).
Lumley, T. (2010). *Complex Surveys*, sec. 3.2 and appendix C (R's ``multistage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._checks import FloatArray, IntArray, numeric_column, require_columns

__all__ = [
    "ObjectArray",
    "Stage",
    "fpc_values",
    "nested_codes",
    "next_stage",
    "stage_columns",
    "stage_fpc",
]

ObjectArray = npt.NDArray[np.object_]  # labels (ids and stratum values may be any value)


@dataclass(frozen=True, eq=False, repr=False)
class Stage:
    """One sampling stage below the first (stage 2, 3, ...).

    Attributes
    ----------
    number : int
        The stage (2 for the second).
    unit_codes : ndarray of int
        Per row: its unit at this stage (``0 .. n_units - 1``, nested in the units above).
    unit_group : ndarray of int
        Per unit: its stratum at this stage (``0 .. n_groups - 1``), a pair (unit of the stage
        above, stratum value).
    group_parent : ndarray of int
        Per stratum: the unit of the stage above it lies in.
    group_size : ndarray of int
        Per stratum: the units sampled in it (``n``).
    group_fpc : ndarray of float
        Per stratum: ``1 - n/N`` (1 without fpc at this stage, R's ``fpc = Inf``).
    group_fraction : ndarray of float
        Per stratum: ``n/N`` (0 without fpc).
    group_scale : ndarray of float
        Per stratum: the product of the sampling fractions of the units above it, the factor
        of its variance in R's ``multistage()``.
    group_stratum : ndarray of object, optional
        Per stratum: the stratum value (``None``: this stage is not stratified).
    unit_ids : ndarray of object, optional
        Per unit: its id value (``None``: each row is a unit).
    """

    number: int
    unit_codes: IntArray
    unit_group: IntArray
    group_parent: IntArray
    group_size: IntArray
    group_fpc: FloatArray
    group_fraction: FloatArray
    group_scale: FloatArray
    group_stratum: ObjectArray | None
    unit_ids: ObjectArray | None

    def __repr__(self) -> str:
        """Summarise the stage: its number, units and strata."""
        return f"Stage(number={self.number}, units={self.n_units}, strata={self.n_groups})"

    @property
    def n_units(self) -> int:
        """Number of units sampled at this stage."""
        return len(self.unit_group)

    @property
    def n_groups(self) -> int:
        """Number of strata of this stage (pairs of a unit above and a stratum value)."""
        return len(self.group_size)

    def unit_fraction(self) -> FloatArray:
        """Per unit: the factor its own sub-stages get, ``group_scale * n/N`` of its stratum."""
        g = self.unit_group
        return np.asarray(self.group_scale[g] * self.group_fraction[g], dtype=np.float64)


def stage_columns(
    value: str | Sequence[str | None] | None, name: str, *, allow_none: bool
) -> list[str | None]:
    """A column, or one column (or ``None``) per stage, as a list (``None``: empty list)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    cols = list(value)
    if not cols:
        raise ValueError(f"{name}: give at least one column")
    for c in cols:
        if c is None and allow_none:
            continue
        if not isinstance(c, str):
            raise TypeError(f"{name}: each stage needs a column name, got {c!r}")
    return cols


def stage_fpc(
    values: FloatArray,
    groups: IntArray,
    n_groups: int,
    sampled: IntArray,
    *,
    fraction: bool,
    name: str,
) -> FloatArray:
    """Population size ``N`` per stratum from an fpc column (``N``, or ``n/N`` if ``fraction``).

    Raises ``ValueError`` naming ``name`` when the column varies within a stratum or gives
    fewer units than were sampled.
    """
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, groups, values)
    np.maximum.at(hi, groups, values)
    if not np.allclose(lo, hi):
        raise ValueError(f"{name}: must be constant within each stratum")
    pop = sampled / lo if fraction else lo
    if (pop < sampled - 1e-9).any():
        raise ValueError(f"{name}: population size smaller than the number of sampled units")
    return np.asarray(pop, dtype=np.float64)


def fpc_values(data: pd.DataFrame, col: str, name: str) -> FloatArray:
    """An fpc column: positive, finite, not missing (``ValueError`` naming ``name``)."""
    values = numeric_column(data, col, name)
    if not np.isfinite(values).all() or (values <= 0).any():
        raise ValueError(f"{name}: must be positive, finite and not missing")
    return values


def _factor(data: pd.DataFrame, col: str, name: str) -> tuple[IntArray, ObjectArray]:
    require_columns(data, [col], name)
    if data[col].isna().any():
        raise ValueError(f"{name}: column {col!r} has missing values")
    codes, labels = pd.factorize(data[col], sort=True)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def nested_codes(outer: IntArray, inner: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Codes of the distinct pairs ``(outer, inner)`` of integer codes, in sorted order, with
    the ``outer`` and ``inner`` code of each pair (hashing, no sort of every row)."""
    width = int(inner.max()) + 1 if len(inner) else 1
    codes, uniq = pd.factorize(outer * width + inner, sort=True)
    keys = np.asarray(uniq, dtype=np.int64)
    return codes.astype(np.int64), keys // width, keys % width


def next_stage(
    data: pd.DataFrame,
    number: int,
    parent_units: IntArray,
    parent_fraction: FloatArray,
    *,
    strata: str | None,
    ids: str | None,
    fpc: FloatArray | None,
    fraction: bool,
) -> Stage:
    """Build stage ``number`` below units ``parent_units`` (one code per row).

    ``parent_fraction`` is the factor of each parent unit (:meth:`Stage.unit_fraction`, or
    ``n/N`` of its stratum for the first stage); ``fpc`` the stage's fpc column (``None``:
    none, R's ``Inf``).
    """
    if strata is None:
        group_of_row = parent_units
        group_parent = np.arange(len(parent_fraction), dtype=np.int64)
        group_stratum = None
    else:
        s_codes, s_labels = _factor(data, strata, f"strata (stage {number})")
        group_of_row, group_parent, s_of_group = nested_codes(parent_units, s_codes)
        group_stratum = s_labels[s_of_group]
    n_groups = len(group_parent)
    if ids is None:
        unit_codes = np.arange(len(data), dtype=np.int64)
        unit_group = group_of_row.copy()
        unit_ids = None
    else:
        i_codes, i_labels = _factor(data, ids, f"psu (stage {number})")
        unit_codes, unit_group, i_of_unit = nested_codes(group_of_row, i_codes)
        unit_ids = i_labels[i_of_unit]
    size = np.bincount(unit_group, minlength=n_groups).astype(np.int64)
    if fpc is None:
        f = np.ones(n_groups)
        frac = np.zeros(n_groups)
    else:
        pop = stage_fpc(
            fpc, group_of_row, n_groups, size, fraction=fraction, name=f"fpc (stage {number})"
        )
        f = (pop - size) / pop
        frac = size / pop
    return Stage(
        number=number,
        unit_codes=unit_codes,
        unit_group=unit_group,
        group_parent=group_parent,
        group_size=size,
        group_fpc=np.asarray(f, dtype=np.float64),
        group_fraction=np.asarray(frac, dtype=np.float64),
        group_scale=np.asarray(parent_fraction[group_parent], dtype=np.float64),
        group_stratum=group_stratum,
        unit_ids=unit_ids,
    )

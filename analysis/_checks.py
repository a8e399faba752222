"""Input validation helpers shared by the analysis modules (errors name the argument)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def as_columns(value: str | Sequence[str] | None, name: str) -> list[str]:
    """Return ``value`` as a list of column names (``None`` gives an empty list).

    Raises ``TypeError`` for anything but names and ``ValueError`` for a repeated name.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    cols = list(value)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise TypeError(f"{name} must be a column name or a non-empty list of column names")
    repeated = sorted({c for c in cols if cols.count(c) > 1})
    if repeated:  # an item listed twice would count twice (or break the item weights)
        raise ValueError(f"{name}: column(s) {repeated} listed more than once")
    return cols


def require_columns(data: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    """Raise ``KeyError`` naming ``name`` when a column is missing from ``data``."""
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise KeyError(f"{name}: column(s) {missing} not found in the data")


def numeric_column(data: pd.DataFrame, col: str, name: str) -> FloatArray:
    """Return a column as float64 with NaN for missing values."""
    require_columns(data, [col], name)
    try:
        out = pd.to_numeric(data[col], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: column {col!r} must be numeric") from exc
    return np.asarray(out, dtype=np.float64)


def check_alpha(alpha: float) -> float:
    """Validate a significance level in (0, 1)."""
    try:
        a = float(alpha)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}") from exc
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return a


def check_choice(value: Any, choices: Sequence[str], name: str) -> str:
    """Validate that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def group_codes(data: pd.DataFrame, cols: list[str]) -> tuple[IntArray, pd.DataFrame]:
    """Factorise ``cols`` into sorted group codes; rows with a missing key get -1.

    Returns the codes and a frame of the group keys (one row per code).
    """
    if not cols:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    grouped = data.groupby(cols, sort=True, dropna=True, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.float64, na_value=-1.0).astype(np.int64)
    keys = grouped.size().reset_index()[cols]
    return codes, keys.reset_index(drop=True)


def check_weights(w: FloatArray, name: str) -> FloatArray:
    """Validate weights: finite and non-negative (``ValueError`` naming ``name``)."""
    w = np.asarray(w, dtype=np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name}: must be finite, non-negative and not missing")
    return w

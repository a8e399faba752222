"""Additive partial sums of the two-pass estimators: column names and how partials add.

Every column of the frames of :mod:`analysis.twopass` is a sum or a count, except
``population`` (``N_h``, a constant of the stratum), so the results of a partition of the data
that keeps every PSU whole (days, provinces, shards) add up row by row on the other columns
(the keys: domain columns, ``item_id``, ``stratum``).

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, appendix C.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._checks import IntArray

SUM_COLUMNS = frozenset({"n", "sum_w", "sum_wy", "psus", "sum_z", "sum_z2", "sum_wu2", "n_psu"})
CONSTANT_COLUMNS = frozenset({"population"})
RESERVED = SUM_COLUMNS | CONSTANT_COLUMNS | {"item_id", "stratum", "psu", "coef", "centre"}


def domain_positions(keys: pd.DataFrame, frame: pd.DataFrame, by: list[str]) -> IntArray:
    """Row of ``keys`` holding the domain of each row of ``frame`` (``-1``: not found)."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64)
    index = pd.MultiIndex.from_frame(keys[by])
    found = index.get_indexer(pd.MultiIndex.from_frame(frame[by]))
    return np.asarray(found, dtype=np.int64)


def with_keys(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` whose domain keys are all present (a missing key: no domain)."""
    if not by:
        return frame
    return frame[frame[by].notna().all(axis=1).to_numpy()]


def combine_partials(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Add the sums of partitions (days, provinces, shards) that keep every PSU whole.

    Works for each kind of frame of the two passes (``item_totals``, ``domain_totals``,
    ``stratum_totals``, ``strata``): rows with the same keys (every column that is not a sum)
    are added; ``population`` must agree across the frames of a stratum.

    Parameters
    ----------
    frames : sequence of pandas.DataFrame
        Frames of one kind, with the same columns.

    Returns
    -------
    pandas.DataFrame
        One row per key, sorted by the keys, the columns in the order of the first frame.
    """
    parts = list(frames)
    if not parts:
        raise ValueError("frames: nothing to combine")
    cols = list(parts[0].columns)
    if any(set(p.columns) != set(cols) for p in parts):
        raise ValueError("frames: every partial must have the same columns")
    sums = [c for c in cols if c in SUM_COLUMNS]
    consts = [c for c in cols if c in CONSTANT_COLUMNS]
    keys = [c for c in cols if c not in SUM_COLUMNS and c not in CONSTANT_COLUMNS]
    if not sums:
        raise ValueError(f"frames: no sum column (one of {sorted(SUM_COLUMNS)})")
    data = pd.concat(parts, ignore_index=True)
    if not keys:
        return data[sums].sum().to_frame().T[cols]
    grouped = data.groupby(keys, sort=True, dropna=False, observed=True)
    out = grouped[sums].sum()
    for c in consts:
        if (grouped[c].nunique(dropna=False) > 1).any():
            raise ValueError(f"frames: {c!r} differs between partials of the same {keys}")
        out[c] = grouped[c].first()
    return out.reset_index()[cols]

"""Pass 1 of the two-pass estimators: point estimates and linearisation coefficients.

See :mod:`analysis.twopass` for the SQL and the whole procedure. From the per (domain, item)
sums ``X_dk = sum w r_ik``, ``Y_dk = sum w r_ik y_ik`` and the per-domain ``n``, ``sum w``
this module gives the estimates (the satisfaction index ``sum_k a_k Y_dk / X_dk`` renormalised
over the items with data, as :func:`analysis.indices.satisfaction_index`; the pooled index
``sum_k Y_dk / sum_k X_dk``, as :func:`analysis.indices.pooled_index`) and, per (domain,
item), the coefficients of the linearised variable (Woodruff 1971) that pass 2 sums in SQL.

References
----------
Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., sec. 9.1 (linearisation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis._checks import (
    BoolArray,
    FloatArray,
    as_columns,
    check_choice,
    group_codes,
    require_columns,
)
from analysis.indices import normalized_item_weights, renormalization
from analysis.partials import RESERVED, domain_positions, with_keys

TwoPassStatistic = Literal["satisfaction_index", "pooled_index", "mean_score", "mean"]
STATISTICS: tuple[str, ...] = ("satisfaction_index", "pooled_index", "mean_score", "mean")


@dataclass(frozen=True)
class PassOne:
    """Pass 1 read into arrays: domains, items and what the point estimates need.

    ``coef`` and ``centre`` have one row per domain and one column per item (``items``);
    ``present[d, k]`` tells whether item ``k`` has valid answers in domain ``d``.
    """

    keys: pd.DataFrame
    items: tuple[str, ...]
    n: FloatArray
    sum_w: FloatArray
    estimate: FloatArray
    coef: FloatArray
    centre: FloatArray
    present: BoolArray
    missing_children: tuple[tuple[str, ...], ...]


def _children(
    cols: list[str], statistic: str, item_weights: Mapping[str, float] | None
) -> tuple[list[str], FloatArray]:
    """Items that enter the estimate and their weights (pooled statistics: all ones)."""
    if statistic == "satisfaction_index":
        weights = normalized_item_weights(cols, item_weights)
        return list(weights), np.array(list(weights.values()), dtype=np.float64)
    if item_weights is not None:
        raise ValueError(f"item_weights: not used by statistic={statistic!r}")
    if statistic == "mean" and len(cols) != 1:
        raise ValueError("items: statistic='mean' takes exactly one item")
    return cols, np.ones(len(cols))


def _item_matrix(
    item_totals: pd.DataFrame, keys: pd.DataFrame, by: list[str], children: list[str]
) -> tuple[FloatArray, FloatArray]:
    """``X[d, k] = sum w r`` and ``Y[d, k] = sum w r y`` (repeated rows, i.e. partials, add)."""
    require_columns(item_totals, [*by, "item_id", "sum_w", "sum_wy"], "item_totals")
    item_totals = with_keys(item_totals, by)
    k = pd.Index(children).get_indexer(pd.Index(item_totals["item_id"]))
    if (k < 0).any():
        bad = sorted({str(i) for i in item_totals["item_id"][k < 0]})
        raise ValueError(
            f"item_totals: items {bad} are not items of the estimate with positive weight; "
            "run pass 1 over those items only (n would count respondents who answered others)"
        )
    d = domain_positions(keys, item_totals, by)
    if (d < 0).any():
        raise ValueError("item_totals: domains not found in domain_totals")
    shape = (len(keys), len(children))
    x = np.zeros(shape)
    y = np.zeros(shape)
    np.add.at(x, (d, k), item_totals["sum_w"].to_numpy(np.float64))
    np.add.at(y, (d, k), item_totals["sum_wy"].to_numpy(np.float64))
    return x, y


def read_pass_one(
    item_totals: pd.DataFrame,
    domain_totals: pd.DataFrame,
    items: str | Sequence[str],
    *,
    statistic: TwoPassStatistic = "satisfaction_index",
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
) -> PassOne:
    """Point estimates and linearisation coefficients from the pass-1 sums.

    Shared by :func:`twopass_point_estimates`, :func:`linearization_coefficients` and
    :func:`twopass_estimates`; parameters as :func:`twopass_estimates`.
    """
    check_choice(statistic, STATISTICS, "statistic")
    cols = as_columns(items, "items")
    by_cols = as_columns(by, "by")
    clash = sorted(set(by_cols) & RESERVED)
    if clash:
        raise ValueError(f"by: column names {clash} are reserved for the sums")
    children, a = _children(cols, statistic, item_weights)
    require_columns(domain_totals, [*by_cols, "n", "sum_w"], "domain_totals")
    codes, keys = group_codes(domain_totals, by_cols)
    inside = codes >= 0
    n = np.bincount(codes[inside], domain_totals["n"].to_numpy(np.float64)[inside], len(keys))
    sw = np.bincount(codes[inside], domain_totals["sum_w"].to_numpy(np.float64)[inside], len(keys))
    x, y = _item_matrix(item_totals, keys, by_cols, children)
    present = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic in ("pooled_index", "mean_score"):
            x_d = x.sum(axis=1)
            est = y.sum(axis=1) / x_d
            coef = np.where(present, 1.0 / x_d[:, None], 0.0)
            centre = np.where(present, est[:, None], 0.0)
            missing: tuple[tuple[str, ...], ...] = ()
        else:
            factor, missing = renormalization(children, a, present)
            p = np.where(present, y / x, 0.0)
            est = (a * p).sum(axis=1) * factor
            coef = np.where(present, a / x * factor[:, None], 0.0)
            centre = p
    return PassOne(
        keys=keys,
        items=tuple(children),
        n=np.asarray(n, dtype=np.float64),
        sum_w=np.asarray(sw, dtype=np.float64),
        estimate=np.asarray(est, dtype=np.float64),
        coef=np.asarray(coef, dtype=np.float64),
        centre=np.asarray(centre, dtype=np.float64),
        present=present,
        missing_children=() if statistic == "mean" else missing,
    )


def twopass_point_estimates(
    item_totals: pd.DataFrame,
    domain_totals: pd.DataFrame,
    items: str | Sequence[str],
    *,
    statistic: TwoPassStatistic = "satisfaction_index",
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Point estimates from pass 1 alone (no standard errors).

    Returns
    -------
    pandas.DataFrame
        The ``by`` keys, ``estimate``, ``n`` (respondents with a valid answer), ``sum_weights``,
        ``partial`` (items without data in the domain; the index is renormalised over the
        others) and ``missing_children``. Parameters as :func:`twopass_estimates`.
    """
    one = read_pass_one(
        item_totals, domain_totals, items, statistic=statistic, item_weights=item_weights, by=by
    )
    out = one.keys.copy()
    out["estimate"] = one.estimate
    out["n"] = one.n
    out["sum_weights"] = one.sum_w
    missing = one.missing_children or ((),) * len(one.keys)
    out["partial"] = [bool(m) for m in missing]
    out["missing_children"] = list(missing)
    return out


def linearization_coefficients(
    item_totals: pd.DataFrame,
    domain_totals: pd.DataFrame,
    items: str | Sequence[str],
    *,
    statistic: TwoPassStatistic = "satisfaction_index",
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per (domain, item), what pass 2 needs to linearise each respondent inside SQL.

    The linearised value of respondent ``i`` of domain ``d`` is
    ``u_i = sum_k coef_dk r_ik (y_ik - centre_dk)`` (Woodruff 1971): for the index
    ``coef_dk = a~_k / X_dk`` with the item weights ``a~`` renormalised over the items with data
    in ``d`` and ``centre_dk = P_dk``; for ``pooled_index``/``mean_score``
    ``coef_dk = 1 / sum_k X_dk`` and ``centre_dk`` the domain's estimate. Only items with data
    in the domain get a row (the others have no answer to join).

    Parameters
    ----------
    item_totals, domain_totals : pandas.DataFrame
        Pass 1 (combined over the partitions); see :func:`twopass_estimates`.
    items, statistic, item_weights, by
        As :func:`twopass_estimates`.

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` keys, ``item_id``, ``coef``, ``centre``; upload it as the table
        ``coefficients`` of ``SQL_PASS2``.
    """
    one = read_pass_one(
        item_totals, domain_totals, items, statistic=statistic, item_weights=item_weights, by=by
    )
    d, k = np.nonzero(one.present)
    out = one.keys.iloc[d].reset_index(drop=True)
    out["item_id"] = np.asarray(one.items, dtype=object)[k]
    out["coef"] = one.coef[d, k]
    out["centre"] = one.centre[d, k]
    return out

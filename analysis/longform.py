"""The two passes of :mod:`analysis.twopass` computed in memory from long-format microdata.

What the SQL of :mod:`analysis.twopass` returns, for data that is already in memory (tests,
benchmarks, or an engine reached through data frames). Inputs are the same tables:
``answers(response_id, item_id, value)`` (``value`` NaN: not applicable) and
``responses(response_id, stratum, psu, weight, <by columns>)`` with every respondent of the
design. :func:`long_format` makes them from a :class:`analysis.SurveyDesign`. The ``GROUP BY``
over answers runs as ``numpy.bincount`` on integer codes, block by block (the blocks' sums add
up like any partition's), the PSU and stratum sums as pandas ``groupby``.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, appendix C.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._checks import (
    FloatArray,
    IntArray,
    as_columns,
    group_codes,
    numeric_column,
    require_columns,
)
from analysis.designbase import DesignBase
from analysis.partials import domain_positions

_BLOCK = 1 << 21  # answers per block: small temporaries instead of one 20-million-row pass


def long_format(
    design: DesignBase, items: str | Sequence[str], *, by: str | Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A design's data as the tables of the SQL: ``answers``, ``responses`` and ``strata``.

    ``answers`` has one row per respondent and item (``value`` NaN where the wide column is
    missing); ``responses`` the row number as ``response_id``, ``stratum``, ``psu`` (the row
    number without clusters), ``weight`` and the ``by`` columns; ``strata`` has ``stratum``,
    ``n_psu`` and ``population`` (``N_h``; NaN without fpc).
    """
    if design.calibrations:
        raise ValueError("design: the two-pass sums do not cover calibrated designs")
    if design.multistage:
        raise ValueError(
            "design: the two-pass sums cover the first stage only, not multistage designs"
        )
    cols = as_columns(items, "items")
    by_cols = as_columns(by, "by")
    require_columns(design.data, by_cols, "by")
    n = design.n
    ids = np.arange(n, dtype=np.int64)
    values = np.column_stack([numeric_column(design.data, c, "items") for c in cols])
    answers = pd.DataFrame(
        {
            "response_id": np.repeat(ids, len(cols)),
            "item_id": pd.Categorical.from_codes(np.tile(np.arange(len(cols)), n), pd.Index(cols)),
            "value": values.ravel(),
        }
    )
    responses = pd.DataFrame(
        {
            "response_id": ids,
            "stratum": design.strata_labels[design.strata_codes],
            "psu": design.psu_codes if design.has_psu else ids,
            "weight": design.weights,
        }
    )
    for c in by_cols:
        responses[c] = design.data[c].to_numpy()
    f = design.fpc_factor
    with np.errstate(divide="ignore"):
        pop = np.where(f < 1, design.n_psu / (1.0 - f), np.nan)
    strata = pd.DataFrame(
        {"stratum": design.strata_labels, "n_psu": design.n_psu, "population": pop}
    )
    return answers, responses, strata


def _item_codes(item_id: pd.Series, items: list[str]) -> IntArray:
    """Position of each answer's item in ``items`` (-1: another item); fast for categoricals."""
    index = pd.Index(items)
    if isinstance(item_id.dtype, pd.CategoricalDtype):
        known = np.append(index.get_indexer(item_id.cat.categories), -1)
        return np.asarray(known[item_id.cat.codes.to_numpy()], dtype=np.int64)
    return np.asarray(index.get_indexer(pd.Index(item_id)), dtype=np.int64)


def _locator(responses: pd.DataFrame) -> Callable[[npt.NDArray[Any]], IntArray]:
    """Maps response ids to rows of ``responses`` (``-1``: unknown); a table for small ints."""
    ids = responses["response_id"].to_numpy()
    if not (ids.dtype.kind in "iu" and len(ids) and ids.min() >= 0 and ids.max() < 4 * len(ids)):
        index = pd.Index(ids)
        if not index.is_unique:
            raise ValueError("responses: response_id must be unique")
        return lambda asked: np.asarray(index.get_indexer(pd.Index(asked)), dtype=np.int64)
    table = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    table[ids] = np.arange(len(ids))
    if not (table[ids] == np.arange(len(ids))).all():
        raise ValueError("responses: response_id must be unique")

    def locate(asked: npt.NDArray[Any]) -> IntArray:
        if asked.dtype.kind in "iu" and len(asked) and asked.min() >= 0:
            if asked.max() < len(table):
                return np.asarray(table[asked], dtype=np.int64)
        inside = (asked >= 0) & (asked < len(table))
        return np.asarray(np.where(inside, table[np.where(inside, asked, 0)], -1), dtype=np.int64)

    return locate


def _scored(
    answers: pd.DataFrame,
    locate: Callable[[npt.NDArray[Any]], IntArray],
    items: list[str],
    threshold: float | None,
) -> Iterator[tuple[IntArray, IntArray, FloatArray]]:
    """Valid answers to ``items`` by blocks: respondent row, item position and ``y``.

    ``y`` is the indicator ``value >= threshold`` or, with ``threshold=None``, the score.
    Blocks of ``_BLOCK`` answers keep the temporaries small (and the peak memory low).
    """
    require_columns(answers, ["response_id", "item_id", "value"], "answers")
    for start in range(0, max(len(answers), 1), _BLOCK):
        block = answers.iloc[start : start + _BLOCK]
        k = _item_codes(block["item_id"], items)
        value = numeric_column(block, "value", "answers")
        keep = (k >= 0) & ~np.isnan(value)
        pos = locate(block["response_id"].to_numpy()[keep])
        if (pos < 0).any():
            raise ValueError("answers: response_id not found in responses")
        v = value[keep]
        y = (v >= threshold).astype(np.float64) if threshold is not None else v
        yield pos, k[keep], y


def _group_sums(
    key: IntArray, size: int, *values: FloatArray
) -> tuple[IntArray, IntArray, list[FloatArray]]:
    """``GROUP BY key`` for keys in ``[0, size)``: keys present, row counts, sums of values."""
    if size > 8 * len(key) + (1 << 20):  # sparse keys: sort instead of dense bins
        cells, inv = np.unique(key, return_inverse=True)
        inv = inv.ravel()
        count = np.bincount(inv, minlength=len(cells))
        sums = [np.asarray(np.bincount(inv, v, len(cells)), dtype=np.float64) for v in values]
        return np.asarray(cells, dtype=np.int64), np.asarray(count, dtype=np.int64), sums
    count = np.bincount(key, minlength=size)
    cells = np.nonzero(count)[0]
    sums = [np.asarray(np.bincount(key, v, size)[cells], dtype=np.float64) for v in values]
    return np.asarray(cells, dtype=np.int64), np.asarray(count[cells], dtype=np.int64), sums


def _responses(responses: pd.DataFrame, by: list[str]) -> tuple[IntArray, pd.DataFrame, FloatArray]:
    require_columns(responses, ["response_id", "stratum", "psu", "weight", *by], "responses")
    dom, keys = group_codes(responses, by)
    return dom, keys, numeric_column(responses, "weight", "responses")


def pass1_totals(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    items: str | Sequence[str],
    *,
    threshold: float | None = 4,
    by: str | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pass 1 (``SQL_PASS1_ITEMS`` and ``SQL_PASS1_DOMAINS``): item and domain totals.

    ``items`` are the items of the estimate with positive weight (``index_items``);
    ``threshold=None`` sums scores instead of indicators of ``value >= threshold``.
    """
    cols = as_columns(items, "items")
    by_cols = as_columns(by, "by")
    dom, keys, w = _responses(responses, by_cols)
    answered = np.zeros(len(responses), dtype=bool)
    size = len(keys) * len(cols)
    parts = []
    for pos, k, y in _scored(answers, _locator(responses), cols, threshold):
        answered[pos] = True
        d = dom[pos]
        wa = w[pos]
        keep = (d >= 0) & (wa != 0)
        wa = wa[keep]
        cells, count, sums = _group_sums(d[keep] * len(cols) + k[keep], size, wa, wa * y[keep])
        parts.append((cells, [count.astype(np.float64), *sums]))
    key = np.concatenate([p[0] for p in parts])  # the blocks' partial sums, added
    partial = [np.concatenate([p[1][i] for p in parts]) for i in range(3)]
    cells, _, (n, sum_w, sum_wy) = _group_sums(key, size, *partial)
    item_totals = keys.iloc[cells // len(cols)].reset_index(drop=True)
    item_totals["item_id"] = np.asarray(cols, dtype=object)[cells % len(cols)]
    item_totals["n"] = n.astype(np.int64)
    item_totals["sum_w"], item_totals["sum_wy"] = sum_w, sum_wy
    inside = dom >= 0
    domains, _, (n_d, sw_d) = _group_sums(
        dom[inside],
        len(keys),
        (answered & (w != 0))[inside].astype(np.float64),
        np.where(answered, w, 0.0)[inside],
    )
    domain_totals = keys.iloc[domains].reset_index(drop=True)
    domain_totals["n"] = n_d.astype(np.int64)
    domain_totals["sum_w"] = sw_d
    return item_totals, domain_totals


def pass2_totals(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    coefficients: pd.DataFrame,
    *,
    threshold: float | None = 4,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Pass 2 (``SQL_PASS2``): per (domain, stratum) the sums over PSUs of ``z = sum w u``.

    ``coefficients`` as :func:`analysis.passone.linearization_coefficients` returns them.
    """
    by_cols = as_columns(by, "by")
    require_columns(coefficients, [*by_cols, "item_id", "coef", "centre"], "coefficients")
    dom, keys, w = _responses(responses, by_cols)
    items = [str(i) for i in pd.unique(coefficients["item_id"])]
    cd = domain_positions(keys, coefficients, by_cols)
    ck = pd.Index(items).get_indexer(pd.Index(coefficients["item_id"]))
    coef = np.zeros((len(keys), len(items)))
    centre = np.zeros_like(coef)
    has = np.zeros(coef.shape, dtype=bool)
    found = cd >= 0  # a domain without respondents here (another partition) joins nothing
    coef[cd[found], ck[found]] = coefficients["coef"].to_numpy(np.float64)[found]
    centre[cd[found], ck[found]] = coefficients["centre"].to_numpy(np.float64)[found]
    has[cd[found], ck[found]] = True
    u = np.zeros(len(responses))
    joined = np.zeros(len(responses), dtype=bool)
    for pos, k, y in _scored(answers, _locator(responses), items, threshold):
        d = dom[pos]
        keep = (d >= 0) & (w[pos] != 0)
        keep[keep] = has[d[keep], k[keep]]  # the inner join with the coefficients
        pos, d, k = pos[keep], d[keep], k[keep]
        u += np.bincount(pos, coef[d, k] * (y[keep] - centre[d, k]), len(responses))
        joined[pos] = True
    inside = joined
    resp = pd.DataFrame(
        {
            "d": dom[inside],
            "stratum": responses["stratum"].to_numpy()[inside],
            "psu": responses["psu"].to_numpy()[inside],
            "n": np.ones(int(inside.sum()), dtype=np.int64),
            "z": w[inside] * u[inside],
            "wu2": w[inside] * u[inside] ** 2,
        }
    )
    psu = resp.groupby(["d", "stratum", "psu"], sort=True)[["n", "z", "wu2"]].sum()
    psu["z2"] = psu["z"] ** 2
    g = psu.groupby(level=["d", "stratum"], sort=True).agg(
        n=("n", "sum"),
        psus=("n", "size"),
        sum_z=("z", "sum"),
        sum_z2=("z2", "sum"),
        sum_wu2=("wu2", "sum"),
    )
    g = g.reset_index()
    out = keys.iloc[g["d"].to_numpy()].reset_index(drop=True)
    for c in ("stratum", "n", "psus", "sum_z", "sum_z2", "sum_wu2"):
        out[c] = g[c].to_numpy()
    return out


def strata_table(
    responses: pd.DataFrame, population: Mapping[object, float] | pd.Series | None = None
) -> pd.DataFrame:
    """``SQL_STRATA``: per stratum the sampled PSUs (``n_psu``) and ``N_h`` (``population``)."""
    require_columns(responses, ["stratum", "psu"], "responses")
    n_psu = responses.groupby("stratum", sort=True)["psu"].nunique()
    pop = pd.Series(population if population is not None else {}, dtype=np.float64)
    out = pd.DataFrame({"stratum": n_psu.index, "n_psu": n_psu.to_numpy(np.int64)})
    out["population"] = pop.reindex(n_psu.index).to_numpy(np.float64)
    return out

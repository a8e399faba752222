"""Estimates from per-(stratum, PSU, domain) sums, so a database can do the summing.

Superseded by the two-pass sums of :mod:`analysis.twopass` (kept for the package API): this
one ``GROUP BY`` needs ``2 + 4k + 4k^2`` columns for ``k`` items (1,682 for 20 items, 4,490 for
33), and PostgreSQL refuses more than 1,664 columns; the two passes need a fixed number of
columns whatever ``k``, add up across partitions and also give ``pooled_index``/``mean_score``.

For an index over items ``j`` with answer indicator ``r_j`` and value ``y_j`` (1 when
satisfied, or the score), write ``v = (r_1 y_1, ..., r_J y_J, r_1, ..., r_J)``. The index
``sum_j a_j P_j``, its linearised variable ``z = w beta' v`` and its design effect depend on the
data only through, per cell (stratum, PSU when the design has PSUs, domain):

=================  ==================================================================
column             SQL
=================  ==================================================================
``n``              ``COUNT(*)`` of respondents who answered at least one item
``sw``             ``SUM(w)`` over those respondents
``w:{a}``          ``SUM(w * v_a)``
``w1:{a}:{b}``     ``SUM(w * v_a * v_b)`` (for ``a <= b``; design effect)
``w2:{a}:{b}``     ``SUM(w * w * v_a * v_b)`` (for ``a <= b``; variance without PSUs)
=================  ==================================================================

with ``v_a`` named ``y.{item}`` or ``r.{item}``, plus a strata table (``stratum``, ``n_psu``:
PSUs sampled in the stratum, ``population``: ``N_h`` or NaN). One ``GROUP BY stratum[, psu],
by...`` gives the cells; :func:`index_from_sufficient` then returns exactly the estimates of
:meth:`SurveyDesign.satisfaction_index` (and of ``mean`` for a single item with
``threshold=None``) for designs without calibration.

Example for two items ``q1``, ``q2`` with threshold 4, no PSUs, by agency (``v`` columns
``y.q1 = (q1 >= 4)``, ``y.q2``, ``r.q1 = (q1 IS NOT NULL)``, ``r.q2``; only respondents who
answered at least one item, with non-zero weight)::

    SELECT stratum, agency, COUNT(*) AS "n", SUM(w) AS "sw",
           SUM(w * y_q1) AS "w:y.q1", ...,
           SUM(w * y_q1 * r_q2) AS "w1:y.q1:r.q2", ...,
           SUM(w * w * y_q1 * r_q2) AS "w2:y.q1:r.q2", ...
    FROM (SELECT *, CASE WHEN q1 >= 4 THEN 1 ELSE 0 END AS y_q1,
                    CASE WHEN q1 IS NULL THEN 0 ELSE 1 END AS r_q1, ... FROM answers) a
    WHERE (q1 IS NOT NULL OR q2 IS NOT NULL) AND w <> 0
    GROUP BY stratum, agency

References
----------
Lohr, S. L. (2022). *Sampling*, sec. 9.1 (linearisation), 3.2 (stratified variance).
Lumley, T. (2010). *Complex Surveys*, sec. 2.2 and appendix C (``svyrecvar``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, as_columns, group_codes
from analysis.designbase import LONELY_PSU_OPTIONS, DesignBase
from analysis.domain import srs_variance_from_sums
from analysis.indices import normalized_item_weights, renormalization
from analysis.results import Estimates
from analysis.variance import combine_strata


def _names(items: list[str]) -> list[str]:
    return [f"y.{i}" for i in items] + [f"r.{i}" for i in items]


def sufficient_statistics(
    design: DesignBase,
    items: str | Sequence[str],
    *,
    threshold: float | None = 4,
    by: str | Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute the cell sums and the strata table from microdata (what SQL would return).

    Returns
    -------
    cells : pandas.DataFrame
        ``stratum``, ``psu`` (designs with PSUs), the ``by`` columns and the sums above.
    strata : pandas.DataFrame
        ``stratum``, ``n_psu``, ``population``.
    """
    if design.calibrations:
        raise ValueError("design: sufficient statistics do not cover calibrated designs")
    if design.multistage:
        raise ValueError(
            "design: sufficient statistics cover the first stage only, not multistage designs"
        )
    cols = as_columns(items, "items")
    by_cols = as_columns(by, "by")
    data = design.data
    scores = np.column_stack([pd.to_numeric(data[c]).to_numpy(np.float64) for c in cols])
    r = ~np.isnan(scores)
    y = (scores >= threshold) if threshold is not None else np.nan_to_num(scores)
    v = np.column_stack([np.where(r, y, 0.0), r.astype(np.float64)])
    codes, keys = group_codes(data, by_cols)
    keep = r.any(axis=1) & (codes >= 0) & (design.weights != 0)
    frame = pd.DataFrame({"stratum": design.strata_labels[design.strata_codes]})
    group = ["stratum"]
    if design.has_psu:
        frame["psu"] = design.psu_codes
        group.append("psu")
    for c in by_cols:
        frame[c] = data[c].to_numpy()
    w = design.weights
    names = _names(cols)
    sums: dict[str, FloatArray] = {"n": np.ones(len(w)), "sw": w}
    for a, name_a in enumerate(names):
        sums[f"w:{name_a}"] = w * v[:, a]
        for b in range(a, len(names)):
            vv = v[:, a] * v[:, b]
            sums[f"w1:{name_a}:{names[b]}"] = w * vv
            sums[f"w2:{name_a}:{names[b]}"] = w * w * vv
    values = pd.DataFrame(sums)
    cells = (
        pd.concat([frame, values], axis=1)[keep]
        .groupby(group + by_cols, sort=True, observed=True)
        .sum()
        .reset_index()
    )
    pop = design.n_psu / np.where(design.fpc_factor < 1, 1 - design.fpc_factor, np.nan)
    strata = pd.DataFrame(
        {"stratum": design.strata_labels, "n_psu": design.n_psu, "population": pop}
    )
    return cells, strata


def index_from_sufficient(
    cells: pd.DataFrame,
    strata: pd.DataFrame,
    items: str | Sequence[str],
    *,
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
    lonely_psu: str = "fail",
    is_proportion: bool = True,
) -> Estimates:
    """Satisfaction index (or mean score) by domain from the sums of :func:`sufficient_statistics`.

    Parameters
    ----------
    cells, strata : pandas.DataFrame
        As returned by :func:`sufficient_statistics` or by the equivalent SQL. ``cells`` has a
        ``psu`` column exactly when the design has PSUs.
    items, item_weights, by
        As :meth:`SurveyDesign.satisfaction_index`.
    lonely_psu : str
        As :class:`SurveyDesign`.
    is_proportion : bool
        False when the sums were made with ``threshold=None`` (mean scores).
    """
    if lonely_psu not in LONELY_PSU_OPTIONS:
        raise ValueError(f"lonely_psu must be one of {list(LONELY_PSU_OPTIONS)}")
    cols = as_columns(items, "items")
    weights = normalized_item_weights(cols, item_weights)
    a = np.array([weights.get(c, 0.0) for c in cols])
    by_cols = as_columns(by, "by")
    names = _names(cols)
    k = len(names)
    st_codes = pd.Index(strata["stratum"]).get_indexer(cells["stratum"])
    if (st_codes < 0).any():
        raise ValueError("cells: stratum not found in strata")
    dom, keys = group_codes(cells, by_cols)
    n_dom, ns = len(keys), len(strata)
    m1 = cells[[f"w:{x}" for x in names]].to_numpy(np.float64)
    n = np.bincount(dom, weights=cells["n"].to_numpy(np.float64), minlength=n_dom).astype(float)
    sw = np.bincount(dom, weights=cells["sw"].to_numpy(np.float64), minlength=n_dom).astype(float)
    tot = np.column_stack([np.bincount(dom, weights=m1[:, j], minlength=n_dom) for j in range(k)])
    j = len(cols)
    present = tot[:, j:] > 0
    factor, missing = renormalization(cols, a, present)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tot[:, :j] / tot[:, j:]
        c = a / tot[:, j:] * factor[:, None]
    # an item without answers in a domain is left out and the others renormalised (the rule
    # of analysis.indices.satisfaction_index); it has no row with r_j = 1, so adds nothing to z
    est = np.where((a > 0) & present, a * p, 0.0).sum(axis=1) * factor
    beta = np.nan_to_num(np.column_stack([c, -c * p]), nan=0.0, posinf=0.0, neginf=0.0)
    bc = beta[dom]
    key = dom * ns + st_codes
    has_psu = "psu" in cells.columns
    t = (bc * m1).sum(axis=1)
    if has_psu:
        s2_cell = t * t
    else:
        s2_cell = _quad(cells, names, "w2", bc)
    s1 = np.bincount(key, weights=t, minlength=n_dom * ns).astype(np.float64).reshape(n_dom, ns)
    s2 = np.bincount(key, weights=s2_cell, minlength=n_dom * ns).astype(np.float64)
    s2 = s2.reshape(n_dom, ns)
    present = np.bincount(key, minlength=n_dom * ns).reshape(n_dom, ns) > 0
    pop = strata["population"].to_numpy(np.float64)
    n_psu = strata["n_psu"].to_numpy(np.int64)
    fpc = np.where(np.isnan(pop), 1.0, (pop - n_psu) / np.where(np.isnan(pop), 1.0, pop))
    var = combine_strata(
        s1,
        s2,
        present,
        n_psu=n_psu,
        fpc_factor=fpc,
        lonely_psu=lonely_psu,
        labels=list(strata["stratum"]),
    )
    psus = np.bincount(dom, weights=np.ones(len(dom)) if has_psu else cells["n"], minlength=n_dom)
    df = psus - present.sum(axis=1)
    swu2 = np.bincount(dom, weights=_quad(cells, names, "w1", bc), minlength=n_dom) * sw**2
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / srs_variance_from_sums(swu2, n, sw)
    return Estimates(
        statistic="satisfaction_index",
        keys=keys,
        estimate=est,
        se=np.sqrt(var),
        df=df,
        n=n,
        deff=deff,
        sum_weights=sw,
        is_proportion=is_proportion,
        missing_children=missing,
    )


def _quad(cells: pd.DataFrame, names: list[str], prefix: str, bc: FloatArray) -> FloatArray:
    """Per cell ``beta' M beta`` for the symmetric moment matrix ``M`` stored as ``a <= b``."""
    out = np.zeros(len(cells))
    for a, name_a in enumerate(names):
        for b in range(a, len(names)):
            m = cells[f"{prefix}:{name_a}:{names[b]}"].to_numpy(np.float64)
            out += (1.0 if a == b else 2.0) * bc[:, a] * bc[:, b] * m
    return out

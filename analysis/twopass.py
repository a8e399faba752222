"""Index estimates from two passes of additive sums, so that SQL does the heavy summing.

The one-query sums of :mod:`analysis.sufficient` need ``2 + 4k + 4k^2`` columns for ``k``
items (1,682 for 20 items; PostgreSQL allows 1,664). Here the column count does not depend on
``k``: the items go down the rows (long format) and the variance takes a second pass.

1. **Pass 1**, one row per (domain, item) and one per domain: ``X_dk = sum w r_ik``,
   ``Y_dk = sum w r_ik y_ik``, ``n_dk``; ``n_d``, ``sum w``. From these alone
   :func:`analysis.passone.twopass_point_estimates` gives ``P_dk = Y_dk / X_dk`` and the index
   ``I_d = sum_k a_k P_dk``, renormalised over the items with data in the domain exactly as
   :func:`analysis.indices.satisfaction_index` (``partial``, ``missing_children``).
2. **Between the passes**, :func:`analysis.passone.linearization_coefficients` returns per
   (domain, item) ``coef`` and ``centre``: the linearised value of a respondent (Woodruff
   1971) is ``u_i = sum_k coef_dk r_ik (y_ik - centre_dk)``; index: ``coef = a~_k / X_dk``
   (``a~`` the renormalised weights), ``centre = P_dk``; pooled: ``coef = 1 / sum_k X_dk``,
   ``centre = I_d``. The database joins them on (domain, item) and sums per respondent.
3. **Pass 2**, one row per (domain, stratum): over the PSUs with ``z = sum_{i in PSU} w_i u_i``,
   ``sum z``, ``sum z^2``, the number of PSUs, ``sum w u^2`` and ``n``. PSUs of the stratum
   without respondents in the domain have ``z = 0``: they enter through ``n_psu`` of the strata
   table (the whole design, as R's ``svyrecvar``; Lumley 2010, app. C), never dropped.
4. :func:`twopass_estimates` gives the :class:`analysis.results.Estimates` of the in-memory
   estimator (SE, df, deff, flags, intervals).

Every column is a sum or a count (``population`` excepted: a constant of the stratum), so the
results of any partition that keeps each PSU whole (days, provinces, shards) add up
(:func:`analysis.partials.combine_partials`, or pass the concatenated partials directly).
Pass 2 of every partition uses the coefficients of the combined pass 1.

SQL (PostgreSQL and SQLite) over ``answers(response_id, item_id, value)`` (one row per answer;
``value`` NULL for "not applicable"; a view over ``answer``: ``CASE WHEN not_applicable THEN
NULL ELSE value_num END``), ``responses(response_id, stratum, psu, weight, domain)`` (every
respondent of the design; ``psu = response_id`` without clusters), ``index_items(item_id,
threshold)`` (the items of the index with positive weight; ``threshold`` NULL: mean scores),
``strata_frame(stratum, population)`` (``N_h``; NULL without fpc) and ``coefficients(domain,
item_id, coef, centre)`` (step 2, uploaded between the passes).
Several domain columns: put each where ``domain`` is. The constants ``SQL_PASS1_ITEMS``,
``SQL_PASS1_DOMAINS``, ``SQL_STRATA`` and ``SQL_PASS2`` hold these texts (tested in SQLite)::

    -- the SQL_* texts below are shown here (filled in from the constants on import)

``sum_wu2`` (``sum w u^2``) gives the design effect; ``psus`` the degrees of freedom (PSUs
minus strata with respondents in the domain); ``n`` checks that both passes saw the same
respondents. Not covered: calibrated designs (their residuals spread over whole cells).

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, sec. 2.2 and appendix C.
Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 6.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._checks import FloatArray, IntArray, as_columns, check_choice, require_columns
from analysis.designbase import LONELY_PSU_OPTIONS, LonelyPSU
from analysis.domain import srs_variance_from_sums
from analysis.partials import combine_partials, domain_positions, with_keys
from analysis.passone import TwoPassStatistic, read_pass_one
from analysis.results import Estimates
from analysis.variance import combine_pairs

SQL_PASS1_ITEMS = """
SELECT r.domain, a.item_id, COUNT(*) AS n, SUM(r.weight) AS sum_w,
       SUM(r.weight * CASE WHEN i.threshold IS NULL THEN a.value
                           WHEN a.value >= i.threshold THEN 1.0 ELSE 0.0 END) AS sum_wy
FROM answers a
JOIN index_items i ON i.item_id = a.item_id
JOIN responses r ON r.response_id = a.response_id
WHERE a.value IS NOT NULL AND r.weight <> 0 AND r.domain IS NOT NULL
GROUP BY r.domain, a.item_id
"""
SQL_PASS1_DOMAINS = """
SELECT r.domain,
       SUM(CASE WHEN v.response_id IS NOT NULL AND r.weight <> 0 THEN 1 ELSE 0 END) AS n,
       SUM(CASE WHEN v.response_id IS NOT NULL THEN r.weight ELSE 0.0 END) AS sum_w
FROM responses r
LEFT JOIN (SELECT a.response_id FROM answers a
           JOIN index_items i ON i.item_id = a.item_id
           WHERE a.value IS NOT NULL GROUP BY a.response_id) v
  ON v.response_id = r.response_id
WHERE r.domain IS NOT NULL
GROUP BY r.domain
"""
SQL_STRATA = """
SELECT r.stratum, COUNT(DISTINCT r.psu) AS n_psu, MAX(f.population) AS population
FROM responses r LEFT JOIN strata_frame f ON f.stratum = r.stratum
GROUP BY r.stratum
"""
SQL_PASS2 = """
SELECT domain, stratum, SUM(n) AS n, COUNT(*) AS psus, SUM(z) AS sum_z,
       SUM(z * z) AS sum_z2, SUM(wu2) AS sum_wu2
FROM (SELECT domain, stratum, psu, COUNT(*) AS n, SUM(weight * u) AS z,
             SUM(weight * u * u) AS wu2
      FROM (SELECT r.response_id, r.domain, r.stratum, r.psu, r.weight,
                   SUM(c.coef * (CASE WHEN i.threshold IS NULL THEN a.value
                                      WHEN a.value >= i.threshold THEN 1.0 ELSE 0.0 END
                                 - c.centre)) AS u
            FROM answers a
            JOIN index_items i ON i.item_id = a.item_id
            JOIN responses r ON r.response_id = a.response_id
            JOIN coefficients c ON c.domain = r.domain AND c.item_id = a.item_id
            WHERE a.value IS NOT NULL AND r.weight <> 0
            GROUP BY r.response_id, r.domain, r.stratum, r.psu, r.weight) per_respondent
      GROUP BY domain, stratum, psu) per_psu
GROUP BY domain, stratum
"""

# the line of the module docstring that stands for the SQL texts
_LISTING = "    -- the SQL_* texts below are shown here (filled in from the constants on import)\n"


def _sql_listing() -> str:
    """The SQL texts as the module docstring shows them: each under a heading comment."""
    texts = [
        ("SQL_PASS1_ITEMS", "item_totals, one row per (domain, item)", SQL_PASS1_ITEMS),
        ("SQL_PASS1_DOMAINS", "domain_totals, one row per domain", SQL_PASS1_DOMAINS),
        ("SQL_STRATA", "strata, one row per stratum", SQL_STRATA),
        ("SQL_PASS2", "stratum_totals, one row per (domain, stratum)", SQL_PASS2),
    ]
    blocks = [f"-- {name}: {rows}\n{sql.strip()}\n" for name, rows, sql in texts]
    return textwrap.indent("\n".join(blocks), "    ")


if __doc__:  # one copy of each SQL text, the constant (no docstring under python -OO)
    __doc__ = __doc__.replace(_LISTING, _sql_listing())


def _strata_arrays(strata: pd.DataFrame) -> tuple[pd.DataFrame, IntArray, FloatArray]:
    """Combined strata table, ``n_h`` and the fpc factor ``1 - n_h / N_h`` (1 without N_h)."""
    require_columns(strata, ["stratum", "n_psu", "population"], "strata")
    table = combine_partials([strata[["stratum", "n_psu", "population"]]])
    n_psu = table["n_psu"].to_numpy(np.int64)
    pop = pd.to_numeric(table["population"]).to_numpy(np.float64)  # SQL NULL may be None
    if (pop < n_psu - 1e-9).any():
        raise ValueError("strata: population smaller than the number of sampled PSUs")
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc = np.where(np.isnan(pop), 1.0, (pop - n_psu) / pop)
    return table, n_psu, np.asarray(fpc, dtype=np.float64)


def _sum_by(codes: IntArray, values: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(codes, weights=values, minlength=size), dtype=np.float64)


def _pair_sums(
    stratum_totals: pd.DataFrame, keys: pd.DataFrame, by: list[str], labels: pd.Index
) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
    """Pass 2 added per (domain, stratum) pair: domain, stratum and the sums of each pair."""
    cols = ["n", "psus", "sum_z", "sum_z2", "sum_wu2"]
    require_columns(stratum_totals, [*by, "stratum", *cols], "stratum_totals")
    rows = with_keys(stratum_totals, by)
    rows = rows[rows["n"].to_numpy(np.float64) > 0]
    d = domain_positions(keys, rows, by)
    h = np.asarray(labels.get_indexer(pd.Index(rows["stratum"])), dtype=np.int64)
    if (d < 0).any():
        raise ValueError("stratum_totals: domains not found in domain_totals")
    if (h < 0).any():
        raise ValueError("stratum_totals: strata not found in strata")
    pairs, inv = np.unique(d * len(labels) + h, return_inverse=True)
    sums = {c: _sum_by(inv.ravel(), rows[c].to_numpy(np.float64), len(pairs)) for c in cols}
    pairs = pairs.astype(np.int64)
    return pairs // len(labels), pairs % len(labels), sums


def twopass_estimates(
    item_totals: pd.DataFrame,
    domain_totals: pd.DataFrame,
    stratum_totals: pd.DataFrame,
    strata: pd.DataFrame,
    items: str | Sequence[str],
    *,
    statistic: TwoPassStatistic = "satisfaction_index",
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
    lonely_psu: LonelyPSU = "fail",
    is_proportion: bool | None = None,
) -> Estimates:
    """Estimates, standard errors, df and deff from the sums of both passes.

    Equal (to rounding) to the in-memory estimator of the same design without calibration:
    ``satisfaction_index`` (with ``item_weights``; :func:`analysis.indices.satisfaction_index`),
    ``pooled_index`` and ``mean_score`` (:func:`analysis.indices.pooled_index`), ``mean`` (one
    item: :func:`analysis.estimators.mean` of its 0/1 indicator, or of its score when pass 1
    used no threshold). The variance is R's ``svyrecvar`` on the whole design (Lumley 2010,
    app. C): ``v_d = sum_h f_h n_h/(n_h - 1) (sum z^2 - (sum z)^2 / n_h)`` over the PSU totals
    ``z`` of the linearised variable, ``n_h`` every sampled PSU of the stratum, lonely strata
    as ``lonely_psu``; ``df`` = PSUs minus strata with respondents in the domain; ``deff``
    against SRS from ``n``, ``sum w`` and ``sum w u^2``
    (:func:`analysis.domain.srs_variance_from_sums`).

    Parameters
    ----------
    item_totals : pandas.DataFrame
        Pass 1, one row per (domain, item): the ``by`` columns, ``item_id``, ``n``, ``sum_w``
        (``X``), ``sum_wy`` (``Y``); only items of the estimate with positive weight.
    domain_totals : pandas.DataFrame
        Pass 1, one row per domain (every domain of the design, also without answers): the
        ``by`` columns, ``n`` (respondents of non-zero weight with a valid answer), ``sum_w``.
    stratum_totals : pandas.DataFrame
        Pass 2, one row per (domain, stratum) with respondents: the ``by`` columns,
        ``stratum``, ``n``, ``psus``, ``sum_z``, ``sum_z2``, ``sum_wu2``.
    strata : pandas.DataFrame
        ``stratum``, ``n_psu`` (PSUs sampled in the stratum: all of the design, not only the
        domain's), ``population`` (``N_h`` in PSUs, ``n_h / f_h`` for a sampling fraction
        ``f_h``; NaN without fpc).
    items : str or list of str
        Items of the estimate (those of pass 1 with positive weight, and possibly items
        without any answer).
    statistic : {"satisfaction_index", "pooled_index", "mean_score", "mean"}
    item_weights : mapping, optional
        ``satisfaction_index`` only, as there.
    by : str or list of str, optional
        Domain columns of the frames.
    lonely_psu : {"fail", "adjust", "remove", "certainty", "average"}
        As :class:`analysis.SurveyDesign`.
    is_proportion : bool, optional
        Whether the estimate is a proportion (pass 1 with a threshold); default True except
        for ``mean_score``.

    Frames may hold the rows of several partitions (they are added). The result has no
    stored linearisation (:func:`analysis.compare.compare_domains` needs microdata).
    """
    check_choice(lonely_psu, LONELY_PSU_OPTIONS, "lonely_psu")
    by_cols = as_columns(by, "by")
    one = read_pass_one(
        item_totals, domain_totals, items, statistic=statistic, item_weights=item_weights, by=by
    )
    table, n_psu, fpc = _strata_arrays(strata)
    labels = pd.Index(table["stratum"])
    d, h, sums = _pair_sums(stratum_totals, one.keys, by_cols, labels)
    n_dom = len(one.keys)
    if not np.array_equal(_sum_by(d, sums["n"], n_dom), one.n):
        raise ValueError(
            "stratum_totals: respondents per domain differ from domain_totals; run pass 2 on "
            "the answers, items and coefficients of pass 1"
        )
    var = combine_pairs(
        d,
        h,
        sums["sum_z"],
        sums["sum_z2"],
        n_dom,
        n_psu=n_psu,
        fpc_factor=fpc,
        lonely_psu=lonely_psu,
        labels=list(labels),
    )
    var = np.where(one.n > 0, var, np.nan)
    df = _sum_by(d, sums["psus"], n_dom) - _sum_by(d, np.ones(len(d)), n_dom)
    swu2 = _sum_by(d, sums["sum_wu2"], n_dom) * one.sum_w**2
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = var / srs_variance_from_sums(swu2, one.n, one.sum_w)
    if is_proportion is None:
        is_proportion = statistic != "mean_score"
    return Estimates(
        statistic=statistic,
        keys=one.keys,
        estimate=one.estimate,
        se=np.sqrt(var),
        df=df,
        n=one.n,
        deff=deff,
        sum_weights=one.sum_w,
        is_proportion=is_proportion,
        missing_children=one.missing_children,
    )

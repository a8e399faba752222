"""Satisfaction indices: item shares averaged over items, or answers pooled over items.

:func:`satisfaction_index` averages item indices (SIPAS, rule ``share_at_least`` with
``pooling="items"``); :func:`pooled_index` pools the answers of all items (Bộ Y tế "tỷ lệ hài
lòng chung", ``pooling="answers"``) and :func:`mean_score` pools the scores (rule
``mean_score``).

References
----------
Lohr, S. L. (2022). *Sampling: Design and Analysis*, 3rd ed., sec. 9.1 (linearisation).
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2.
Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis._checks import BoolArray, FloatArray, as_columns, numeric_column
from analysis.designbase import DesignBase
from analysis.domain import domain_codes, domain_estimates, domain_sums, srs_variance, valid_domain
from analysis.estimators import ratio_values
from analysis.results import Estimates


def normalized_item_weights(
    items: list[str], item_weights: Mapping[str, float] | None
) -> dict[str, float]:
    """Validate item weights and scale them to sum 1; items with weight 0 are left out.

    ``None`` gives every item ``1 / len(items)``. Shared by :func:`satisfaction_index` and
    :func:`analysis.sufficient.index_from_sufficient`.
    """
    if item_weights is None:
        return {item: 1.0 / len(items) for item in items}
    if not isinstance(item_weights, Mapping):
        raise TypeError("item_weights must be a mapping item -> weight")
    unknown = [k for k in item_weights if k not in items]
    if unknown:
        raise ValueError(f"item_weights: {unknown} are not in items")
    raw = {item: float(item_weights.get(item, 0.0)) for item in items}
    if any(not np.isfinite(v) or v < 0 for v in raw.values()):
        raise ValueError("item_weights must be finite and non-negative")
    s = sum(raw.values())
    if s <= 0:
        raise ValueError("item_weights must not all be zero")
    return {item: v / s for item, v in raw.items() if v > 0}


def renormalization(
    children: Sequence[str], weights: FloatArray, present: BoolArray
) -> tuple[FloatArray, tuple[tuple[str, ...], ...]]:
    """Per domain, the factor that renormalises ``weights`` over the children with data.

    Parameters
    ----------
    children : sequence of str
        Names of the children (items), in the order of ``weights``.
    weights : ndarray, shape (J,)
        Child weights summing to 1 (children with weight 0 are never reported missing).
    present : ndarray of bool, shape (n_dom, J)
        Whether each child has at least one valid answer in each domain.

    Returns
    -------
    factor : ndarray, shape (n_dom,)
        ``1 / sum_{j present} a_j`` where a child is missing, exactly 1 elsewhere (so complete
        domains keep their numbers to the bit), NaN where no child has data.
    missing : tuple of tuples of str
        The missing children of each domain, in the order of ``children``.
    """
    counted = weights > 0
    lacking = ~present & counted[None, :]
    kept = np.where(present & counted[None, :], weights[None, :], 0.0).sum(axis=1)
    partial = lacking.any(axis=1)
    with np.errstate(divide="ignore"):
        factor = np.where(partial, np.where(kept > 0, 1.0 / kept, np.nan), 1.0)
    names = np.asarray(list(children), dtype=object)
    missing = tuple(tuple(str(c) for c in names[row]) for row in lacking)
    return np.asarray(factor, dtype=np.float64), missing


def satisfaction_index(
    design: DesignBase,
    items: str | Sequence[str],
    *,
    threshold: float | None = 4,
    item_weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
) -> Estimates:
    """Satisfaction index: weighted mean over items of each item's share of satisfied answers.

    ``I = sum_j a_j P_j`` with ``P_j = sum_i w_i r_ij 1[y_ij >= threshold] / sum_i w_i r_ij``,
    where ``r_ij`` marks a valid answer to item ``j`` (missing answers are excluded item by
    item) and ``a_j`` are the item weights (default ``1/J``). With ``threshold=None`` the
    item statistic is the weighted mean score instead of the share.

    The variance is that of the linearised variable
    ``z_i = w_i sum_j a_j r_ij (y_ij - P_j) / N_j`` (Woodruff 1971), summed by PSU within
    strata. The domain of the estimate is the respondents of the ``by`` group who answered at
    least one item: their number is ``n`` and their PSUs and strata give ``df``.

    **Items without data in a domain.** When an item (a child of the node) has no valid
    answer in a domain, ``P_j`` is undefined there. The index of that domain is then the
    weighted mean over the items that have data, with their weights renormalised to sum 1:
    ``I_d = sum_{j in J_d} a_j P_j / sum_{j in J_d} a_j`` (and the same factor on ``z``; the
    set ``J_d`` is taken as fixed, i.e. the variance is conditional on which items have
    data). The result names those items per domain in ``missing_children`` and the domain
    gets the ``partial`` flag (:meth:`Estimates.flags`): a partial index measures fewer
    items than the complete ones and is not comparable with them as it stands. Domains with
    no answer to any item are NaN. The renormalisation is over the leaves given here: for a
    tree node flattened into leaf weights, a missing item's weight goes to every other leaf
    of the node in proportion to its weight, not only to its siblings.

    Parameters
    ----------
    design : SurveyDesign
    items : str or list of str
        Item columns (scores, e.g. 1-5; NaN when not answered or "not applicable").
    threshold : float or None
        An answer is "satisfied" when its score is >= threshold (SIPAS: levels 4 and 5).
    item_weights : mapping, optional
        Non-negative weight of each item, normalised to sum 1; items left out weigh 0. Use it
        for a node of an index tree flattened into leaf weights.
    by : str or list of str, optional
        Domain columns (e.g. ``"agency"``).

    Returns
    -------
    Estimates
        On the 0-1 scale (``summary_frame(scale=100)`` for percentages).
    """
    cols = as_columns(items, "items")
    weights = normalized_item_weights(cols, item_weights)
    if threshold is not None and not np.isfinite(float(threshold)):
        raise ValueError("threshold must be a finite number or None")
    scores = {c: numeric_column(design.data, c, "items") for c in weights}
    codes, keys = domain_codes(design, by)
    n_dom = len(keys)
    answered = np.zeros(design.n, dtype=bool)
    for s in scores.values():
        answered |= ~np.isnan(s)
    dom = valid_domain(design, codes, answered)
    inside = dom >= 0
    w = design.weights
    n, sw = domain_sums(dom, n_dom, w)
    est = np.zeros(n_dom)
    z = np.zeros(design.n)
    present = np.zeros((n_dom, len(weights)), dtype=bool)
    # full-length arithmetic (rows outside get weight 0 and the spare bin n_dom) is faster
    # than boolean-mask copies on a million rows
    bins = np.where(inside, dom, n_dom)
    w_in = np.where(inside, w, 0.0)
    for j, (item, a) in enumerate(weights.items()):
        s = scores[item]
        answered = ~np.isnan(s)
        wr = np.where(answered, w_in, 0.0)
        if threshold is not None:
            y = (s >= threshold).astype(np.float64)  # NaN >= t is False
        else:
            y = np.where(answered, s, 0.0)
        nj = np.bincount(bins, weights=wr, minlength=n_dom + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            pj = np.bincount(bins, weights=wr * y, minlength=n_dom + 1) / nj
            scale = np.where(nj > 0, a / nj, 0.0)
        present[:, j] = nj[:n_dom] > 0
        est += np.where(present[:, j], a * pj[:n_dom], 0.0)
        centre = np.where(nj > 0, pj, 0.0)
        z += wr * (y - centre[bins]) * scale[bins]
    factor, missing = renormalization(list(weights), np.array(list(weights.values())), present)
    est = est * factor
    z = z * np.append(factor, 1.0)[bins]  # a missing item adds nothing to z: rescale the rest
    u = np.zeros(design.n)
    u[inside] = z[inside] * sw[dom[inside]] / w[inside]
    vsrs = srs_variance(w, u, dom, n_dom, n, sw)
    return domain_estimates(
        design,
        "satisfaction_index",
        keys,
        est,
        z,
        dom,
        vsrs,
        n,
        sw,
        is_proportion=threshold is not None,
        missing_children=missing,
    )


def pooled_index(
    design: DesignBase,
    items: str | Sequence[str],
    *,
    threshold: float | None = 4,
    by: str | Sequence[str] | None = None,
) -> Estimates:
    """Share of satisfied answers among all valid answers, pooled over items.

    The Bộ Y tế "tỷ lệ hài lòng chung" (an index-tree node with rule ``share_at_least`` and
    ``pooling="answers"``): ``R = sum_i w_i S_i / sum_i w_i A_i`` with ``S_i`` the number of
    items respondent ``i`` answered at or above ``threshold`` and ``A_i`` the number of items
    with a valid answer. It is a ratio of totals of per-respondent counts, estimated as
    :func:`analysis.estimators.ratio` (R ``svyratio(~S, ~A)``), so the answers of one
    respondent are correlated in the variance, as they should be. Unlike
    :func:`satisfaction_index`, items answered by more respondents weigh more.

    With ``threshold=None``, ``S_i`` is the sum of the respondent's scores: the pooled mean
    score (rule ``mean_score``: sum of all valid scores over the number of valid answers);
    see :func:`mean_score`.

    Parameters
    ----------
    design : SurveyDesign
    items : str or list of str
        Item columns (scores; NaN when not answered or not applicable).
    threshold : float or None
        An answer is satisfied when its score is >= threshold; ``None``: pool the scores.
    by : str or list of str, optional
        Domain columns.

    Returns
    -------
    Estimates
        ``statistic`` is ``"pooled_index"`` (or ``"mean_score"``); ``n`` counts the
        respondents with at least one valid answer (the domain of the estimate).
    """
    cols = as_columns(items, "items")
    if threshold is not None and not np.isfinite(float(threshold)):
        raise ValueError("threshold must be a finite number or None")
    num = np.zeros(design.n)
    count = np.zeros(design.n)
    for c in cols:
        s = numeric_column(design.data, c, "items")
        valid = ~np.isnan(s)
        count += valid
        if threshold is None:
            num += np.where(valid, s, 0.0)
        else:
            num += s >= threshold  # NaN >= t is False
    answered = count > 0
    return ratio_values(
        design,
        np.where(answered, num, np.nan),
        np.where(answered, count, np.nan),
        by=by,
        statistic="pooled_index" if threshold is not None else "mean_score",
        is_proportion=threshold is not None,
    )


def mean_score(
    design: DesignBase, items: str | Sequence[str], *, by: str | Sequence[str] | None = None
) -> Estimates:
    """Mean of all valid scores pooled over items (index-tree rule ``mean_score``).

    ``sum_i w_i (sum of i's valid scores) / sum_i w_i (number of i's valid answers)``; the
    same as :func:`pooled_index` with ``threshold=None``. Not the mean of the item means
    (:func:`satisfaction_index` with ``threshold=None``), which weighs items equally.
    """
    return pooled_index(design, items, threshold=None, by=by)

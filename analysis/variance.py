"""Taylor-linearisation variance engine for many domains at once.

Each estimator supplies one linearised value ``z_i`` per row and the domain code of the row
(``-1``: outside every domain). Because the domains of one ``by=`` partition the rows, a
single vector serves all domains: the PSU totals of domain ``d`` are the sums of ``z`` over
the rows of ``d`` in each PSU, zero for the PSUs of a stratum that the domain does not reach
(R pads those zero rows too). Calibrated designs spread the residuals over every row of a
calibration cell, so they use a dense path, a few domains at a time.

References
----------
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 6.
Lumley, T. (2010). *Complex Surveys*, sec. 2.2, 7.1 and appendix C (R's ``svyrecvar``).
Deville, J.-C., Sarndal, C.-E. (1992). Calibration estimators in survey sampling. JASA 87.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from analysis._checks import BoolArray, FloatArray, IntArray
from analysis.designbase import DesignBase
from analysis.stages import Stage

_DENSE_CELLS = 20_000_000  # float64 cells per dense chunk (about 160 MB)
_TINY_FPC = 1e-7  # R: a stratum whose fpc factor is below this contributes exactly zero


def domain_variance(design: DesignBase, z: FloatArray, dom: IntArray, n_dom: int) -> FloatArray:
    """Linearised variance of ``n_dom`` domain estimates.

    Parameters
    ----------
    design : SurveyDesign
    z : ndarray
        Linearised (influence) value of each row for the estimate of its own domain.
    dom : ndarray of int
        Domain code of each row, ``-1`` for rows outside every domain.
    n_dom : int
        Number of domains.

    Returns
    -------
    ndarray
        One variance per domain.
    """
    if n_dom == 0:
        return np.zeros(0)
    if design.calibrations:
        return _dense_variance(design, z, dom, n_dom)
    return _sparse_variance(design, z, dom, n_dom)


def _sparse_variance(design: DesignBase, z: FloatArray, dom: IntArray, n_dom: int) -> FloatArray:
    ns = len(design.strata_labels)
    inside = dom >= 0
    d_in = dom[inside]
    z_in = z[inside]
    t: FloatArray
    if design.has_psu:
        n_psu_all = len(design.psu_stratum)
        key_p = d_in * n_psu_all + design.psu_codes[inside]
        uk, inv = np.unique(key_p, return_inverse=True)
        t = np.bincount(inv.ravel(), weights=z_in, minlength=len(uk)).astype(np.float64)
        key = (uk // n_psu_all) * ns + design.psu_stratum[uk % n_psu_all]
    else:
        t = z_in
        key = d_in * ns + design.strata_codes[inside]
    if n_dom * ns <= _DENSE_CELLS:  # dense bins are faster than sorting the keys
        size = n_dom * ns
        present = np.bincount(key, minlength=size) > 0
        pairs = np.nonzero(present)[0]
        s1 = np.bincount(key, weights=t, minlength=size)[pairs].astype(np.float64)
        s2 = np.bincount(key, weights=t * t, minlength=size)[pairs].astype(np.float64)
    else:
        pairs, inv = np.unique(key, return_inverse=True)
        s1 = np.bincount(inv.ravel(), weights=t, minlength=len(pairs)).astype(np.float64)
        s2 = np.bincount(inv.ravel(), weights=t * t, minlength=len(pairs)).astype(np.float64)
    v = combine_pairs(
        pairs // ns,
        pairs % ns,
        s1,
        s2,
        n_dom,
        n_psu=design.n_psu,
        fpc_factor=design.fpc_factor,
        lonely_psu=design.lonely_psu,
        labels=list(design.strata_labels),
    )
    for stage in design.stages:
        v = v + _sparse_stage(stage, z_in, d_in, inside, n_dom, design.lonely_psu)
    return v


def _sparse_stage(
    stage: Stage, z_in: FloatArray, d_in: IntArray, inside: BoolArray, n_dom: int, lonely: str
) -> FloatArray:
    """One later stage: per (domain, stratum of the stage) sums of the domain's unit totals.

    Only the strata where the domain has rows take part, as in R, where the domain's rows are
    a subset of the design and ``multistage()`` recurses into the units that hold them.
    """
    n_units = stage.n_units
    key_u = d_in * n_units + stage.unit_codes[inside]
    uk, inv = np.unique(key_u, return_inverse=True)
    t = np.bincount(inv.ravel(), weights=z_in, minlength=len(uk)).astype(np.float64)
    n_groups = stage.n_groups
    key_g = (uk // n_units) * n_groups + stage.unit_group[uk % n_units]
    pairs, inv_g = np.unique(key_g, return_inverse=True)
    s1 = np.bincount(inv_g.ravel(), weights=t, minlength=len(pairs)).astype(np.float64)
    s2 = np.bincount(inv_g.ravel(), weights=t * t, minlength=len(pairs)).astype(np.float64)
    return combine_stage(
        stage, pairs // n_groups, pairs % n_groups, s1, s2, n_dom, lonely_psu=lonely
    )


def combine_stage(
    stage: Stage,
    d: IntArray,
    g: IntArray,
    s1: FloatArray,
    s2: FloatArray,
    n_dom: int,
    *,
    lonely_psu: str,
) -> FloatArray:
    """Variance per domain contributed by a stage below the first (R's ``multistage()``).

    For each (domain ``d``, stratum ``g`` of the stage) pair where the domain has rows, the
    one-stage term of :func:`combine_pairs` on the sums ``s1``, ``s2`` of the domain's unit
    totals in ``g`` (``n`` = every unit sampled in ``g``), with the lonely-unit rules applied
    within each unit of the stage above (``average`` scales by strata present over strata
    with more than one unit inside that unit, as R's ``onestage()`` called once per unit),
    times the product of the sampling fractions ``n/N`` of the units above ``g``.
    """
    nh = stage.group_size.astype(np.float64)[g]
    f = stage.group_fpc[g]
    active = f >= _TINY_FPC
    regular = (nh > 1) & active
    lonely = (nh == 1) & active
    safe = np.where(regular, nh - 1, 1.0)
    contrib = np.where(regular, f * nh / safe * (s2 - s1 * s1 / np.maximum(nh, 1)), 0.0)
    contrib = np.maximum(contrib, 0.0)
    if lonely_psu == "fail" and lonely.any():
        group = int(g[np.nonzero(lonely)[0][0]])
        row = int(np.nonzero(stage.unit_group[stage.unit_codes] == group)[0][0])
        raise ValueError(
            f"stage {stage.number}: the stratum of row {row} has only one sampled unit; "
            "choose lonely_psu= 'adjust', 'remove', 'certainty' or 'average' in SurveyDesign"
        )
    if lonely_psu == "adjust":
        contrib = contrib + np.where(lonely, f * s1 * s1, 0.0)
    if lonely_psu == "average" and len(d):
        key = d * (int(stage.group_parent.max()) + 1) + stage.group_parent[g]
        _, inv = np.unique(key, return_inverse=True)
        inv = inv.ravel()
        n_present = np.bincount(inv).astype(np.float64)
        n_ok = n_present - np.bincount(inv[lonely], minlength=len(n_present))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n_ok > 0, n_present / np.maximum(n_ok, 1), np.nan)
        contrib = contrib * factor[inv]
    contrib = contrib * stage.group_scale[g]
    return np.bincount(d, weights=contrib, minlength=n_dom).astype(np.float64)


def _calibration_residuals(design: DesignBase, e: FloatArray) -> FloatArray:
    """Replace linearised values by GREG residuals, step by step as R's ``svyrecvar``."""
    for step in design.calibrations:
        e = step.residuals(e)  # analysis.greg: closed form or one sparse factorisation
    return e


def _dense_variance(design: DesignBase, z: FloatArray, dom: IntArray, n_dom: int) -> FloatArray:
    n = design.n
    ns = len(design.strata_labels)
    n_psu_all = len(design.psu_stratum)
    rows = np.arange(n)
    to_psu = sparse.csr_matrix((np.ones(n), (design.psu_codes, rows)), shape=(n_psu_all, n))
    to_stratum = sparse.csr_matrix(
        (np.ones(n_psu_all), (design.psu_stratum, np.arange(n_psu_all))), shape=(ns, n_psu_all)
    )
    chunk = max(1, _DENSE_CELLS // max(n, 1))
    out = np.empty(n_dom)
    for start in range(0, n_dom, chunk):
        stop = min(n_dom, start + chunk)
        sel = (dom >= start) & (dom < stop)
        e = np.zeros((n, stop - start))
        e[rows[sel], dom[sel] - start] = z[sel]
        e = _calibration_residuals(design, e)
        t = to_psu @ e
        s1 = np.asarray(to_stratum @ t).T
        s2 = np.asarray(to_stratum @ (t * t)).T
        present = np.ones_like(s1, dtype=bool)  # zero-weight rows stay in a calibrated design
        out[start:stop] = _combine(design, s1, s2, present)
        for stage in design.stages:
            out[start:stop] += _dense_stage(stage, e, design.lonely_psu)
    return out


def _dense_stage(stage: Stage, e: FloatArray, lonely: str) -> FloatArray:
    """A later stage's variance for the columns of ``e`` (every stratum present, as R keeps
    every row of a calibrated design)."""
    n, cols = e.shape
    n_groups = stage.n_groups
    to_unit = sparse.csr_matrix(
        (np.ones(n), (stage.unit_codes, np.arange(n))), shape=(stage.n_units, n)
    )
    to_group = sparse.csr_matrix(
        (np.ones(stage.n_units), (stage.unit_group, np.arange(stage.n_units))),
        shape=(n_groups, stage.n_units),
    )
    t = to_unit @ e
    s1 = np.asarray(to_group @ t).T.ravel()  # domain-major: (domain, stratum) pairs
    s2 = np.asarray(to_group @ (t * t)).T.ravel()
    d = np.repeat(np.arange(cols, dtype=np.int64), n_groups)
    g = np.tile(np.arange(n_groups, dtype=np.int64), cols)
    return combine_stage(stage, d, g, s1, s2, cols, lonely_psu=lonely)


def _combine(design: DesignBase, s1: FloatArray, s2: FloatArray, present: BoolArray) -> FloatArray:
    return combine_strata(
        s1,
        s2,
        present,
        n_psu=design.n_psu,
        fpc_factor=design.fpc_factor,
        lonely_psu=design.lonely_psu,
        labels=list(design.strata_labels),
    )


def combine_strata(
    s1: FloatArray,
    s2: FloatArray,
    present: BoolArray,
    *,
    n_psu: IntArray,
    fpc_factor: FloatArray,
    lonely_psu: str,
    labels: Sequence[object],
) -> FloatArray:
    """Variance per domain from dense (domain x stratum) sums; see :func:`combine_pairs`.

    ``present[d, h]`` tells whether domain ``d`` has rows in stratum ``h``.
    """
    d, h = np.nonzero(present)
    return combine_pairs(
        d,
        h,
        s1[d, h],
        s2[d, h],
        s1.shape[0],
        n_psu=n_psu,
        fpc_factor=fpc_factor,
        lonely_psu=lonely_psu,
        labels=labels,
    )


def combine_pairs(
    d: IntArray,
    h: IntArray,
    s1: FloatArray,
    s2: FloatArray,
    n_dom: int,
    *,
    n_psu: IntArray,
    fpc_factor: FloatArray,
    lonely_psu: str,
    labels: Sequence[object],
) -> FloatArray:
    """Variance per domain from the (domain, stratum) pairs where the domain has rows.

    ``v_d = sum_h f_h n_h/(n_h - 1) (S2_dh - S1_dh^2 / n_h)``, with ``S1``, ``S2`` the sums of
    the domain's PSU totals and of their squares in stratum ``h`` and ``n_h`` every PSU of
    the stratum (PSUs outside the domain have total 0), plus the lonely-PSU rule of R's
    ``onestrat``/``onestage``: ``adjust`` adds ``f_h S1^2``, ``average`` scales by
    ``strata present / strata with more than one PSU``, ``remove``/``certainty`` add 0.
    """
    nh = n_psu.astype(np.float64)[h]
    f = fpc_factor[h]
    active = f >= _TINY_FPC  # R: a stratum with fpc ~ 0 (census) contributes exactly 0
    regular = (nh > 1) & active
    lonely = (nh == 1) & active
    safe = np.where(regular, nh - 1, 1.0)
    contrib = np.where(regular, f * nh / safe * (s2 - s1 * s1 / np.maximum(nh, 1)), 0.0)
    contrib = np.maximum(contrib, 0.0)  # rounding can give -1e-30
    if lonely_psu == "fail" and lonely.any():
        label = labels[int(h[np.nonzero(lonely)[0][0]])]
        raise ValueError(
            f"stratum {label!r} has only one PSU; choose lonely_psu= "
            "'adjust', 'remove', 'certainty' or 'average' in SurveyDesign"
        )
    if lonely_psu == "adjust":
        contrib = contrib + np.where(lonely, f * s1 * s1, 0.0)
    v = np.bincount(d, weights=contrib, minlength=n_dom).astype(np.float64)
    if lonely_psu == "average":
        n_present = np.bincount(d, minlength=n_dom)
        n_ok = n_present - np.bincount(d[lonely], minlength=n_dom)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(n_ok > 0, v * n_present / np.maximum(n_ok, 1), np.nan)
    return v


def domain_df(design: DesignBase, dom: IntArray, n_dom: int) -> FloatArray:
    """Degrees of freedom per domain: PSUs minus strata with rows in the domain (R ``degf``)."""
    inside = (dom >= 0) & (design.weights != 0)
    d_in = dom[inside]
    n_psu_all = len(design.psu_stratum)
    ns = len(design.strata_labels)
    if design.has_psu:
        psu_keys = np.unique(d_in * n_psu_all + design.psu_codes[inside])
        psus = np.bincount(psu_keys // n_psu_all, minlength=n_dom)
    else:  # every row is its own PSU
        psus = np.bincount(d_in, minlength=n_dom)
    str_key = d_in * ns + design.strata_codes[inside]
    if n_dom * ns <= _DENSE_CELLS:
        seen = np.bincount(str_key, minlength=n_dom * ns).reshape(n_dom, ns) > 0
        strata = seen.sum(axis=1)
    else:
        strata = np.bincount(np.unique(str_key) // ns, minlength=n_dom)
    return np.asarray(psus - strata, dtype=np.float64)

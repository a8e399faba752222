"""Planning a survey before fieldwork: the margin of error a sample size is expected to
give, for one population and for a stratified sample (the inverse of
:func:`analysis.sampling.sample_size_proportion`).

For a proportion ``p`` estimated from ``m = n * response_rate`` completed interviews out of
a population of ``N``, the expected half-width of a Wald interval is

``e = z * sqrt(deff * (1 - m/N) * p (1 - p) / m)``

(Cochran 1977, eq. 3.9 with the design effect of Kish 1965, sec. 8.2). For a stratified
sample the variance of ``sum_h W_h p_h`` (``W_h = N_h / N``) is
``sum_h W_h^2 deff (1 - m_h/N_h) p_h (1 - p_h) / m_h`` (Cochran 1977, eq. 5.27).

A two-stage sample (clusters such as ward-days or classes, then a fixed take of persons in
each) is priced by :func:`two_stage_margin_of_error` with the two-stage variance of Cochran
(1977, eq. 10.8) whose between- and within-cluster variances are those of a proportion with
an intra-cluster correlation ``rho``; without finite-population corrections it is the one-stage
variance times Kish's ``1 + (m - 1) rho`` (Kish 1965, sec. 5.4).

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley.
Kish, L. (1965). *Survey Sampling*. Wiley.
Lohr, S. L. (2019). *Sampling: Design and Analysis*, 2nd ed. CRC Press, ch. 5.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TypeVar

from scipy import stats

K = TypeVar("K", bound=Hashable)


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _check(p: float, deff: float, response_rate: float) -> None:
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if not deff > 0:
        raise ValueError("deff must be positive")
    if not 0 < response_rate <= 1:
        raise ValueError("response_rate must be in (0, 1]")


def _variance(n: float, population: float | None, p: float, deff: float,
              response_rate: float) -> float:
    completed = n * response_rate
    if completed <= 0:
        return math.inf
    fpc = 1.0
    if population is not None:
        if not population >= 1:
            raise ValueError("population must be >= 1")
        fpc = max(0.0, 1.0 - completed / population)
    return deff * fpc * p * (1 - p) / completed


def margin_of_error(
    n: float,
    *,
    p: float = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
    population: float | None = None,
    response_rate: float = 1.0,
) -> float:
    """Expected half-width of the interval for a proportion from ``n`` invitations.

    Parameters
    ----------
    n : float
        Persons invited (or drawn); ``n * response_rate`` of them are expected to answer.
    p : float
        Assumed proportion (0.5 is the most cautious).
    confidence : float
        Confidence level of the interval.
    deff : float
        Design effect (clustering, unequal weights).
    population : float, optional
        Population size ``N`` for the finite population correction.
    response_rate : float
        Expected share of the invited who answer.

    Returns
    -------
    float
        ``inf`` when no interview is expected (``n = 0``); 0 for a census.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    _check(p, deff, response_rate)
    return _z(confidence) * math.sqrt(_variance(n, population, p, deff, response_rate))


def stratified_margin_of_error(
    sizes: Mapping[Hashable, float],
    population: Mapping[Hashable, float],
    *,
    p: float | Mapping[Hashable, float] = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> float:
    """Expected half-width for ``sum_h W_h p_h`` from ``sizes[h]`` invitations per stratum.

    ``population`` gives ``N_h`` (the weights ``W_h = N_h / N`` and the fpc); ``p`` one
    assumed proportion or one per stratum. A stratum with no expected interview gives
    ``inf`` (it cannot be estimated).
    """
    keys = list(population)
    if not keys:
        raise ValueError("population must not be empty")
    if any(k not in sizes for k in keys):
        raise ValueError("sizes must give n_h for every stratum of population")
    total = float(sum(float(population[k]) for k in keys))
    if any(float(population[k]) < 1 for k in keys):
        raise ValueError("population: counts must be >= 1")
    _z_value = _z(confidence)
    variance = 0.0
    for k in keys:
        p_h = float(p[k]) if isinstance(p, Mapping) else float(p)
        _check(p_h, deff, response_rate)
        if sizes[k] < 0:
            raise ValueError("sizes must be >= 0")
        share = float(population[k]) / total
        variance += share**2 * _variance(float(sizes[k]), float(population[k]), p_h, deff,
                                         response_rate)
    return _z_value * math.sqrt(variance)


def _two_stage_variance(clusters: float, take: float, *, population_clusters: float | None,
                        cluster_size: float | None, p: float, icc: float, deff: float,
                        response_rate: float) -> float:
    """Cochran's eq. 10.8 under the ICC model (see :func:`two_stage_margin_of_error`)."""
    if not clusters >= 0:
        raise ValueError("clusters must be >= 0")
    if not take > 0:
        raise ValueError("take must be positive")
    if not 0 <= icc < 1:
        raise ValueError("icc must be in [0, 1)")
    _check(p, deff, response_rate)
    f1 = 0.0
    if population_clusters is not None:
        if not population_clusters >= 1:
            raise ValueError("population_clusters must be >= 1")
        if clusters > population_clusters * (1 + 1e-9):
            raise ValueError("clusters must not exceed population_clusters")
        f1 = min(1.0, clusters / population_clusters)
    completed = take * response_rate
    inv_size = f2 = 0.0
    if cluster_size is not None:
        if not cluster_size >= 1:
            raise ValueError("cluster_size must be >= 1")
        completed = min(completed, cluster_size)
        inv_size, f2 = 1.0 / cluster_size, completed / cluster_size
    if clusters == 0:
        return math.inf
    sigma2 = p * (1 - p)
    between = (1 - f1) * sigma2 * (icc + (1 - icc) * inv_size) / clusters
    within = (1 - f2) * sigma2 * (1 - icc) / (clusters * completed)
    return deff * (between + within)


def two_stage_margin_of_error(
    clusters: float,
    take: float,
    *,
    population_clusters: float | None = None,
    cluster_size: float | None = None,
    p: float = 0.5,
    icc: float = 0.05,
    confidence: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> float:
    r"""Expected half-width of the interval for a proportion from a two-stage sample.

    ``clusters`` (``n``) of the ``population_clusters`` (``N``) clusters are drawn by simple
    random sampling, then ``take`` persons of each cluster of mean size ``cluster_size``
    (``M``), of whom ``m = take * response_rate`` (at most ``M``) are expected to answer.

    The variance of the mean of the cluster means is Cochran's (1977, eq. 10.8)

    .. math:: V = \frac{1 - n/N}{n} S_1^2 + \frac{1 - m/M}{n m} S_2^2

    with ``S_1^2`` the variance between the clusters' means and ``S_2^2`` the variance within
    the clusters. For a proportion with intra-cluster correlation ``rho`` (the random-effects
    model ``y_ij = p + a_i + e_ij``, ``Var a_i = rho p(1-p)``, ``Var e_ij = (1 - rho) p(1-p)``,
    e.g. the beta-binomial), their expectations are

    ``S_2^2 = (1 - rho) p (1 - p)`` and ``S_1^2 = rho p (1 - p) + (1 - rho) p (1 - p) / M``

    (Lohr 2019, sec. 5.2-5.4), so that

    ``e = z * sqrt(deff * p (1 - p) * [(1 - n/N) (rho + (1 - rho)/M) / n
    + (1 - m/M) (1 - rho) / (n m)])``.

    Limits: with ``rho = 0`` it is the one-stage :func:`margin_of_error` of ``n * take``
    invitations from ``N * M`` persons; with every cluster taken (``n = N``) only the second
    term remains (a stratified sample within clusters); with whole clusters (``m = M``) only the
    first (one-stage cluster sampling); with ``N`` and ``M`` infinite it is the one-stage
    margin times ``sqrt(1 + (m - 1) rho)``, Kish's (1965, sec. 5.4) design effect of clustering.
    Unequal cluster sizes are approximated by their mean ``M``.

    Parameters
    ----------
    clusters : float
        Clusters drawn (``n``).
    take : float
        Persons invited in each drawn cluster.
    population_clusters : float, optional
        Clusters in the population (``N``); None for infinitely many (no first-stage fpc).
    cluster_size : float, optional
        Mean persons per cluster (``M``); None for infinitely large clusters (no second-stage
        fpc).
    p : float
        Assumed proportion (0.5 is the most cautious).
    icc : float
        Intra-cluster correlation ``rho`` in [0, 1).
    confidence : float
        Confidence level of the interval.
    deff : float
        Design effect of the weighting (unequal weights), multiplying the variance.
    response_rate : float
        Expected share of each cluster's invited who answer (applied to the take).

    Returns
    -------
    float
        ``inf`` when no cluster is drawn; 0 for a census (every person of every cluster).

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., sec. 10.2-10.4.
    Kish, L. (1965). *Survey Sampling*, sec. 5.4.
    Lohr, S. L. (2019). *Sampling: Design and Analysis*, 2nd ed., ch. 5.
    """
    variance = _two_stage_variance(clusters, take, population_clusters=population_clusters,
                                   cluster_size=cluster_size, p=p, icc=icc, deff=deff,
                                   response_rate=response_rate)
    return _z(confidence) * math.sqrt(variance)


def stratified_two_stage_margin_of_error(
    clusters: Mapping[K, float],
    population: Mapping[K, float],
    take: float | Mapping[K, float],
    *,
    population_clusters: Mapping[K, float | None] | None = None,
    cluster_size: Mapping[K, float | None] | None = None,
    p: float | Mapping[K, float] = 0.5,
    icc: float = 0.05,
    confidence: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> float:
    """Expected half-width for ``sum_h W_h p_h`` from a two-stage sample in every stratum.

    The variance is ``sum_h W_h^2 V_h`` (``W_h = N_h / N`` from ``population``), ``V_h`` the
    two-stage variance of :func:`two_stage_margin_of_error` with the stratum's ``clusters[h]``
    drawn out of ``population_clusters[h]``, ``take`` (one or per stratum) and mean cluster
    size ``cluster_size[h]``; where ``population_clusters[h]`` is given and ``cluster_size[h]``
    is not, the mean size is ``N_h / population_clusters[h]``. A missing or None entry means
    infinitely many (or infinitely large) clusters. A stratum with no cluster drawn gives
    ``inf``.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., eq. 5.27 and sec. 10.2.
    """
    keys = list(population)
    if not keys:
        raise ValueError("population must not be empty")
    if any(k not in clusters for k in keys):
        raise ValueError("clusters must give n_h for every stratum of population")
    if isinstance(take, Mapping) and any(k not in take for k in keys):
        raise ValueError("take must give the take of every stratum of population")
    if any(float(population[k]) < 1 for k in keys):
        raise ValueError("population: counts must be >= 1")
    total = float(sum(float(population[k]) for k in keys))
    z_value = _z(confidence)
    variance = 0.0
    for k in keys:
        big_n = float(population[k])
        n_clusters = (population_clusters or {}).get(k)
        size = (cluster_size or {}).get(k)
        if size is None and n_clusters is not None:
            size = big_n / float(n_clusters)
        variance += (big_n / total) ** 2 * _two_stage_variance(
            float(clusters[k]), float(take[k]) if isinstance(take, Mapping) else float(take),
            population_clusters=None if n_clusters is None else float(n_clusters),
            cluster_size=None if size is None else float(size),
            p=float(p[k]) if isinstance(p, Mapping) else float(p), icc=icc, deff=deff,
            response_rate=response_rate)
    return z_value * math.sqrt(variance)

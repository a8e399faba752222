"""Planning a survey before fieldwork: the margin of error a sample size is expected to
give, for one population and for a stratified sample (the inverse of
:func:`analysis.sampling.sample_size_proportion`).

For a proportion ``p`` estimated from ``m = n * response_rate`` completed interviews out of
a population of ``N``, the expected half-width of a Wald interval is

``e = z * sqrt(deff * (1 - m/N) * p (1 - p) / m)``

(Cochran 1977, eq. 3.9 with the design effect of Kish 1965, sec. 8.2). For a stratified
sample the variance of ``sum_h W_h p_h`` (``W_h = N_h / N``) is
``sum_h W_h^2 deff (1 - m_h/N_h) p_h (1 - p_h) / m_h`` (Cochran 1977, eq. 5.27).

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley.
Kish, L. (1965). *Survey Sampling*. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

from scipy import stats


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

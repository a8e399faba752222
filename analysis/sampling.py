"""Sample size, allocation to strata, and selection of samples with inclusion probabilities.

References
----------
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., sec. 4.4 (n for a proportion),
    5.5-5.9 (proportional and Neyman allocation), 8.6-8.7 (systematic sampling), 9A (PPS).
Bankier, M. D. (1988). Power allocations. *Survey Methodology* 14, 275-286.
Yamane, T. (1967). *Statistics: An Introductory Analysis* (the "Slovin" rule n = N/(1+Ne^2)).
Valliant, R., Dever, J. A., Kreuter, F. (2018). *Practical Tools*, ch. 3 (PracTools).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis._checks import FloatArray, IntArray, check_choice

Allocation = Literal["proportional", "neyman", "equal", "power"]


def sample_size_proportion(
    margin: float,
    *,
    p: float = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
    population: float | None = None,
    response_rate: float = 1.0,
    method: Literal["cochran", "slovin"] = "cochran",
) -> int:
    """Sample size to estimate a proportion within ``+/- margin``.

    ``cochran``: ``n0 = z^2 p (1-p) deff / e^2``, with fpc ``n = n0 / (1 + (n0 - 1)/N)``
    (Cochran 1977, eq. 4.2); ``slovin``: ``n = N / (1 + N e^2)`` (needs ``population``; the
    rule used in Vietnamese official guidance, equal to Cochran at p = 0.5, z = 2 roughly).
    The result is divided by ``response_rate`` and rounded up.
    """
    check_choice(method, ("cochran", "slovin"), "method")
    if not 0 < margin < 1:
        raise ValueError("margin must be in (0, 1)")
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if not deff > 0:
        raise ValueError("deff must be positive")
    if not 0 < response_rate <= 1:
        raise ValueError("response_rate must be in (0, 1]")
    if population is not None and not population >= 1:
        raise ValueError("population must be >= 1")
    if method == "slovin":
        if population is None:
            raise ValueError("population is required for method='slovin'")
        n = population / (1 + population * margin**2)
    else:
        z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
        n = z * z * p * (1 - p) * deff / margin**2
        if population is not None:
            n = n / (1 + (n - 1) / population)
    return int(math.ceil(n / response_rate - 1e-9))


def allocate(
    n: int,
    population: Mapping[Hashable, float],
    *,
    method: Allocation = "proportional",
    sd: Mapping[Hashable, float] | None = None,
    power: float = 0.5,
    min_n: int = 2,
    max_n: Mapping[Hashable, int] | None = None,
) -> dict[Hashable, int]:
    """Allocate ``n`` units to strata.

    Parameters
    ----------
    n : int
        Total sample size.
    population : mapping
        ``N_h`` per stratum.
    method : {"proportional", "neyman", "equal", "power"}
        Shares ``N_h``, ``N_h S_h`` (needs ``sd``), ``1`` or ``N_h ** power`` (Bankier 1988).
    sd : mapping, optional
        ``S_h`` per stratum for Neyman allocation (for a proportion ``sqrt(P_h (1 - P_h))``).
    power : float
        Exponent for ``method="power"``.
    min_n : int
        Minimum per stratum (default 2, so every stratum can give a variance).
    max_n : mapping, optional
        Maximum per stratum; always capped at ``N_h``.

    Returns
    -------
    dict
        Integer sizes summing to ``n`` (largest-remainder rounding), with bounds met by
        fixing the strata that hit a bound and re-allocating the rest (recursive Neyman).
    """
    check_choice(method, ("proportional", "neyman", "equal", "power"), "method")
    keys = list(population)
    if not keys:
        raise ValueError("population must not be empty")
    big_n = np.array([float(population[k]) for k in keys])
    if (big_n <= 0).any():
        raise ValueError("population: counts must be positive")
    if method == "neyman":
        if sd is None or any(k not in sd for k in keys):
            raise ValueError("sd must give S_h for every stratum with method='neyman'")
        share = big_n * np.array([float(sd[k]) for k in keys])
    elif method == "equal":
        share = np.ones(len(keys))
    elif method == "power":
        share = big_n**power
    else:
        share = big_n.copy()
    upper = big_n.copy()
    if max_n is not None:
        upper = np.minimum(upper, [float(max_n.get(k, np.inf)) for k in keys])
    lower = np.minimum(float(min_n), upper)
    if n < lower.sum() or n > upper.sum():
        raise ValueError(f"n={n} is outside the feasible range [{lower.sum():g}, {upper.sum():g}]")
    alloc = _bounded(float(n), share, lower, upper)
    return dict(zip(keys, _round(alloc, n, lower, upper), strict=True))


def _bounded(n: float, share: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    fixed = np.full(len(share), np.nan)
    for _ in range(len(share) + 1):
        free = np.isnan(fixed)
        rest = n - np.nansum(fixed)
        tot = share[free].sum()
        alloc = np.where(free, rest * share / tot if tot > 0 else rest / free.sum(), fixed)
        over = free & (alloc > upper)
        under = free & (alloc < lower)
        if not over.any() and not under.any():
            return alloc
        fixed[over] = upper[over]
        fixed[under] = lower[under]
    return np.clip(alloc, lower, upper)


def _round(alloc: FloatArray, n: int, lower: FloatArray, upper: FloatArray) -> list[int]:
    base = np.clip(np.floor(alloc + 1e-9), lower, upper).astype(np.int64)
    order = np.argsort(-(alloc - base), kind="stable")
    short = n - int(base.sum())
    for i in order:
        if short <= 0:
            break
        if base[i] < upper[i]:
            base[i] += 1
            short -= 1
    return [int(b) for b in base]


@dataclass(frozen=True)
class Selection:
    """Selected units: positions in the frame and their inclusion probabilities."""

    index: IntArray
    inclusion_probability: FloatArray

    @property
    def weights(self) -> FloatArray:
        """Design weights ``1 / pi``."""
        return np.asarray(1.0 / self.inclusion_probability, dtype=np.float64)


def stratified_srswor(
    strata: npt.ArrayLike, sizes: Mapping[Hashable, int], *, rng: np.random.Generator
) -> Selection:
    """Stratified simple random sampling without replacement; ``pi = n_h / N_h``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    labels = pd.Series(np.asarray(strata))
    picked: list[IntArray] = []
    probs: list[FloatArray] = []
    for h, rows in labels.groupby(labels, sort=True).indices.items():
        n_h = int(sizes.get(h, 0))
        if n_h < 0 or n_h > len(rows):
            raise ValueError(f"sizes: stratum {h!r} asks {n_h} of {len(rows)} units")
        chosen = np.sort(rng.choice(rows, size=n_h, replace=False))
        picked.append(chosen.astype(np.int64))
        probs.append(np.full(n_h, n_h / len(rows)))
    order = np.argsort(np.concatenate(picked), kind="stable")
    return Selection(np.concatenate(picked)[order], np.concatenate(probs)[order])


def systematic(population_size: int, n: int, *, rng: np.random.Generator) -> Selection:
    """Systematic sample with a random start and fractional interval ``N / n``; ``pi = n/N``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    if not 0 < n <= population_size:
        raise ValueError("n must be in [1, population_size]")
    step = population_size / n
    start = rng.uniform(0, step)
    idx = np.floor(start + step * np.arange(n)).astype(np.int64)
    return Selection(idx, np.full(n, n / population_size))


def pps_systematic(sizes: npt.ArrayLike, n: int, *, rng: np.random.Generator) -> Selection:
    """Systematic probability-proportional-to-size sample (Madow 1949).

    ``pi_i = n x_i / sum x``; units with ``pi_i >= 1`` are taken with certainty and the rest
    re-sampled among the others. Frame order is kept (sort it for implicit stratification).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    x = np.asarray(sizes, dtype=np.float64)
    if x.ndim != 1 or (x < 0).any() or not np.isfinite(x).all():
        raise ValueError("sizes must be a 1-d array of finite non-negative numbers")
    if not 0 < n <= int((x > 0).sum()):
        raise ValueError("n must be in [1, number of units with positive size]")
    pi = np.zeros_like(x)
    certain = np.zeros(len(x), dtype=bool)
    for _ in range(len(x)):
        rest = n - certain.sum()
        pi = np.where(certain, 1.0, rest * x / x[~certain].sum())
        new = (pi >= 1) & ~certain
        if not new.any():
            break
        certain |= new
    cum = np.concatenate([[0.0], np.cumsum(np.where(certain, 0.0, pi))])
    m = int(round(cum[-1]))
    points = rng.uniform(0, 1) + np.arange(m)
    chosen = np.searchsorted(cum, points, side="right") - 1
    idx = np.sort(np.concatenate([np.nonzero(certain)[0], chosen]).astype(np.int64))
    return Selection(idx, pi[idx])

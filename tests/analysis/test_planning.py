"""Expected margins of error before fieldwork: the inverse of the sample-size rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import (
    SurveyDesign,
    margin_of_error,
    sample_size_proportion,
    stratified_margin_of_error,
    stratified_two_stage_margin_of_error,
    two_stage_margin_of_error,
)

Z95 = 1.959963984540054


def test_textbook_value_without_fpc() -> None:
    # 1.959964 * sqrt(0.25 / 385) = 0.049944 (Cochran's n = 385 for e = 5%).
    assert margin_of_error(385) == pytest.approx(0.0499441, abs=1e-6)


def test_inverse_of_sample_size() -> None:
    for margin, big_n, deff, rr in [(0.05, 2000, 1.0, 1.0), (0.07, 600, 1.5, 0.8),
                                    (0.04, None, 2.0, 0.6)]:
        n = sample_size_proportion(margin, population=big_n, deff=deff, response_rate=rr)
        reached = margin_of_error(n, population=big_n, deff=deff, response_rate=rr)
        short = margin_of_error(n - 2, population=big_n, deff=deff, response_rate=rr)
        assert reached <= margin + 1e-12 < short


def test_design_effect_response_rate_and_census() -> None:
    base = margin_of_error(200, population=10_000)
    assert margin_of_error(200, population=10_000, deff=2.0) == pytest.approx(base * math.sqrt(2))
    assert margin_of_error(250, population=10_000, response_rate=0.8) == pytest.approx(base)
    assert margin_of_error(100, population=100) == 0.0
    assert margin_of_error(0) == math.inf


def test_stratified_by_hand() -> None:
    sizes, big_n = {"a": 50, "b": 100}, {"a": 200, "b": 800}
    var = (0.2**2 * (1 - 50 / 200) * 0.25 / 50 + 0.8**2 * (1 - 100 / 800) * 0.25 / 100)
    expected = 1.959963984540054 * math.sqrt(var)
    assert stratified_margin_of_error(sizes, big_n) == pytest.approx(expected, rel=1e-12)
    one = stratified_margin_of_error({"a": 50}, {"a": 200})
    assert one == pytest.approx(margin_of_error(50, population=200), rel=1e-12)
    # a prior per stratum
    prior = stratified_margin_of_error(sizes, big_n, p={"a": 0.9, "b": 0.5})
    assert prior < stratified_margin_of_error(sizes, big_n)


@pytest.mark.parametrize("kwargs", [{"p": 0}, {"deff": 0}, {"response_rate": 1.5},
                                    {"confidence": 1}])
def test_bad_arguments_are_named(kwargs: dict[str, float]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        margin_of_error(100, **kwargs)
    with pytest.raises(ValueError, match="sizes"):
        stratified_margin_of_error({}, {"a": 10})


# --- two-stage samples (clusters, then a take of persons in each) ---------------------------


def test_two_stage_without_icc_is_the_one_stage_margin() -> None:
    # infinite populations at both stages
    assert two_stage_margin_of_error(12, 10, icc=0.0) == pytest.approx(margin_of_error(120))
    # finite at both stages: n * take persons out of N * M, the take shrunk by nonresponse
    for n, big_n, take, size, rr in [(10, 40, 8, 30, 1.0), (5, 6, 20, 25, 0.7),
                                     (40, 40, 3, 12, 0.9)]:
        two = two_stage_margin_of_error(n, take, population_clusters=big_n, cluster_size=size,
                                        icc=0.0, response_rate=rr, deff=1.3, p=0.3)
        one = margin_of_error(n * take, population=big_n * size, response_rate=rr, deff=1.3,
                              p=0.3)
        assert two == pytest.approx(one, rel=1e-12)


def test_two_stage_limits_every_cluster_and_whole_clusters() -> None:
    rho, pq = 0.1, 0.25
    # every cluster taken: only the within-cluster (second-stage) term remains
    every = two_stage_margin_of_error(40, 8, population_clusters=40, cluster_size=30, icc=rho)
    assert every == pytest.approx(Z95 * math.sqrt((1 - 8 / 30) * (1 - rho) * pq / (40 * 8)))
    # whole clusters: only the between-cluster (first-stage) term remains
    whole = two_stage_margin_of_error(10, 30, population_clusters=40, cluster_size=30, icc=rho)
    assert whole == pytest.approx(Z95 * math.sqrt((1 - 10 / 40) * pq * (rho + (1 - rho) / 30)
                                                  / 10))
    # both: a census; a take above the cluster size takes the whole cluster
    assert two_stage_margin_of_error(40, 30, population_clusters=40, cluster_size=30,
                                     icc=rho) == 0.0
    assert two_stage_margin_of_error(10, 50, population_clusters=40, cluster_size=30,
                                     icc=rho) == pytest.approx(whole)
    assert two_stage_margin_of_error(0, 8, icc=rho) == math.inf


@pytest.mark.parametrize(("take", "rho"), [(5, 0.02), (10, 0.05), (30, 0.1), (8, 0.3)])
def test_kish_factor_when_the_fpcs_are_negligible(take: int, rho: float) -> None:
    one = margin_of_error(20 * take)
    kish = 1 + (take - 1) * rho
    infinite = two_stage_margin_of_error(20, take, icc=rho)
    assert (infinite / one) ** 2 == pytest.approx(kish, rel=1e-12)
    huge = two_stage_margin_of_error(20, take, population_clusters=1e9, cluster_size=1e7,
                                     icc=rho)
    assert (huge / one) ** 2 == pytest.approx(kish, rel=1e-5)
    # the take is the completed one: nonresponse shrinks it
    assert (two_stage_margin_of_error(20, take, icc=rho, response_rate=0.5)
            / margin_of_error(20 * take, response_rate=0.5)) ** 2 == pytest.approx(
        1 + (take * 0.5 - 1) * rho)


def test_two_stage_design_effect_and_response_rate() -> None:
    base = two_stage_margin_of_error(10, 8, population_clusters=40, cluster_size=30)
    assert two_stage_margin_of_error(10, 8, population_clusters=40, cluster_size=30,
                                     deff=2.0) == pytest.approx(base * math.sqrt(2))
    assert two_stage_margin_of_error(10, 10, population_clusters=40, cluster_size=30,
                                     response_rate=0.8) == pytest.approx(base)
    assert two_stage_margin_of_error(10, 8, icc=0.2) > two_stage_margin_of_error(10, 8, icc=0.05)


def test_stratified_two_stage_by_hand() -> None:
    clusters, pops = {"a": 4, "b": 6}, {"a": 300, "b": 900}
    n_clusters = {"a": 15, "b": 30}  # mean sizes 20 and 30
    var = sum((pops[h] / 1200) ** 2 * (two_stage_margin_of_error(
        clusters[h], 5, population_clusters=n_clusters[h], cluster_size=pops[h] / n_clusters[h],
        icc=0.08) / Z95) ** 2 for h in pops)
    got = stratified_two_stage_margin_of_error(clusters, pops, 5,
                                               population_clusters=n_clusters, icc=0.08)
    assert got == pytest.approx(Z95 * math.sqrt(var), rel=1e-12)
    # one stratum: the unstratified margin; without icc, the one-stage stratified margin
    assert stratified_two_stage_margin_of_error(
        {"a": 4}, {"a": 300}, 5, population_clusters={"a": 15}, icc=0.08) == pytest.approx(
        two_stage_margin_of_error(4, 5, population_clusters=15, cluster_size=20, icc=0.08))
    assert stratified_two_stage_margin_of_error(
        clusters, pops, {"a": 5, "b": 3}, population_clusters=n_clusters,
        icc=0.0) == pytest.approx(stratified_margin_of_error({"a": 20, "b": 18}, pops))
    # infinite clusters where nothing is known
    assert stratified_two_stage_margin_of_error({"a": 4}, {"a": 300}, 5, icc=0.1) == (
        pytest.approx(two_stage_margin_of_error(4, 5, icc=0.1)))
    assert stratified_two_stage_margin_of_error({"a": 0, "b": 6}, pops, 5) == math.inf


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"icc": 1.0}, "icc"), ({"icc": -0.1}, "icc"), ({"take": 0}, "take"),
    ({"clusters": -1}, "clusters"), ({"clusters": 50}, "clusters"),
    ({"population_clusters": 0.5}, "population_clusters"), ({"cluster_size": 0}, "cluster_size"),
    ({"p": 1.0}, "p"), ({"deff": 0}, "deff"), ({"response_rate": 0}, "response_rate"),
    ({"confidence": 0}, "confidence")])
def test_two_stage_bad_arguments_are_named(kwargs: dict[str, float], name: str) -> None:
    args: dict[str, float] = {"clusters": 10, "take": 5, "population_clusters": 40,
                              "cluster_size": 20, **kwargs}
    with pytest.raises(ValueError, match=name):
        two_stage_margin_of_error(**args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clusters"):
        stratified_two_stage_margin_of_error({}, {"a": 10}, 5)
    with pytest.raises(ValueError, match="take"):
        stratified_two_stage_margin_of_error({"a": 1}, {"a": 10}, {"b": 5})


def _beta_binomial_populations(rng: np.random.Generator, reps: int, big_n: int, size: int,
                               p: float, rho: float) -> np.ndarray:
    """``reps`` finite populations of ``big_n`` clusters of ``size`` persons, 0/1 answers
    with mean ``p`` and intra-cluster correlation ``rho`` (beta-binomial: each cluster's
    probability is Beta(a, b) with a + b = 1/rho - 1)."""
    total = 1 / rho - 1
    probs = rng.beta(p * total, (1 - p) * total, size=(reps, big_n))
    return (rng.random((reps, big_n, size)) < probs[..., None]).astype(float)


def _two_stage_samples(rng: np.random.Generator, pops: np.ndarray, n: int,
                       m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SRS of ``n`` clusters then SRS of ``m`` persons in each, in every population: the
    answers (reps, n, m) and the indices of the clusters and persons drawn."""
    reps, big_n, size = pops.shape
    clusters = np.argsort(rng.random((reps, big_n)), axis=1)[:, :n]
    persons = np.argsort(rng.random((reps, n, size)), axis=2)[:, :, :m]
    picked = pops[np.arange(reps)[:, None, None], clusters[:, :, None], persons]
    return picked, clusters, persons


def test_two_stage_variance_matches_a_simulation() -> None:
    """Over 4000 two-stage samples (SRS of 10 of 40 clusters, 8 of each cluster's 30 persons),
    each from a fresh beta-binomial population with p = 0.3 and rho = 0.1, the variance of
    the estimate around its population's mean is the formula's (the model expectation of the
    design variance). The relative standard error of a variance from 4000 replicates is
    about sqrt(2/4000) = 2.2%, a little more with the excess kurtosis: 10% is 4 SE."""
    rng = np.random.default_rng(20261202)
    reps, big_n, size, n, m, p, rho = 4000, 40, 30, 10, 8, 0.3, 0.1
    pops = _beta_binomial_populations(rng, reps, big_n, size, p, rho)
    picked, _, _ = _two_stage_samples(rng, pops, n, m)
    errors = picked.mean(axis=(1, 2)) - pops.mean(axis=(1, 2))
    empirical = float(np.var(errors, ddof=1))
    expected = (two_stage_margin_of_error(n, m, population_clusters=big_n, cluster_size=size,
                                          p=p, icc=rho) / Z95) ** 2
    assert empirical == pytest.approx(expected, rel=0.10)
    # the clustering matters here: the one-stage formula is far too small
    one = (margin_of_error(n * m, population=big_n * size, p=p) / Z95) ** 2
    assert empirical > 1.4 * one


def test_two_stage_formula_agrees_with_the_multistage_estimator_on_average() -> None:
    """The multistage variance estimator of ``SurveyDesign`` (psu = cluster, then person, fpc
    at both stages) is unbiased for the design variance: its mean over 300 samples (each
    from a fresh population) is the formula's within 10% (the estimator's own relative SD
    is about 0.5 with 10 clusters, so its mean's is about 0.5 / sqrt(300) = 3%)."""
    rng = np.random.default_rng(7)
    reps, big_n, size, n, m, p, rho = 300, 40, 30, 10, 8, 0.3, 0.1
    pops = _beta_binomial_populations(rng, reps, big_n, size, p, rho)
    picked, clusters, persons = _two_stage_samples(rng, pops, n, m)
    estimates = []
    for r in range(reps):
        frame = pd.DataFrame({
            "cluster": np.repeat(clusters[r], m), "person": persons[r].ravel(),
            "N1": float(big_n), "N2": float(size), "y": picked[r].ravel()})
        design = SurveyDesign(frame, psu=["cluster", "person"], fpc=["N1", "N2"])
        estimates.append(float(design.mean("y").variance[0]))
    expected = (two_stage_margin_of_error(n, m, population_clusters=big_n, cluster_size=size,
                                          p=p, icc=rho) / Z95) ** 2
    assert float(np.mean(estimates)) == pytest.approx(expected, rel=0.10)

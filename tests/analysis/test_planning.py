"""Expected margins of error before fieldwork: the inverse of the sample-size rule."""

from __future__ import annotations

import math

import pytest

from analysis import margin_of_error, sample_size_proportion, stratified_margin_of_error


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

"""Wilson and Clopper-Pearson intervals against their closed forms (scipy's beta quantiles)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta, norm

from audit.stats import proportion_interval

CASES = [(0, 20), (1, 20), (7, 25), (25, 25), (300, 1000), (3, 3)]


def _wilson(k: int, n: int, level: float) -> tuple[float, float]:
    z = norm.ppf(0.5 + level / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
    return centre - half, centre + half


def _clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low = 0.0 if k == 0 else beta.ppf(tail, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(1 - tail, k + 1, n - k)
    return low, high


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_equals_the_closed_form(level):
    low, high = proportion_interval(*zip(*CASES, strict=True), confidence_level=level)
    for (k, n), lo, hi in zip(CASES, low, high, strict=True):
        expected = _wilson(k, n, level)
        assert lo == pytest.approx(max(0.0, expected[0]), abs=1e-9)
        assert hi == pytest.approx(min(1.0, expected[1]), abs=1e-9)


def test_clopper_pearson_equals_beta_quantiles():
    low, high = proportion_interval(
        *zip(*CASES, strict=True), confidence_level=0.95, method="clopper-pearson"
    )
    for (k, n), lo, hi in zip(CASES, low, high, strict=True):
        expected = _clopper_pearson(k, n, 0.95)
        assert (lo, hi) == pytest.approx(expected, abs=1e-9)


def test_a_rate_of_zero_has_an_interval_that_does_not_collapse():
    low, high = proportion_interval([0], [20], confidence_level=0.95)
    assert low[0] == 0.0
    assert high[0] > 0.15  # the percentile bootstrap gives [0, 0] here


def test_no_trials_gives_no_interval():
    low, high = proportion_interval([0, 2], [0, 4], confidence_level=0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert not np.isnan(low[1])

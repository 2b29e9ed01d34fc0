"""Holm's step-down adjustment against the algorithm written out and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from audit.stats import holm_adjust


def _holm(p):
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted = [0.0] * len(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


@pytest.mark.parametrize(
    "p", [[0.01, 0.04, 0.03], [0.5], [0.001, 0.2, 0.04, 0.9, 0.012], [0.3, 0.3, 0.3]]
)
def test_holm_equals_the_step_down_algorithm(p):
    assert holm_adjust(p).tolist() == pytest.approx(_holm(p), abs=1e-12)


def test_no_p_values():
    assert holm_adjust([]).shape == (0,)
    assert isinstance(holm_adjust(np.array([0.2])), np.ndarray)


def test_holm_equals_statsmodels_multipletests():
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 48, 200):
        p = rng.uniform(0, 1, size) ** 3
        p[rng.integers(0, size, size // 4)] = p[0]  # ties
        expected = multipletests(p, method="holm")[1]
        np.testing.assert_allclose(holm_adjust(p), expected, rtol=0, atol=1e-15)

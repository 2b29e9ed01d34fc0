"""A group against the reference: every statistic against an independent computation."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy.stats import norm

from audit.stats import compare_with_reference

CASES = [
    (30, 100, 60, 100),
    (300, 1000, 15, 25),
    (2, 40, 9, 41),
    (12, 30, 20, 35),
    (0, 25, 300, 1000),
]


def _hypergeometric(x: int, n: int, m: int, selected: int) -> Fraction:
    """P(X = x): x of the group's n drawn among `selected` selections of n + m rows."""
    return Fraction(
        math.comb(selected, x) * math.comb(n + m - selected, n - x), math.comb(n + m, n)
    )


@pytest.mark.parametrize(("a", "n", "c", "m"), CASES)
def test_fisher_one_sided_and_mid_p_equal_the_hypergeometric_sums(a, n, c, m):
    result = compare_with_reference(a, n, c, m)
    lowest = max(0, a + c - m)
    tail = sum(_hypergeometric(x, n, m, a + c) for x in range(lowest, a + 1))
    assert result.fisher_p_value == pytest.approx(float(tail), abs=1e-9)
    mid = tail - _hypergeometric(a, n, m, a + c) / 2
    assert result.mid_p_value == pytest.approx(float(mid), abs=1e-9)


@pytest.mark.parametrize(("a", "n", "c", "m"), CASES)
def test_z_test_equals_the_pooled_closed_form(a, n, c, m):
    result = compare_with_reference(a, n, c, m)
    pooled = (a + c) / (n + m)
    z = (a / n - c / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    assert result.z == pytest.approx(z, abs=1e-9)
    assert result.z_p_value == pytest.approx(2 * norm.sf(abs(z)), abs=1e-9)


@pytest.mark.parametrize(("a", "n", "c", "m"), CASES[:4])
def test_impact_ratio_interval_is_katz_log_method(a, n, c, m):
    result = compare_with_reference(a, n, c, m, confidence_level=0.95)
    ratio = (a / n) / (c / m)
    se = math.sqrt(1 / a - 1 / n + 1 / c - 1 / m)
    z = norm.ppf(0.975)
    assert result.impact_ratio == pytest.approx(ratio, abs=1e-12)
    assert result.ratio_low == pytest.approx(ratio * math.exp(-z * se), abs=1e-9)
    assert result.ratio_high == pytest.approx(ratio * math.exp(z * se), abs=1e-9)
    assert result.ratio_note is None


def test_no_selections_gets_a_corrected_upper_end_and_a_lower_end_of_zero():
    result = compare_with_reference(0, 25, 300, 1000)
    assert result.impact_ratio == 0.0
    assert result.ratio_low == 0.0
    a, b, c, d = 0.5, 25.5, 300.5, 700.5
    shifted = (a / (a + b)) / (c / (c + d))
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    assert result.ratio_high == pytest.approx(shifted * math.exp(norm.ppf(0.975) * se), abs=1e-9)
    assert "0.5" in result.ratio_note


@pytest.mark.parametrize(("a", "n", "c", "m"), CASES)
def test_shortfall_is_selections_at_the_reference_rate_minus_actual(a, n, c, m):
    assert compare_with_reference(a, n, c, m).shortfall == pytest.approx(n * c / m - a, abs=1e-9)


def test_the_issue_reproduction_ratio():
    # race A: 1,000 at 0.30; race B: 25 at 0.60 -> A's impact ratio against B is 0.50
    result = compare_with_reference(300, 1000, 15, 25)
    assert result.impact_ratio == pytest.approx(0.5, abs=1e-12)
    assert result.shortfall == pytest.approx(300.0, abs=1e-9)


def test_no_variation_gives_no_z_statistic():
    result = compare_with_reference(5, 5, 10, 10)
    assert result.z is None and result.z_p_value is None
    assert result.fisher_p_value == 1.0


@pytest.mark.parametrize("bad", [(3, 0, 1, 2), (5, 4, 1, 2), (1, 2, -1, 2)])
def test_impossible_counts_are_refused(bad):
    with pytest.raises(ValueError, match="selected"):
        compare_with_reference(*bad)


def test_every_statistic_equals_the_libraries_on_random_tables():
    """The closed forms against statsmodels' and scipy's own functions."""
    import numpy as np
    from scipy.stats import fisher_exact, hypergeom
    from statsmodels.stats.contingency_tables import Table2x2
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(8)
    for _ in range(300):
        n, m = (int(v) for v in rng.integers(1, 5_000, 2))
        a, c = int(rng.integers(0, n + 1)), int(rng.integers(1, m + 1))
        level = float(rng.choice([0.9, 0.95, 0.99]))
        result = compare_with_reference(a, n, c, m, confidence_level=level)
        table = np.array([[a, n - a], [c, m - c]], dtype=float)
        fisher = fisher_exact(table, alternative="less").pvalue
        assert result.fisher_p_value == pytest.approx(fisher, rel=1e-12, abs=1e-300)
        mid = fisher - 0.5 * hypergeom.pmf(a, n + m, a + c, n)
        assert result.mid_p_value == pytest.approx(max(0.0, mid), rel=1e-9, abs=1e-15)
        if 0 < a + c < n + m:
            z, p = proportions_ztest([a, c], [n, m], alternative="two-sided")
            assert result.z == pytest.approx(z, rel=1e-12)
            assert result.z_p_value == pytest.approx(p, rel=1e-12, abs=1e-300)
        shifted = table + 0.5 if a == 0 else table
        low, high = Table2x2(shifted, shift_zeros=False).riskratio_confint(alpha=1 - level)
        assert result.ratio_high == pytest.approx(high, rel=1e-12)
        assert result.ratio_low == (0.0 if a == 0 else pytest.approx(low, rel=1e-12))

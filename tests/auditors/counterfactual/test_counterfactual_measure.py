"""Paired statistics, each against an independent computation (scipy, a closed form)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from audit.auditors.counterfactual.measure import COCHRAN, MCNEMAR, measure_counterfactuals


def test_two_groups_use_mcnemars_exact_test_a_binomial_test_on_discordant_pairs():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 300)
    b = a.copy()
    b[rng.choice(300, 40, replace=False)] ^= 1  # 40 discordant pairs, in both directions
    m = measure_counterfactuals(np.column_stack([a, b]), None, ("A", "B"))
    only_a = int(((a == 1) & (b == 0)).sum())
    only_b = int(((a == 0) & (b == 1)).sum())
    expected = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    assert m.test.name == MCNEMAR
    assert m.test.p_value == pytest.approx(expected, abs=1e-12)
    assert m.flips == m.test.discordant == 40 and m.flip_rate == pytest.approx(40 / 300)
    assert [r.rate for r in m.rates] == pytest.approx([a.mean(), b.mean()])


def test_more_groups_use_cochrans_q_as_its_closed_form_gives_it():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, (200, 4))
    k = x.shape[1]
    col, row = x.sum(axis=0), x.sum(axis=1)
    total = x.sum()
    q = (k - 1) * (k * (col**2).sum() - total**2) / (k * total - (row**2).sum())
    m = measure_counterfactuals(x, None, ("A", "B", "C", "D"))
    assert m.test.name == COCHRAN
    assert m.test.statistic == pytest.approx(q, rel=1e-12)
    assert m.test.p_value == pytest.approx(stats.chi2.sf(q, k - 1), rel=1e-9)


def test_wilson_intervals_match_the_closed_form_and_never_collapse_at_zero():
    decisions = np.zeros((50, 2), dtype=int)
    decisions[:10, 0] = 1
    m = measure_counterfactuals(decisions, None, ("A", "B"))
    z = stats.norm.ppf(0.975)
    for rate in m.rates:
        p, n = rate.rate, rate.rows
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        assert (rate.ci_low, rate.ci_high) == pytest.approx(
            (centre - half, centre + half), abs=1e-12
        )
    assert m.rates[1].rate == 0 and m.rates[1].ci_high > 0.05  # not the collapsed [0, 0]


def test_score_differences_carry_the_paired_t_interval():
    rng = np.random.default_rng(3)
    base = rng.uniform(size=120)
    shifted = base - 0.05 * rng.uniform(size=120)
    m = measure_counterfactuals(
        np.column_stack([base > 0.5, shifted > 0.5]).astype(int),
        np.column_stack([base, shifted]),
        ("A", "B"),
    )
    (diff,) = m.score_differences
    expected = stats.ttest_rel(shifted, base).confidence_interval(0.95)
    assert diff.mean == pytest.approx(float(np.mean(shifted - base)), abs=1e-15)
    assert (diff.ci_low, diff.ci_high) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_identical_decisions_give_no_evidence_of_a_difference():
    same = np.ones((30, 3), dtype=int)
    m = measure_counterfactuals(same, None, ("A", "B", "C"))
    assert (m.flips, m.test.p_value, m.flipped_rows) == (0, 1.0, ())


def test_flips_are_counted_in_each_direction_against_the_reference():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, (250, 3))
    m = measure_counterfactuals(x, None, ("A", "B", "C"))
    for j, d in enumerate(m.directions, start=1):
        table = pd.crosstab(x[:, 0], x[:, j])
        assert d.group == ("A", "B", "C")[j]
        assert (d.reference_only, d.group_only, d.rows) == (table.loc[1, 0], table.loc[0, 1], 250)
    pair = measure_counterfactuals(x[:, :2], None, ("A", "B"))
    (d,) = pair.directions
    table = np.array([[((x[:, 0] == a) & (x[:, 1] == b)).sum() for b in (1, 0)] for a in (1, 0)])
    assert pair.test.statistic == mcnemar(table, exact=True).statistic
    assert pair.test.statistic == min(d.reference_only, d.group_only)
    assert d.reference_only + d.group_only == pair.flips

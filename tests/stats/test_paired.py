"""McNemar's exact test and Cochran's Q against scipy's binomial test and Cochran's closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from audit.stats.paired import COCHRAN, MCNEMAR, paired_test


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mcnemar_is_the_exact_binomial_test_on_discordant_pairs(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, 200)
    b = np.where(rng.uniform(size=200) < 0.15, 1 - a, a)
    only_a, only_b = int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
    result = paired_test(np.column_stack([a, b]))
    expected = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    assert (result.name, result.discordant) == (MCNEMAR, only_a + only_b)
    assert result.p_value == pytest.approx(expected, rel=1e-12)


def test_cochrans_q_follows_its_closed_form():
    x = np.random.default_rng(5).integers(0, 2, (150, 3))
    k = x.shape[1]
    col, row, total = x.sum(axis=0), x.sum(axis=1), x.sum()
    q = (k - 1) * (k * (col**2).sum() - total**2) / (k * total - (row**2).sum())
    result = paired_test(x)
    assert result.name == COCHRAN
    assert result.statistic == pytest.approx(q, rel=1e-12)
    assert result.p_value == pytest.approx(stats.chi2.sf(q, k - 1), rel=1e-9)


def test_no_discordant_case_is_no_evidence_of_a_difference():
    assert paired_test(np.zeros((10, 2), dtype=int)).p_value == 1.0
    assert paired_test(np.ones((10, 4), dtype=int)).p_value == 1.0

"""Confusion counts in one pass, and rates and comparisons computed from them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import confusion_matrix

from audit.auditors.fairness.counts import (
    RATES,
    compare_groups,
    confusion_counts,
    rate_values,
)

RATE = {rate.name: rate for rate in RATES}


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda groups: st.tuples(
            st.just(groups),
            hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(0, groups - 1)),
        )
    ),
    st.randoms(use_true_random=False),
)
def test_counts_equal_sklearn_confusion_matrices_per_group(case, random):
    groups, codes = case
    y_true = np.array([random.randint(0, 1) for _ in codes], dtype=np.int64)
    y_pred = np.array([random.randint(0, 1) for _ in codes], dtype=np.int64)
    counts = confusion_counts(codes, groups, y_true, y_pred)
    assert counts.shape == (groups, 4)
    for g in range(groups):
        rows = codes == g
        if not rows.any():
            assert counts[g].tolist() == [0, 0, 0, 0]
            continue
        expected = confusion_matrix(y_true[rows], y_pred[rows], labels=[0, 1]).ravel()
        assert counts[g].tolist() == expected.tolist()


def test_rates_follow_their_definitions():
    # tn, fp, fn, tp
    counts = np.array([[50, 10, 5, 35]])
    assert rate_values(counts, RATE["selection_rate"])[0] == 45 / 100
    assert rate_values(counts, RATE["accuracy"])[0] == 85 / 100
    assert rate_values(counts, RATE["true_positive_rate"])[0] == 35 / 40
    assert rate_values(counts, RATE["false_positive_rate"])[0] == 10 / 60
    assert rate_values(counts, RATE["false_negative_rate"])[0] == 5 / 40
    assert rate_values(counts, RATE["precision"])[0] == 35 / 45


def test_rates_with_a_zero_denominator_are_nan_without_warnings():
    counts = np.array([[7, 0, 0, 0], [0, 0, 3, 0]])  # no positives; no negatives, no decisions
    with np.errstate(all="raise"):
        tpr = rate_values(counts, RATE["true_positive_rate"])
        fpr = rate_values(counts, RATE["false_positive_rate"])
        precision = rate_values(counts, RATE["precision"])
    assert np.isnan(tpr[0])
    assert tpr[1] == 0.0
    assert fpr[0] == 0.0
    assert np.isnan(fpr[1])
    assert np.isnan(precision).all()


def test_rates_broadcast_over_resamples():
    counts = np.arange(24).reshape(3, 2, 4)
    values = rate_values(counts, RATE["accuracy"])
    assert values.shape == (3, 2)
    assert values[2, 1] == (20 + 23) / (20 + 21 + 22 + 23)


def test_comparisons_use_only_comparable_defined_groups():
    values = np.array([0.2, 0.9, np.nan, 0.5])
    comparison = compare_groups(values, np.array([True, False, True, True]))
    assert comparison.compared == 2
    assert comparison.difference == pytest.approx(0.3)
    assert comparison.ratio == pytest.approx(0.4)
    lonely = compare_groups(values, np.array([True, False, False, False]))
    assert (lonely.compared, lonely.difference, lonely.ratio) == (1, None, None)
    zeros = compare_groups(np.zeros(3), np.ones(3, dtype=bool))
    assert (zeros.difference, zeros.ratio) == (0.0, None)

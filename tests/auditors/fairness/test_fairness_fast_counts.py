"""Blocked confusion counts, the joint table of several columns, and interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from audit.auditors.fairness import counts as counts_module
from audit.auditors.fairness.bootstrap import percentile_interval, resample_counts
from audit.auditors.fairness.counts import (
    RATES,
    confusion_counts,
    joint_confusion_counts,
    rate_values,
)


def _reference(codes, n_groups, y_true, y_pred):
    """Counts by scattering one row at a time."""
    out = np.zeros((n_groups, 4), dtype=np.int64)
    np.add.at(out, (np.asarray(codes), 2 * np.asarray(y_true, int) + np.asarray(y_pred, int)), 1)
    return out


@pytest.mark.parametrize(
    "cast",
    [np.int64, np.int8, np.uint8, bool, np.float64],
    ids=["int64", "int8", "uint8", "bool", "float64"],
)
def test_counts_are_the_same_across_blocks_and_outcome_dtypes(monkeypatch, cast):
    monkeypatch.setattr(counts_module, "_BLOCK_ROWS", 7)  # 103 rows: 15 blocks, a short last one
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 5, 103)
    y_true, y_pred = rng.integers(0, 2, 103), rng.integers(0, 2, 103)
    expected = _reference(codes, 5, y_true, y_pred)
    got = confusion_counts(codes.astype(np.int16), 5, y_true.astype(cast), y_pred.astype(cast))
    assert got.dtype == np.int64
    assert np.array_equal(got, expected)
    assert confusion_counts(codes[:0], 5, y_true[:0], y_pred[:0]).tolist() == [[0] * 4] * 5


def test_joint_table_sums_to_every_grouping_counted_alone(monkeypatch):
    monkeypatch.setattr(counts_module, "_BLOCK_ROWS", 64)
    rng = np.random.default_rng(8)
    widths = [2, 3, 4]
    columns = [rng.integers(0, w, 1000) for w in widths]
    columns[1][columns[0] == 1] = np.minimum(columns[1][columns[0] == 1], 1)  # unused combos
    y_true, y_pred = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000).astype(bool)
    joint = joint_confusion_counts(
        [columns[0].astype(np.int8), columns[1], columns[2]], widths, y_true, y_pred
    )
    assert joint.shape == (2, 3, 4, 4)
    assert joint.sum() == 1000
    combined = (columns[0] * 3 + columns[1]) * 4 + columns[2]
    assert np.array_equal(joint.reshape(-1, 4), _reference(combined, 24, y_true, y_pred))
    assert joint[1, 2].sum() == 0  # a combination no row holds counts zero
    for axis, (codes, width) in enumerate(zip(columns, widths, strict=True)):
        others = tuple(a for a in range(3) if a != axis)
        alone = _reference(codes, width, y_true, y_pred)
        assert np.array_equal(joint.sum(axis=others), alone)


def test_joint_table_refuses_mismatched_or_too_large_inputs(monkeypatch):
    codes = [np.zeros(3, dtype=np.int64)] * 2
    y = np.zeros(3, dtype=np.int64)
    with pytest.raises(ValueError, match="one width per code array"):
        joint_confusion_counts(codes, [1], y, y)
    monkeypatch.setattr(counts_module, "JOINT_LIMIT", 15)
    with pytest.raises(ValueError, match="too many"):
        joint_confusion_counts(codes, [2, 2], y, y)


def test_bootstrap_intervals_cover_the_true_rates_at_their_level():
    # 1,000 datasets of 300 rows drawn from known cell probabilities, each bootstrapped
    # 1,000 times like the auditor does; every dataset is one "group" of one call.
    # Monte Carlo error of a coverage share: sqrt(0.95 * 0.05 / 1000) = 0.007.
    cells = np.array([0.45, 0.15, 0.10, 0.30])  # TN, FP, FN, TP
    datasets, rows = 1000, 300
    rng = np.random.default_rng(20261123)
    drawn = rng.multinomial(rows, cells, size=datasets)
    resampled = resample_counts(drawn, 1000, rng)
    for rate in RATES:
        truth = float(rate_values(cells, rate))
        estimates = rate_values(resampled, rate)
        for level, tolerance in [(0.95, 0.025), (0.80, 0.04)]:
            low, high = percentile_interval(estimates, level)
            coverage = float(np.mean((low <= truth) & (truth <= high)))
            assert coverage == pytest.approx(level, abs=tolerance), (rate.name, level)

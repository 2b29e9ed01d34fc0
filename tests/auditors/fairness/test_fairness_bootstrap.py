"""Bootstrap confidence intervals: contain the estimate, reproducible, about nominal coverage."""

from __future__ import annotations

import numpy as np
import pytest

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.auditors.fairness.bootstrap import (
    percentile_interval,
    resample_counts,
    resample_regression_errors,
)
from audit.auditors.fairness.counts import RATES, rate_values
from audit.core.context import Task
from audit.core.measurements import GroupStatus

SELECTION = RATES[0]
PER_GROUP = [rate.name for rate in RATES]


@pytest.fixture(scope="module")
def bootstrapped(adult_model_split, make_context):
    held_out, y_true, y_pred, _ = adult_model_split
    context = make_context(held_out, y_true, y_pred, ["sex", "race"], seed=11)
    return FairnessAuditor().run(context, FairnessConfig(bootstrap=300, rate_interval="bootstrap"))


def test_intervals_contain_the_estimate(bootstrapped):
    checked = 0
    for metric in bootstrapped.metrics:
        if metric.metric not in PER_GROUP:
            continue
        assert metric.confidence_level == 0.95
        for group in metric.groups:
            if group.value is None or group.ci_low is None:
                continue
            assert group.ci_low <= group.value <= group.ci_high, (metric.metric, group)
            assert group.ci_low < group.ci_high or group.value in (0.0, 1.0)
            checked += 1
    assert checked > 100


def test_large_groups_get_narrower_intervals(bootstrapped, pick):
    groups = {g.group: g for g in pick(bootstrapped, "selection_rate", ["race"]).groups}
    white, other = groups["race=White"], groups["race=Other"]
    assert white.count > 50 * other.count
    assert white.ci_high - white.ci_low < (other.ci_high - other.ci_low) / 3


def test_intervals_are_reproducible_with_the_same_seed(adult_model_split, run_audit, pick):
    held_out, y_true, y_pred, _ = adult_model_split

    def intervals(seed):
        output = run_audit(
            held_out,
            y_true,
            y_pred,
            ["sex", "race"],
            seed=seed,
            bootstrap=50,
            rate_interval="bootstrap",
        )
        return [
            (g.ci_low, g.ci_high)
            for g in pick(output, "true_positive_rate", ["sex", "race"]).groups
        ]

    assert intervals(5) == intervals(5)
    assert intervals(5) != intervals(6)


def test_no_resamples_no_intervals(adult_model_split, run_audit, pick):
    held_out, y_true, y_pred, _ = adult_model_split
    output = run_audit(held_out, y_true, y_pred, ["sex"], bootstrap=0, rate_interval="bootstrap")
    selection = pick(output, "selection_rate", ["sex"])
    assert selection.confidence_level is None
    assert all(g.ci_low is None and g.ci_high is None for g in selection.groups)


def test_percentile_intervals_have_about_nominal_coverage():
    # 200 independent samples of n=400 Bernoulli(0.3) decisions, each bootstrapped 200
    # times; every sample is one "group", so one call does the whole simulation.
    rng = np.random.default_rng(20240501)
    p, n, repetitions = 0.3, 400, 200
    positives = rng.binomial(n, p, size=repetitions)
    counts = np.zeros((repetitions, 4), dtype=np.int64)
    counts[:, 0], counts[:, 1] = n - positives, positives  # y_true = 0; y_pred ~ Bernoulli
    resampled = resample_counts(counts, 200, rng)
    low, high = percentile_interval(rate_values(resampled, SELECTION), 0.95)
    coverage = np.mean((low <= p) & (p <= high))
    assert 0.88 <= coverage <= 0.99
    # The multinomial draw matches resampling rows: the spread of p* is sqrt(p(1-p)/n).
    spread = rate_values(resampled, SELECTION).std(axis=0).mean()
    assert spread == pytest.approx(np.sqrt(p * (1 - p) / n), rel=0.1)


def test_resampled_counts_keep_each_group_size():
    counts = np.array([[5, 0, 3, 2], [0, 0, 0, 1], [0, 0, 0, 0]])
    resampled = resample_counts(counts, 30, np.random.default_rng(0))
    assert resampled.shape == (30, 3, 4)
    assert (resampled.sum(axis=-1) == counts.sum(axis=-1)).all()
    assert (resampled[:, :, 1] == 0).all()  # an empty cell stays empty
    assert (resampled[:, 1] == [0, 0, 0, 1]).all()


def test_too_many_undefined_resamples_give_no_interval():
    estimates = np.full((100, 3), 0.5)
    estimates[:5, 1] = np.nan  # 5% undefined: dropped, interval kept
    estimates[:30, 2] = np.nan  # 30% undefined: no interval
    low, high = percentile_interval(estimates, 0.9)
    assert (low[0], high[0]) == (0.5, 0.5)
    assert (low[1], high[1]) == (0.5, 0.5)
    assert np.isnan(low[2])
    assert np.isnan(high[2])


def test_a_rare_positive_leaves_the_interval_out(run_audit, pick, adult):
    # One positive among 40 rows: about a third of resamples have no positives.
    data = adult.iloc[:80].assign(group=["a"] * 40 + ["b"] * 40)
    y_true = np.array([1] + [0] * 39 + [1, 0] * 20, dtype=np.int8)
    output = run_audit(
        data,
        y_true,
        y_true,
        ["group"],
        min_group_size=1,
        bootstrap=200,
        rate_interval="bootstrap",
    )
    tpr = {g.group: g for g in pick(output, "true_positive_rate", ["group"]).groups}
    assert tpr["group=a"].value == 1.0
    assert tpr["group=a"].status is GroupStatus.OK
    assert (tpr["group=a"].ci_low, tpr["group=a"].ci_high) == (None, None)
    assert tpr["group=b"].ci_low == 1.0


def test_regression_intervals(adult, run_audit, pick):
    sample = adult.sample(n=3000, random_state=5).reset_index(drop=True)
    target = sample["hours-per-week"].to_numpy(dtype=float)
    predicted = np.full_like(target, target.mean())
    output = run_audit(
        sample, target, predicted, ["sex", "race"], task=Task.REGRESSION, bootstrap=200, seed=3
    )
    for metric in ("mean_absolute_error", "root_mean_squared_error"):
        measured = pick(output, metric, ["sex", "race"])
        assert measured.confidence_level == 0.95
        for group in measured.groups:
            assert group.ci_low <= group.value <= group.ci_high, (metric, group)


def test_regression_resampling_keeps_groups_apart():
    errors = np.array([1.0, 1.0, 1.0, -3.0, 3.0])
    codes = np.array([0, 0, 0, 1, 1])
    mae, rmse = resample_regression_errors(errors, codes, 3, 40, np.random.default_rng(1))
    assert mae.shape == rmse.shape == (40, 3)
    assert (mae[:, 0] == 1.0).all()
    assert (mae[:, 1] == 3.0).all()
    assert (rmse[:, 1] == 3.0).all()
    assert np.isnan(mae[:, 2]).all()

"""The auditor's numbers equal fairlearn's MetricFrame and disparity functions on Adult."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.linear_model import LinearRegression
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    precision_score,
    root_mean_squared_error,
)

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.core.context import Task

TOL = 1e-12

REFERENCE = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": functools.partial(precision_score, zero_division=np.nan),
}

GROUPINGS = [("sex",), ("race",), ("sex", "race")]


def _label(columns: tuple[str, ...], key: object) -> str:
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{c}={v}" for c, v in zip(columns, values, strict=True))


@pytest.fixture(scope="module")
def audited(adult_model_split, make_context):
    held_out, y_true, y_pred, _ = adult_model_split
    context = make_context(held_out, y_true, y_pred, ["sex", "race"])
    output = FairnessAuditor().run(context, FairnessConfig(min_group_size=1, bootstrap=0))
    return held_out, y_true, y_pred, output


@pytest.mark.parametrize("columns", GROUPINGS, ids=" x ".join)
def test_group_rates_equal_metricframe(audited, columns, pick):
    held_out, y_true, y_pred, output = audited
    frame = MetricFrame(
        metrics=REFERENCE,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=held_out[list(columns)],
    )
    # MetricFrame lists every combination of values; the auditor only those present.
    by_group = frame.by_group.dropna(how="all")
    for metric in REFERENCE:
        measured = pick(output, metric, columns)
        ours = {g.group: g.value for g in measured.groups}
        reference = {_label(columns, key): value for key, value in by_group[metric].items()}
        assert ours.keys() == reference.keys()
        for group, expected in reference.items():
            if np.isnan(expected):
                assert ours[group] is None, (metric, group)
            else:
                assert ours[group] == pytest.approx(expected, abs=TOL, rel=0), (metric, group)
        assert measured.value == pytest.approx(frame.overall[metric], abs=TOL, rel=0)


def test_groups_hold_the_rows_metricframe_counts(audited, pick):
    held_out, _, _, output = audited
    counts = held_out.groupby(["sex", "race"]).size()
    measured = pick(output, "selection_rate", ("sex", "race"))
    assert {g.group: g.count for g in measured.groups} == {
        _label(("sex", "race"), key): int(n) for key, n in counts.items()
    }
    assert [g.group for g in measured.groups] == sorted(g.group for g in measured.groups)


@pytest.mark.parametrize("columns", GROUPINGS, ids=" x ".join)
def test_disparities_equal_fairlearn(audited, columns, pick):
    held_out, y_true, y_pred, output = audited
    features = held_out[list(columns)]
    expected = {
        "demographic_parity_difference": demographic_parity_difference,
        "demographic_parity_ratio": demographic_parity_ratio,
        "equalized_odds_difference": equalized_odds_difference,
        "equalized_odds_ratio": equalized_odds_ratio,
    }
    for metric, function in expected.items():
        measured = pick(output, metric, columns)
        reference = function(y_true, y_pred, sensitive_features=features)
        assert measured.groups == ()
        assert measured.value == pytest.approx(reference, abs=TOL, rel=0), metric


def test_disparities_ignore_groups_that_are_not_comparable(adult_model_split, run_audit, pick):
    held_out, y_true, y_pred, _ = adult_model_split
    output = run_audit(held_out, y_true, y_pred, ["race"], min_group_size=200, bootstrap=0)
    sizes = held_out["race"].value_counts()
    kept = sizes[sizes >= 200].index
    assert 2 <= len(kept) < len(sizes)  # the setting bites on real data
    rows = held_out["race"].isin(kept).to_numpy()
    reference = demographic_parity_difference(
        y_true[rows], y_pred[rows], sensitive_features=held_out["race"][rows]
    )
    measured = pick(output, "demographic_parity_difference", ("race",))
    assert measured.value == pytest.approx(reference, abs=TOL, rel=0)
    assert f"{len(kept)} of {len(sizes)} groups" in measured.description


def test_regression_errors_equal_metricframe(adult, run_audit, pick):
    sample = adult.sample(n=6000, random_state=3).reset_index(drop=True)
    features = sample[["age", "education-num", "capital-gain"]].to_numpy(dtype=float)
    target = sample["hours-per-week"].to_numpy(dtype=float)
    predicted = LinearRegression().fit(features[:2000], target[:2000]).predict(features)
    output = run_audit(
        sample, target, predicted, ["sex", "race"], task=Task.REGRESSION, min_group_size=1
    )
    reference = {
        "mean_absolute_error": mean_absolute_error,
        "root_mean_squared_error": root_mean_squared_error,
    }
    for columns in GROUPINGS:
        frame = MetricFrame(
            metrics=reference,
            y_true=target,
            y_pred=predicted,
            sensitive_features=sample[list(columns)],
        )
        by_group = frame.by_group.dropna(how="all")
        counts = sample.groupby(list(columns)).size()
        for metric in reference:
            measured = pick(output, metric, columns)
            ours = {g.group: (g.value, g.count) for g in measured.groups}
            expected = {
                _label(columns, key): (value, int(counts[key]))
                for key, value in by_group[metric].items()
            }
            assert ours.keys() == expected.keys()
            for group, (value, count) in expected.items():
                assert ours[group][0] == pytest.approx(value, rel=TOL, abs=0), (metric, group)
                assert ours[group][1] == count
            assert measured.value == pytest.approx(frame.overall[metric], rel=TOL, abs=0)
    assert output.find("demographic_parity_difference") == ()


def test_metricframe_reference_would_catch_a_wrong_rate(audited, pick):
    """Guard against a vacuous comparison: the groups' rates do differ."""
    _, _, _, output = audited
    values = [g.value for g in pick(output, "selection_rate", ("sex",)).groups]
    assert len(set(values)) == 2

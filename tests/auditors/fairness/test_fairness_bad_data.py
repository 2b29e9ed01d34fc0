"""What cannot be measured becomes a reason or an UNDEFINED group, never an exception."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.core.context import Task
from audit.core.measurements import GroupStatus
from audit.core.protocols import Auditor

BINARY_METRICS = {
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "precision",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
}


def test_the_auditor_meets_the_protocol():
    auditor = FairnessAuditor()
    assert isinstance(auditor, Auditor)
    assert FairnessAuditor.name == "fairness"
    assert FairnessAuditor.Config is FairnessConfig
    assert set(auditor.metrics()) == BINARY_METRICS | {
        "ll144_rate",
        "mean_absolute_error",
        "root_mean_squared_error",
    }
    assert all(isinstance(text, str) and text for text in auditor.metrics().values())


def test_a_group_with_one_class_has_undefined_rates(adult, adult_income, run_audit, pick):
    # Adult's 7 'Never-worked' rows all earn <=50K: no actual positives in that group.
    never_worked = (adult["workclass"] == "Never-worked").to_numpy()
    assert never_worked.sum() == 7
    assert adult_income[never_worked].sum() == 0
    output = run_audit(adult, adult_income, adult_income, ["workclass"], min_group_size=1)
    tpr = {g.group: g for g in pick(output, "true_positive_rate", ["workclass"]).groups}
    group = tpr["workclass=Never-worked"]
    assert group.value is None
    assert group.status is GroupStatus.UNDEFINED
    assert group.note == "no actual positives in this group"
    assert (group.ci_low, group.ci_high) == (None, None)
    precision = {g.group: g for g in pick(output, "precision", ["workclass"]).groups}
    assert precision["workclass=Never-worked"].note == "no positive decisions in this group"
    fpr = {g.group: g for g in pick(output, "false_positive_rate", ["workclass"]).groups}
    assert fpr["workclass=Never-worked"].value == 0.0
    assert fpr["workclass=Never-worked"].status is GroupStatus.OK
    eo = pick(output, "equalized_odds_difference", ["workclass"])
    assert eo.value == 0.0  # a perfect model; the undefined group is left out
    # 'Never-worked' and 'Without-pay' have no high earners; 7 of the 9 groups remain.
    with_positives = adult.groupby("workclass", dropna=False)["income"].apply(
        lambda s: (s == ">50K").any()
    )
    assert int(with_positives.sum()) == 7
    assert "true positive rate over 7 of 9 groups" in eo.description
    assert "false positive rate over 9 of 9 groups" in eo.description


def test_an_undefined_rate_in_a_small_group_keeps_the_small_status(
    adult, adult_income, run_audit, pick
):
    output = run_audit(adult, adult_income, adult_income, ["workclass"], bootstrap=0)
    tpr = {g.group: g for g in pick(output, "true_positive_rate", ["workclass"]).groups}
    group = tpr["workclass=Never-worked"]
    assert group.status is GroupStatus.SMALL
    assert group.note == ("under the minimum group size of 30; no actual positives in this group")


def test_empty_data_gives_reasons(adult, run_audit):
    empty = adult.iloc[:0]
    no_rows = np.zeros(0, dtype=np.int8)
    output = run_audit(empty, no_rows, no_rows, ["sex", "race"])
    assert {m.metric for m in output.metrics} == BINARY_METRICS
    assert {m.grouping for m in output.metrics} == {("sex",), ("race",), ("sex", "race")}
    for metric in output.metrics:
        assert metric.value is None
        assert metric.reason == "the data has no rows"
    assert output.warnings == ("fairness could not be measured: the data has no rows",)


def test_an_all_missing_sensitive_column_gives_one_unknown_group(
    adult, adult_income, run_audit, pick
):
    data = adult.assign(sex=np.nan)
    output = run_audit(data, adult_income, adult_income, ["sex"], bootstrap=20)
    selection = pick(output, "selection_rate", ["sex"])
    assert [(g.group, g.count) for g in selection.groups] == [("sex=unknown", 32561)]
    dp = pick(output, "demographic_parity_difference", ["sex"])
    assert dp.value is None
    assert dp.reason.startswith("fewer than two groups have a comparable selection rate (1 of 1)")
    assert any("has no values" in w for w in output.warnings)
    excluded = run_audit(data, adult_income, adult_income, ["sex"], unknown_group="exclude")
    assert pick(excluded, "selection_rate", ["sex"]).groups[0].status is GroupStatus.EXCLUDED
    assert "(0 of 1)" in pick(excluded, "equalized_odds_ratio", ["sex"]).reason


def test_a_sensitive_column_absent_from_the_data_is_named(adult, adult_income, run_audit):
    output = run_audit(adult, adult_income, adult_income, ["sex", "gender"])
    reason = output.metrics[0].reason
    assert reason.startswith("sensitive column(s) 'gender' not in the data; its columns are: age")
    assert all(m.value is None for m in output.metrics)


def test_no_sensitive_columns(adult, adult_income, run_audit):
    output = run_audit(adult, adult_income, adult_income, [])
    assert {m.grouping for m in output.metrics} == {()}
    assert "no sensitive columns" in output.metrics[0].reason


@pytest.mark.parametrize(
    ("y_pred", "expected"),
    [
        (lambda y: y * 2, "y_pred holds values other than 0 and 1 (2)"),
        (lambda y: y[:-1], "y_pred has shape (32560,) for 32561 rows of data"),
        (lambda y: np.where(y == 1, np.nan, 0.0), "y_pred has 7841 missing or infinite values"),
        (lambda y: np.array(["a"] * len(y)), "y_pred is not numeric"),
    ],
    ids=["not 0/1", "too short", "NaN", "text"],
)
def test_unusable_predictions_give_reasons(adult, adult_income, run_audit, y_pred, expected):
    output = run_audit(adult, adult_income, y_pred(adult_income), ["sex"])
    assert all(m.value is None for m in output.metrics)
    assert output.metrics[0].reason.startswith(expected)


def test_boolean_outcomes_are_accepted(adult, adult_income, run_audit, pick):
    as_bool = adult_income.astype(bool)
    output = run_audit(adult, as_bool, as_bool, ["sex"], bootstrap=0)
    assert pick(output, "accuracy", ["sex"]).value == 1.0


def test_no_positive_decisions_leave_ratios_undefined(adult, adult_income, run_audit, pick):
    nobody = np.zeros_like(adult_income)
    output = run_audit(adult, adult_income, nobody, ["sex"], bootstrap=50)
    assert pick(output, "demographic_parity_difference", ["sex"]).value == 0.0
    ratio = pick(output, "demographic_parity_ratio", ["sex"])
    assert ratio.value is None
    assert "selection rate of 0" in ratio.reason
    precision = pick(output, "precision", ["sex"])
    assert precision.value is None
    assert precision.reason == "no positive decisions in the data; rate undefined"
    assert all(g.status is GroupStatus.UNDEFINED for g in precision.groups)
    eo_ratio = pick(output, "equalized_odds_ratio", ["sex"])
    assert eo_ratio.value is None
    assert "true positive rate of 0" in eo_ratio.reason


def test_regression_with_missing_values_gives_reasons(adult, run_audit):
    target = adult["hours-per-week"].to_numpy(dtype=float)
    predicted = target.copy()
    predicted[:3] = np.nan
    output = run_audit(adult, target, predicted, ["sex"], task=Task.REGRESSION)
    assert {m.metric for m in output.metrics} == {"mean_absolute_error", "root_mean_squared_error"}
    assert output.metrics[0].reason == "y_pred has 3 missing or infinite values"


def test_output_carries_json_safe_settings_method_and_limitations(adult, adult_income, run_audit):
    output = run_audit(adult, adult_income, adult_income, ["sex"], min_group_size=5, bootstrap=10)
    assert output.auditor == "fairness"
    assert json.loads(json.dumps(output.config)) == {
        **FairnessConfig().model_dump(mode="json"),
        "min_group_size": 5,
        "bootstrap": 10,
    }
    assert "MetricFrame" in output.method
    assert "95% Wilson score intervals" in output.method
    assert any("causes" in text for text in output.limitations)
    assert any("calibration" in text for text in output.limitations)

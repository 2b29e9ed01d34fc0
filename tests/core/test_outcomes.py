import numpy as np
import pandas as pd
import pytest

from audit.core.context import Task
from audit.core.outcomes import infer_task, resolve_outcomes
from audit.core.protocols import Predictions
from audit.errors import DataError


def test_string_labels_map_to_the_positive_label():
    target = pd.Series([">50K", "<=50K", ">50K", "<=50K"], name="income")
    preds = Predictions(labels=np.array([">50K", ">50K", "<=50K", "<=50K"]))
    outcomes, positive = resolve_outcomes(target, preds, positive_label=">50K")
    assert positive == ">50K"
    assert outcomes.task is Task.BINARY
    assert outcomes.y_true.tolist() == [1, 0, 1, 0]
    assert outcomes.y_pred.tolist() == [1, 1, 0, 0]


def test_zero_one_predictions_mean_the_positive_label():
    target = pd.Series(["yes", "no", "no"], name="hired")
    preds = Predictions(labels=np.array([1, 0, 1]))
    outcomes, _ = resolve_outcomes(target, preds, positive_label="yes")
    assert outcomes.y_pred.tolist() == [1, 0, 1]


def test_threshold_turns_scores_into_decisions():
    target = pd.Series([1, 0, 1, 0], name="y")
    preds = Predictions(labels=None, scores=np.array([0.9, 0.5, 0.49, 0.1]))
    outcomes, positive = resolve_outcomes(target, preds, threshold=0.5)
    assert positive == 1
    assert outcomes.y_pred.tolist() == [1, 1, 0, 0]
    assert outcomes.y_score is not None and outcomes.y_score.tolist() == [0.9, 0.5, 0.49, 0.1]


def test_a_threshold_reads_one_probability_per_row_as_scores():
    # an MLflow pyfunc serving predict_proba[:, 1] answers with a flat list of floats,
    # which arrives as labels; with a threshold it is P(positive)
    target = pd.Series([1, 0, 1, 0], name="y")
    preds = Predictions(labels=np.array([0.9, 0.5, 0.49, 0.1]))
    outcomes, _ = resolve_outcomes(target, preds, threshold=0.5)
    assert outcomes.y_pred.tolist() == [1, 1, 0, 0]
    assert outcomes.y_score.tolist() == [0.9, 0.5, 0.49, 0.1]


def test_a_threshold_on_zero_one_labels_is_refused():
    target = pd.Series([1, 0, 1, 0], name="y")
    with pytest.raises(DataError, match="returns labels only"):
        resolve_outcomes(target, Predictions(labels=np.array([1, 0, 0, 1])), threshold=0.5)


def test_scores_without_threshold_are_refused():
    target = pd.Series([1, 0], name="y")
    with pytest.raises(DataError, match="--threshold"):
        resolve_outcomes(target, Predictions(labels=None, scores=np.array([0.2, 0.8])))


def test_missing_target_values_are_refused():
    target = pd.Series([1, None, 0], name="y")
    with pytest.raises(DataError, match="target column 'y' has 1 missing values"):
        resolve_outcomes(target, Predictions(labels=np.array([1, 0, 0])))


def test_prediction_count_must_match_rows():
    target = pd.Series([1, 0, 1], name="y")
    with pytest.raises(DataError, match="2 predictions for 3 rows"):
        resolve_outcomes(target, Predictions(labels=np.array([1, 0])))


def test_unknown_predicted_labels_are_refused():
    target = pd.Series(["a", "b"], name="y")
    with pytest.raises(DataError, match="not among the target's labels"):
        resolve_outcomes(target, Predictions(labels=np.array(["c", "a"])), positive_label="a")


def test_string_target_needs_a_positive_label():
    target = pd.Series(["good", "bad"], name="credit")
    with pytest.raises(DataError, match="--positive-label"):
        resolve_outcomes(target, Predictions(labels=np.array(["good", "bad"])))


def test_positive_label_must_occur_in_target():
    target = pd.Series(["good", "bad"], name="credit")
    with pytest.raises(DataError, match="does not occur"):
        resolve_outcomes(target, Predictions(labels=np.array(["good", "bad"])), positive_label="ok")


def test_task_inference():
    assert infer_task(pd.Series([0, 1, 1]), None) is Task.BINARY
    assert infer_task(pd.Series([1.5, 2.0, 3.25]), None) is Task.REGRESSION
    assert infer_task(pd.Series(["a", "b", "c"]), "a") is Task.BINARY
    with pytest.raises(DataError, match="3 classes"):
        infer_task(pd.Series(["a", "b", "c"], name="y"), None)


def test_a_few_whole_numbers_are_not_taken_for_a_regression_target():
    # a 0/1 target with a stray 2 measured no selection rate, and said nothing of why
    with pytest.raises(DataError, match=r"'y' has 3 distinct whole numbers \(0, 1, 2\)"):
        infer_task(pd.Series([0, 1, 1, 0, 2], name="y"), None)
    assert infer_task(pd.Series([0, 1, 2]), 1) is Task.BINARY  # the class is named
    assert infer_task(pd.Series(range(11)), None) is Task.REGRESSION  # 11 values: a count
    assert infer_task(pd.Series([0.0, 1.0, 2.5]), None) is Task.REGRESSION


def test_regression_outcomes_are_floats():
    target = pd.Series([1.0, 2.0, 3.0], name="y")
    outcomes, positive = resolve_outcomes(
        target, Predictions(labels=np.array([1.5, 2.0, 2.5])), task=Task.REGRESSION
    )
    assert positive is None
    assert outcomes.task is Task.REGRESSION
    assert outcomes.y_pred.dtype == float

"""SklearnAdapter gives exactly the estimator's own predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audit.adapters import SklearnAdapter
from audit.core.protocols import ModelAdapter
from audit.errors import ModelError, ModelSpecError


def test_labels_and_scores_are_the_pipelines_own(pipeline, audit_rows):
    adapter = SklearnAdapter(pipeline)
    predictions = adapter.predict_batch(audit_rows)

    assert isinstance(adapter, ModelAdapter)
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == pipeline.predict(audit_rows).tolist()
    assert set(predictions.labels) <= {">50K", "<=50K"}
    np.testing.assert_array_equal(predictions.scores, pipeline.predict_proba(audit_rows)[:, 1])
    assert list(pipeline.classes_) == ["<=50K", ">50K"]  # so column 1 is '>50K'


def test_small_batches_give_the_same_result(pipeline, audit_rows, predict_in_batches):
    whole = SklearnAdapter(pipeline).predict_batch(audit_rows)
    batched = predict_in_batches(SklearnAdapter(pipeline, batch_size=37), audit_rows)

    assert batched.labels.tolist() == whole.labels.tolist()
    np.testing.assert_allclose(batched.scores, whole.scores, rtol=0, atol=1e-12)


def test_regressor_gives_values_and_no_scores(train, numeric, audit_rows):
    X, _ = train
    regressor = LinearRegression().fit(X[numeric], X["hours-per-week"])
    predictions = SklearnAdapter(regressor).predict_batch(audit_rows[numeric])

    assert predictions.scores is None
    np.testing.assert_array_equal(predictions.labels, regressor.predict(audit_rows[numeric]))


def test_multiclass_classifier_gives_labels_only(train, numeric, audit_rows):
    X, _ = train
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(X[numeric], X["race"])
    assert len(classifier.classes_) > 2
    predictions = SklearnAdapter(classifier).predict_batch(audit_rows[numeric])

    assert predictions.scores is None
    assert predictions.labels.tolist() == classifier.predict(audit_rows[numeric]).tolist()


def test_describe_is_json_safe_and_names_the_positive_class(pipeline):
    description = SklearnAdapter(pipeline, batch_size=123).describe()

    assert json.loads(json.dumps(description)) == description
    assert description["kind"] == "scikit-learn"
    assert description["class"] == "Pipeline"
    assert description["batch_size"] == 123
    assert description["positive_class"] == ">50K"
    assert description["location"] == "in-memory Pipeline"


def test_fingerprint_is_stable_and_tells_models_apart(pipeline, train):
    first = SklearnAdapter(pipeline).fingerprint()

    assert first == SklearnAdapter(pipeline).fingerprint()
    assert len(first) == 64
    assert int(first, 16) >= 0
    other = clone(pipeline).set_params(clf__C=0.01).fit(*train)
    assert SklearnAdapter(other).fingerprint() != first


def test_unfitted_estimator_is_refused():
    with pytest.raises(ModelSpecError, match="LogisticRegression is not fitted"):
        SklearnAdapter(LogisticRegression())


@pytest.mark.parametrize("thing", [LogisticRegression, object(), "model.skops"])
def test_non_estimators_are_refused(thing):
    with pytest.raises(ModelSpecError, match="needs a fitted estimator with a predict method"):
        SklearnAdapter(thing)


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_batch_size_must_be_a_positive_int(pipeline, batch_size):
    with pytest.raises(ModelSpecError, match="'batch_size' parameter of SklearnAdapter"):
        SklearnAdapter(pipeline, batch_size=batch_size)


def test_prediction_failure_is_one_line_naming_the_model(pipeline, audit_rows):
    rows = audit_rows.drop(columns=["age", "education"])
    with pytest.raises(ModelError) as caught:
        SklearnAdapter(pipeline).predict_batch(rows)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"scikit-learn model Pipeline failed on a batch of {len(rows)} rows")
    assert "age" in message
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_model_that_refuses_missing_values_is_told_which_columns_hold_them(audit_rows):
    # LogisticRegression says only "Input X contains NaN"; the message names the columns
    numeric = audit_rows.select_dtypes("number").iloc[:50].reset_index(drop=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(numeric, np.arange(50) % 2)
    holes = numeric.copy()
    first, second = numeric.columns[:2]
    holes.loc[[3, 7, 9], first] = np.nan
    holes.loc[4, second] = np.nan
    with pytest.raises(ModelError) as caught:
        SklearnAdapter(model).predict_batch(holes)
    message = str(caught.value)
    assert f"(missing values in {first} (3 rows), {second} (1 row)): ValueError" in message
    assert "\n" not in message
    with pytest.raises(ModelError) as caught:  # no missing value: nothing named
        SklearnAdapter(model).predict_batch(numeric.drop(columns=[first]))
    assert "missing values" not in str(caught.value)


def test_wrong_length_from_predict_is_caught(audit_rows):
    class Short(LogisticRegression):
        def predict(self, X: pd.DataFrame) -> np.ndarray:
            return super().predict(X)[:-1]

    model = Short().fit(audit_rows[["age"]], audit_rows["age"] > 40)
    with pytest.raises(ModelError, match=f"returned {len(audit_rows) - 1} labels for"):
        SklearnAdapter(model).predict_batch(audit_rows[["age"]])


def test_a_model_fitted_on_named_columns_reads_just_those(tmp_path):
    # scoring, explanations and the privacy stand-in then use the model's own columns,
    # not every other column of the data (an ID or weight column the model never read)
    from audit.core.context import ColumnRoles
    from audit.scoring import score_batches

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=200), "z": rng.normal(size=200), "id": np.arange(200)}
    )
    y = (frame["x"] + frame["z"] > 0).astype(int)
    named = LogisticRegression().fit(frame[["z", "x"]], y)
    assert list(SklearnAdapter(named).input_columns) == ["z", "x"]
    assert (
        SklearnAdapter(LogisticRegression().fit(frame[["z", "x"]].to_numpy(), y)).input_columns
        is None
    )

    roles = ColumnRoles(target="y", sensitive=("id",), features=("x", "z", "id"))
    predictions, _ = score_batches(SklearnAdapter(named), frame, roles)
    np.testing.assert_array_equal(predictions.scores, named.predict_proba(frame[["z", "x"]])[:, 1])

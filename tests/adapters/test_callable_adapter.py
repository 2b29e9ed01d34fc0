"""CallableAdapter: a function's answers, checked for one per row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.adapters import CallableAdapter
from audit.core.protocols import ModelAdapter, Predictions
from audit.errors import ModelError, ModelSpecError


def older_than_forty(rows):
    return np.where(rows["age"] > 40, ">50K", "<=50K")


def test_labels_are_the_functions_own(audit_rows):
    adapter = CallableAdapter(older_than_forty)
    predictions = adapter.predict_batch(audit_rows)

    assert isinstance(adapter, ModelAdapter)
    assert predictions.scores is None
    assert predictions.labels.tolist() == older_than_forty(audit_rows).tolist()


def test_batches_call_the_function_once_per_batch(pipeline, audit_rows, predict_in_batches):
    calls = []

    def model(rows):
        calls.append(len(rows))
        return {"labels": pipeline.predict(rows), "scores": pipeline.predict_proba(rows)[:, 1]}

    predictions = predict_in_batches(CallableAdapter(model, batch_size=100), audit_rows)

    assert calls == [100, 100, 50]
    assert predictions.labels.tolist() == pipeline.predict(audit_rows).tolist()
    np.testing.assert_array_equal(predictions.scores, pipeline.predict_proba(audit_rows)[:, 1])


def test_predictions_and_score_only_mappings_pass_through(audit_rows):
    scores = np.linspace(0, 1, len(audit_rows))
    given = Predictions(labels=None, scores=scores)

    passed = CallableAdapter(lambda rows: given).predict_batch(audit_rows)
    assert passed.labels is None
    np.testing.assert_array_equal(passed.scores, scores)
    only_scores = CallableAdapter(lambda rows: {"scores": list(scores)}).predict_batch(audit_rows)
    assert only_scores.labels is None
    np.testing.assert_array_equal(only_scores.scores, scores)


def test_column_vector_is_flattened(audit_rows):
    predictions = CallableAdapter(lambda rows: np.ones((len(rows), 1))).predict_batch(audit_rows)
    assert predictions.labels.shape == (len(audit_rows),)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda rows: np.zeros(len(rows) - 1), r"returned 249 labels for 250 rows"),
        (lambda rows: {"scores": np.zeros(len(rows) + 2)}, r"returned 252 scores for 250 rows"),
        (lambda rows: np.zeros((len(rows), 2)), r"labels of shape \(250, 2\)"),
        (lambda rows: {"label": np.zeros(len(rows))}, r"mapping with keys \['label'\]"),
        (lambda rows: {"scores": ["high"] * len(rows)}, r"scores that are not numbers"),
        (lambda rows: None, r"returned neither labels nor scores"),
    ],
)
def test_wrong_answers_are_refused(audit_rows, fn, message):
    with pytest.raises(ModelError, match=message):
        CallableAdapter(fn, name="bad").predict_batch(audit_rows)


def test_failure_inside_the_function_is_a_one_line_error(audit_rows):
    def broken(rows):
        raise KeyError("no\nsuch column")

    with pytest.raises(ModelError, match="model function 'bad' failed on a batch") as caught:
        CallableAdapter(broken, name="bad").predict_batch(audit_rows)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value.__cause__, KeyError)


def test_describe_and_fingerprint():
    adapter = CallableAdapter(older_than_forty, batch_size=50)
    description = adapter.describe()

    assert json.loads(json.dumps(description)) == description
    assert description == {
        "kind": "callable",
        "location": f"Python callable {__name__}.older_than_forty",
        "name": f"{__name__}.older_than_forty",
        "batch_size": 50,
    }
    assert adapter.fingerprint() == CallableAdapter(older_than_forty).fingerprint()
    assert adapter.fingerprint() != CallableAdapter(lambda rows: rows["age"]).fingerprint()


def test_non_callable_is_refused():
    with pytest.raises(ModelSpecError, match="needs a callable"):
        CallableAdapter(42)

"""ColumnAdapter: decisions already in the data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audit.adapters import ColumnAdapter
from audit.core.protocols import ModelAdapter
from audit.errors import DataError


@pytest.fixture
def decision_log(pipeline, audit_rows):
    log = audit_rows.copy()
    log["decision"] = pipeline.predict(audit_rows)
    log["p_high"] = pipeline.predict_proba(audit_rows)[:, 1]
    return log


def test_reads_decisions_and_scores(decision_log, pipeline, audit_rows, predict_in_batches):
    adapter = ColumnAdapter("decision", score_column="p_high", batch_size=64)
    rows = decision_log[list(adapter.input_columns)]
    predictions = predict_in_batches(adapter, rows)

    assert isinstance(adapter, ModelAdapter)
    assert list(adapter.input_columns) == ["decision", "p_high"]
    assert predictions.labels.tolist() == pipeline.predict(audit_rows).tolist()
    np.testing.assert_array_equal(predictions.scores, pipeline.predict_proba(audit_rows)[:, 1])


def test_labels_only(decision_log):
    predictions = ColumnAdapter("decision").predict_batch(decision_log)
    assert predictions.scores is None
    assert len(predictions) == len(decision_log)


def test_missing_column_names_it_and_lists_the_columns(decision_log):
    with pytest.raises(DataError) as caught:
        ColumnAdapter("verdict").predict_batch(decision_log)

    message = str(caught.value)
    assert "column 'verdict'" in message
    assert "'decision'" in message
    assert "'age'" in message
    with pytest.raises(DataError, match="column 'prob'"):
        ColumnAdapter("decision", score_column="prob").check_columns(decision_log.columns)


def test_missing_decisions_and_bad_scores_are_data_errors():
    rows = pd.DataFrame({"d": ["yes", None, "no"], "s": ["0.1", "high", "0.3"]})
    with pytest.raises(DataError, match="'d' has 1 missing value"):
        ColumnAdapter("d").predict_batch(rows)
    with pytest.raises(DataError, match="'s' holds values that are not numbers"):
        ColumnAdapter("d", score_column="s").predict_batch(rows.fillna("yes"))
    rows = pd.DataFrame({"d": [1, 0], "s": [0.9, np.nan]})
    with pytest.raises(DataError, match="'s' has 1 missing value"):
        ColumnAdapter("d", score_column="s").predict_batch(rows)


def test_describe_and_fingerprint():
    adapter = ColumnAdapter("decision", score_column="p")
    description = adapter.describe()

    assert json.loads(json.dumps(description)) == description
    assert description["spec"] == "column:decision,score=p"
    assert adapter.fingerprint() == ColumnAdapter("decision", score_column="p").fingerprint()
    assert adapter.fingerprint() != ColumnAdapter("decision").fingerprint()

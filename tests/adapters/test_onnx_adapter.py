"""OnnxAdapter: a skl2onnx export predicts what the scikit-learn model predicts."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from audit.adapters import OnnxAdapter
from audit.core.protocols import ModelAdapter
from audit.errors import DataError, ModelSpecError

skl2onnx = pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")
from skl2onnx.common.data_types import (  # noqa: E402
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)

TOLERANCE = 1e-5


def export(model, initial_types, path, *, zipmap: bool = True):
    options = {id(model): {"zipmap": zipmap}}
    onx = skl2onnx.convert_sklearn(model, initial_types=initial_types, options=options)
    path.write_bytes(onx.SerializeToString())
    return path


@pytest.fixture(scope="module")
def numeric_onnx(numeric_model, numeric, tmp_path_factory):
    """The numbers-only model as one 2-D float input, probabilities as ZipMap dicts."""
    path = tmp_path_factory.mktemp("onnx") / "numeric.onnx"
    return export(numeric_model, [("X", FloatTensorType([None, len(numeric)]))], path)


@pytest.fixture(scope="module")
def pipeline_onnx(pipeline, categorical, numeric, features, tmp_path_factory):
    """The full pipeline with one input per column, as skl2onnx names them."""
    types = [
        (name, StringTensorType([None, 1]) if name in categorical else Int64TensorType([None, 1]))
        for name in features.columns
    ]
    path = tmp_path_factory.mktemp("onnx") / "pipeline.onnx"
    return export(pipeline, types, path, zipmap=False)


def test_numeric_model_matches_sklearn(numeric_onnx, numeric_model, numeric, audit_rows):
    rows = audit_rows[numeric]
    adapter = OnnxAdapter(numeric_onnx)
    predictions = adapter.predict_batch(rows)

    assert isinstance(adapter, ModelAdapter)
    expected = numeric_model.predict_proba(rows.astype(np.float64))[:, 1]
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=TOLERANCE)
    assert predictions.labels.tolist() == numeric_model.predict(rows).tolist()


def test_batches_give_the_same_result(numeric_onnx, numeric, audit_rows, predict_in_batches):
    rows = audit_rows[numeric]
    whole = OnnxAdapter(numeric_onnx).predict_batch(rows)
    batched = predict_in_batches(OnnxAdapter(numeric_onnx, batch_size=33), rows)

    assert batched.labels.tolist() == whole.labels.tolist()
    np.testing.assert_allclose(batched.scores, whole.scores, rtol=0, atol=1e-7)


def test_pipeline_with_per_column_inputs_matches_sklearn(pipeline_onnx, pipeline, audit_rows):
    adapter = OnnxAdapter(pipeline_onnx)
    predictions = adapter.predict_batch(audit_rows)

    # skl2onnx renames 'education-num' to 'education_num'; the adapter matches it up
    assert "education_num" in adapter.describe()["inputs"]
    expected = pipeline.predict_proba(audit_rows)[:, 1]
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=TOLERANCE)
    assert predictions.labels.tolist() == pipeline.predict(audit_rows).tolist()


def test_missing_categories_match_sklearn(pipeline_onnx, pipeline, audit_rows):
    rows = audit_rows[audit_rows.isna().any(axis=1)]
    assert len(rows) > 0
    predictions = OnnxAdapter(pipeline_onnx).predict_batch(rows)

    expected = pipeline.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=TOLERANCE)


def test_describe_and_fingerprint(numeric_onnx):
    adapter = OnnxAdapter(numeric_onnx, batch_size=77)
    description = adapter.describe()

    assert json.loads(json.dumps(description)) == description
    assert description["kind"] == "onnx"
    assert description["inputs"] == ["X"]
    assert description["label_output"] == "output_label"
    assert description["probability_output"] == "output_probability"
    assert adapter.fingerprint() == hashlib.sha256(numeric_onnx.read_bytes()).hexdigest()


def test_single_input_of_the_wrong_width_is_a_data_error(numeric_onnx, audit_rows, numeric):
    with pytest.raises(DataError, match=rf"takes {len(numeric)} features; the audit gives 14"):
        OnnxAdapter(numeric_onnx).predict_batch(audit_rows)


def test_text_columns_for_a_numeric_input_are_a_data_error(numeric_onnx, audit_rows, numeric):
    rows = audit_rows[[*numeric[:-1], "sex"]]
    with pytest.raises(DataError, match=r"column\(s\) 'sex' are not numeric"):
        OnnxAdapter(numeric_onnx).predict_batch(rows)


def test_per_column_inputs_missing_from_the_data(pipeline_onnx, audit_rows):
    with pytest.raises(DataError, match=r"inputs 'age' match no column"):
        OnnxAdapter(pipeline_onnx).predict_batch(audit_rows.drop(columns="age"))


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"definitely not protobuf")
    with pytest.raises(ModelSpecError, match="is not a loadable ONNX model") as caught:
        OnnxAdapter(path)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelSpecError, match="does not exist"):
        OnnxAdapter(tmp_path / "nope.onnx")

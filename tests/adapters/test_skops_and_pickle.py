"""Model files: skops loads only trusted types; pickles load only when trusted."""

from __future__ import annotations

import hashlib
import pickle

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from audit.adapters import SklearnAdapter, load_model, load_pickle, load_skops
from audit.errors import ModelSpecError


def identity(values):
    return values


def assert_same_predictions(adapter, model, rows):
    predictions = adapter.predict_batch(rows)
    assert predictions.labels.tolist() == model.predict(rows).tolist()
    np.testing.assert_array_equal(predictions.scores, model.predict_proba(rows)[:, 1])


def test_skops_round_trip_of_the_pipeline(pipeline, audit_rows, tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(pipeline, path)

    loaded = load_skops(path)
    assert type(loaded) is type(pipeline)
    assert_same_predictions(SklearnAdapter(loaded), pipeline, audit_rows)

    adapter = load_model(str(path))
    assert isinstance(adapter, SklearnAdapter)
    assert_same_predictions(adapter, pipeline, audit_rows)
    assert adapter.fingerprint() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert adapter.describe()["location"] == str(path)


def test_skops_loads_gradient_boosting_only_when_the_caller_names_its_tree_type(
    train, numeric, audit_rows, tmp_path
):
    X, y = train
    model = HistGradientBoostingClassifier(max_iter=5).fit(X[numeric], y)
    path = tmp_path / "hgb.skops"
    sio.dump(model, path)
    tree_type = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"

    with pytest.raises(ModelSpecError, match=tree_type):
        load_model(path)
    loaded = load_skops(path, trusted=[tree_type])
    assert_same_predictions(SklearnAdapter(loaded), model, audit_rows[numeric])


@pytest.mark.parametrize(
    ("func", "refused"),
    [(identity, f"{__name__}.identity"), (eval, "builtins.eval")],
)
def test_skops_refuses_untrusted_types_and_names_them(pipeline, tmp_path, func, refused):
    path = tmp_path / "evil.skops"
    sio.dump(make_pipeline(FunctionTransformer(func), pipeline), path)

    with pytest.raises(ModelSpecError, match="holds types that are not trusted") as caught:
        load_skops(path)
    assert refused in str(caught.value)
    with pytest.raises(ModelSpecError, match=refused):
        load_model(str(path))


def test_skops_rejects_a_file_that_is_not_skops(tmp_path):
    path = tmp_path / "broken.skops"
    path.write_bytes(b"not a zip file")

    with pytest.raises(ModelSpecError, match="is not a readable skops file"):
        load_skops(path)


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_pickle_is_refused_unless_trusted(pipeline, audit_rows, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    if suffix == ".joblib":
        joblib.dump(pipeline, path)
    else:
        path.write_bytes(pickle.dumps(pipeline))

    for attempt in (lambda: load_model(str(path)), lambda: load_pickle(path)):
        with pytest.raises(ModelSpecError) as caught:
            attempt()
        assert "loading a pickle runs arbitrary code" in str(caught.value)
        assert "--trust-pickle" in str(caught.value)

    adapter = load_model(str(path), trust_pickle=True)
    assert_same_predictions(adapter, pipeline, audit_rows)
    assert adapter.fingerprint() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert type(load_pickle(path, trust_pickle=True)) is type(pipeline)


def test_pickle_of_something_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "numbers.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))

    with pytest.raises(ModelSpecError, match="holds a list, not an estimator"):
        load_model(str(path), trust_pickle=True)


def test_corrupt_pickle_is_a_one_line_error(tmp_path):
    path = tmp_path / "corrupt.pkl"
    path.write_bytes(b"\x80\x05garbage")

    with pytest.raises(ModelSpecError, match="cannot unpickle model file") as caught:
        load_model(str(path), trust_pickle=True)
    assert "\n" not in str(caught.value)

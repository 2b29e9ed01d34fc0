"""Hostile ``.skops`` files: functions under a trusted package that run code are refused.

Each payload is a chain of ``FunctionTransformer`` steps that turns any input into a
string and hands it to a function that runs it.  Every function lives under
``numpy``, ``sklearn`` or ``builtins``, so a loader that trusts type names by their
package prefix loads the file and the payload runs at predict time.
"""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from numpy.testing._private.utils import runstring
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._testing import assert_run_python_script_without_output

from audit.adapters import load_model, load_skops
from audit.adapters._skops_trust import trusted_skops_types
from audit.cli.main import main
from audit.errors import ModelSpecError


def _to_string(payload: str) -> list[tuple[str, FunctionTransformer]]:
    """Steps that turn any input array into the one string ``payload``."""
    return [
        (
            "fill",
            FunctionTransformer(np.full_like, kw_args={"fill_value": payload, "dtype": object}),
        ),
        ("flat", FunctionTransformer(np.ravel)),
        ("pick", FunctionTransformer(min)),
    ]


def _predictor() -> tuple[str, DummyClassifier]:
    # A fitted last step gives the pipeline a predict method, so it passes as a model.
    return ("classify", DummyClassifier().fit([[0.0], [1.0]], [0, 1]))


def _runstring(code: str) -> Pipeline:
    # The payload of the review: numpy.testing._private.utils.runstring is exec.
    runner = FunctionTransformer(runstring, kw_args={"dict": {}})
    return Pipeline([*_to_string(code), ("run", runner), _predictor()])


def _subprocess(code: str) -> Pipeline:
    runner = FunctionTransformer(assert_run_python_script_without_output, kw_args={"pattern": ""})
    return Pipeline([*_to_string(code), ("run", runner), _predictor()])


def _pickle_load(path: str) -> Pipeline:
    # numpy.load with allow_pickle unpickles whatever file the string names.
    loader = FunctionTransformer(np.load, kw_args={"allow_pickle": True})
    return Pipeline([*_to_string(path), ("run", loader), _predictor()])


class _Marker:
    """Unpickling this writes the marker file: stands for any code a pickle runs."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (_write_marker, (self.path, "pickle"))


def _write_marker(path: str, text: str) -> None:
    Path(path).write_text(text)


def _payload(kind: str, tmp_path) -> tuple[Pipeline, object]:
    marker = tmp_path / "ran.txt"
    write = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    if kind == "runstring":
        return _runstring(write), marker
    if kind == "subprocess":
        return _subprocess(write), marker
    evil = tmp_path / "evil.npy"
    evil.write_bytes(pickle.dumps(_Marker(str(marker))))
    return _pickle_load(str(evil)), marker


PAYLOADS = ["runstring", "subprocess", "np.load"]


@pytest.mark.parametrize("kind", PAYLOADS)
def test_the_payload_runs_code_when_its_types_are_trusted(kind, tmp_path):
    # The payloads are real: given every type they name, they run at predict time.
    model, marker = _payload(kind, tmp_path)
    data = sio.dumps(model)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    with contextlib.suppress(Exception):  # the chain may fail after the code ran
        loaded.predict(pd.DataFrame({"x": [1.0]}))
    assert marker.exists()


@pytest.mark.parametrize("kind", PAYLOADS)
def test_skops_payload_is_refused_before_it_runs(kind, tmp_path):
    model, marker = _payload(kind, tmp_path)
    path = tmp_path / "model.skops"
    sio.dump(model, path)

    with pytest.raises(ModelSpecError, match="holds types that are not trusted") as caught:
        load_model(str(path))
    assert "\n" not in str(caught.value)
    assert not marker.exists()


def test_skops_payload_is_exit_2_with_one_line_through_the_cli(tmp_path, capsys):
    model, marker = _payload("runstring", tmp_path)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    data = tmp_path / "rows.csv"
    pd.DataFrame({"x": [1.0, 2.0], "sex": ["a", "b"], "y": [0, 1]}).to_csv(data, index=False)

    code = main(
        [
            "run",
            "--model",
            str(path),
            "--data",
            str(data),
            "--target",
            "y",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert not marker.exists()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "numpy.testing._private.utils.runstring" in lines[0]
    assert "builtins.min" in lines[0]


def test_trusted_types_are_exact_names_not_prefixes():
    trusted = trusted_skops_types()
    assert "numpy.testing._private.utils.runstring" not in trusted
    assert "sklearn.linear_model._logistic.LogisticRegression" in trusted
    assert not any(name.startswith("builtins.") for name in trusted)


def _fit(model, n=120):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return model.fit(X, y), X


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=20),
        make_pipeline(FunctionTransformer(np.abs), LogisticRegression()),
        CalibratedClassifierCV(LinearSVC(), cv=2),
        VotingClassifier([("l", LogisticRegression()), ("n", GaussianNB())], voting="soft"),
        DecisionTreeClassifier(max_depth=4),
        RandomForestClassifier(n_estimators=3, random_state=0),
        ExtraTreesClassifier(n_estimators=3, random_state=0),
        BaggingClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=3, random_state=0),
    ],
    ids=["logistic", "mlp", "ufunc", "calibrated", "voting", "tree", "forest", "extra", "bagging"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_common_models_still_load(model, tmp_path):
    fitted, X = _fit(model)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)

    loaded = load_skops(path)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


@pytest.mark.parametrize(
    ("model", "refused"),
    [
        (GradientBoostingClassifier(n_estimators=3), "GradientBoostingClassifier"),
        (IsolationForest(n_estimators=3, random_state=0), "IsolationForest"),
        (HistGradientBoostingClassifier(max_iter=3), "TreePredictor"),
        (KNeighborsClassifier(algorithm="kd_tree"), "sklearn.neighbors._kd_tree.KDTree"),
    ],
    ids=["boosting", "isolation-forest", "hist-boosting", "kd-tree"],
)
def test_index_holding_types_are_refused_with_the_reason(model, refused, tmp_path):
    # skops refuses these by default: their stored indices are followed without bounds checks.
    fitted, X = _fit(model)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)

    with pytest.raises(ModelSpecError, match="bounds checks") as caught:
        load_skops(path)
    assert refused in str(caught.value)
    assert "--trust-pickle" in str(caught.value)
    assert "\n" not in str(caught.value)
    # The caller who made the file may name the types it reviewed.
    names = sio.get_untrusted_types(file=path)
    loaded = load_skops(path, trusted=names)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def _tampered(tmp_path, mutate, model=None):
    fitted, _ = _fit(model if model is not None else DecisionTreeClassifier(max_depth=3))
    trees = fitted.estimators_ if hasattr(fitted, "estimators_") else [fitted]
    target = trees[0]
    cls, args, state = target.tree_.__reduce__()
    state = dict(state)
    state["nodes"] = state["nodes"].copy()
    mutate(state, target)
    tree = cls(*args)
    tree.__setstate__(state)
    target.tree_ = tree
    path = tmp_path / "tampered.skops"
    sio.dump(fitted, path)
    return path


def _set(field, node, value):
    def mutate(state, _):
        state["nodes"][field][node] = value

    return mutate


def _second_parent(state, _):
    # node 0's right child becomes the same node as its left child: one node, two parents
    nodes = state["nodes"]
    nodes["right_child"][0] = nodes["left_child"][0]


def _shallower(state, _):
    state["max_depth"] = 1


def _forest_width(_, tree_owner):
    tree_owner.n_features_in_ = 1  # the tree says 2 features; its forest checks 2


@pytest.mark.parametrize(
    ("mutate", "model", "problem"),
    [
        (_set("left_child", 0, 10**9), None, "child index out of range"),
        (_set("right_child", 0, 0), None, "child before its parent"),
        (_set("left_child", 0, -7), None, "child before its parent"),
        (_second_parent, None, "exactly one parent"),
        (_set("feature", 0, 10**6), None, "feature that does not exist"),
        (_set("feature", 0, -5), None, "feature that does not exist"),
        (_shallower, None, "deeper than its recorded max_depth"),
        (
            _forest_width,
            RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0),
            "feature count disagrees",
        ),
    ],
    ids=[
        "child-out-of-range",
        "cycle",
        "negative-child",
        "two-parents",
        "feature-out-of-range",
        "negative-feature",
        "too-deep",
        "forest-width",
    ],
)
def test_a_tampered_tree_is_refused_before_it_predicts(mutate, model, problem, tmp_path):
    path = _tampered(tmp_path, mutate, model)

    with pytest.raises(ModelSpecError, match=problem) as caught:
        load_skops(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(ModelSpecError, match=problem):
        load_model(str(path))

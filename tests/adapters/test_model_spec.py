"""load_model: every accepted form of model, and the errors for the rest."""

from __future__ import annotations

import sys
import textwrap
import types
import uuid
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.linear_model import LogisticRegression

from audit.adapters import (
    ACCEPTED_FORMS,
    CallableAdapter,
    ColumnAdapter,
    OnnxAdapter,
    SklearnAdapter,
    load_model,
)
from audit.errors import ModelSpecError


def test_adapter_is_returned_as_is():
    adapter = ColumnAdapter("decision")
    assert load_model(adapter) is adapter


def test_fitted_estimator_and_callable(pipeline, audit_rows):
    adapter = load_model(pipeline, batch_size=50)
    assert isinstance(adapter, SklearnAdapter)
    assert adapter.batch_size == 50
    assert (
        adapter.predict_batch(audit_rows).labels.tolist() == pipeline.predict(audit_rows).tolist()
    )

    function = load_model(lambda rows: rows["age"] > 40)
    assert isinstance(function, CallableAdapter)
    assert function.batch_size == 10_000


def test_torch_module_needs_an_encoding():
    with pytest.raises(ModelSpecError, match=r"wrap it in audit\.adapters\.TorchAdapter"):
        load_model(torch.nn.Linear(3, 1))


@pytest.mark.parametrize("thing", [LogisticRegression, 42, {"labels": [1]}])
def test_objects_that_are_not_models(thing):
    with pytest.raises(ModelSpecError, match=r"not a (model|fitted model instance)"):
        load_model(thing)


def test_file_specs_as_strings_and_paths(pipeline, tmp_path, monkeypatch):
    path = tmp_path / "Model.SKOPS"
    sio.dump(pipeline, path)
    monkeypatch.chdir(tmp_path)

    for spec in (str(path), path, "Model.SKOPS", f"  {path}  "):
        adapter = load_model(spec, batch_size=99)
        assert isinstance(adapter, SklearnAdapter)
        assert adapter.batch_size == 99


def test_onnx_spec(numeric_model, numeric, tmp_path):
    from skl2onnx import to_onnx

    path = tmp_path / "numeric.onnx"
    path.write_bytes(
        to_onnx(numeric_model, np.zeros((1, len(numeric)), np.float32)).SerializeToString()
    )
    adapter = load_model(str(path), batch_size=10)
    assert isinstance(adapter, OnnxAdapter)
    assert adapter.batch_size == 10


@pytest.mark.parametrize("suffix", [".onnx", ".skops", ".pkl", ".joblib"])
def test_missing_file_is_named(tmp_path, monkeypatch, suffix):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelSpecError) as caught:
        load_model(f"x{suffix}", trust_pickle=True)
    assert str(caught.value) == f"model file 'x{suffix}' does not exist"


@pytest.mark.parametrize(
    ("spec", "column", "score"),
    [
        ("column:decision", "decision", None),
        ("column:decision,score=p_high", "decision", "p_high"),
        ("COLUMN: decision , score= p ", "decision", "p"),
        ("column:a,b,score=c", "a,b", "c"),
    ],
)
def test_column_specs(spec, column, score):
    adapter = load_model(spec)
    assert isinstance(adapter, ColumnAdapter)
    assert (adapter.column, adapter.score_column) == (column, score)


@pytest.mark.parametrize("spec", ["column:", "column:decision,score=", "column:,score=p"])
def test_incomplete_column_specs(spec):
    with pytest.raises(ModelSpecError, match="is incomplete; write column:NAME"):
        load_model(spec)


def test_http_specs_go_to_the_http_adapter(monkeypatch):
    calls = []
    sentinel = ColumnAdapter("stand-in")

    def http_adapter(url, **settings):
        calls.append((url, settings))
        return sentinel

    fake = types.ModuleType("audit.adapters.http")
    fake.http_adapter = http_adapter
    monkeypatch.setitem(sys.modules, "audit.adapters.http", fake)

    got = load_model(
        "https://models.example/v2/models/m",
        batch_size=64,
        timeout=5.0,
        max_retries=2,
        header_env={"Authorization": "MODEL_TOKEN"},
    )
    assert got is sentinel
    assert calls == [
        (
            "https://models.example/v2/models/m",
            {
                "batch_size": 64,
                "timeout": 5.0,
                "max_retries": 2,
                "header_env": {"Authorization": "MODEL_TOKEN"},
            },
        )
    ]
    load_model("HTTP://localhost:5000/invocations")
    assert calls[-1] == (
        "HTTP://localhost:5000/invocations",
        {"batch_size": None, "timeout": None, "max_retries": None, "header_env": None},
    )


def test_http_adapter_failures_become_model_spec_errors(monkeypatch):
    def http_adapter(url, **settings):
        raise ValueError("bad port")

    fake = types.ModuleType("audit.adapters.http")
    fake.http_adapter = http_adapter
    monkeypatch.setitem(sys.modules, "audit.adapters.http", fake)
    with pytest.raises(
        ModelSpecError, match="cannot set up the served model: ValueError: bad port"
    ):
        load_model("http://localhost:99999")


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A working directory holding a fresh, uniquely named module; yields its name."""
    name = f"audit_models_{uuid.uuid4().hex[:8]}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, name, raising=False)
    yield tmp_path, name
    sys.modules.pop(name, None)


def write_module(directory: Path, name: str, body: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def test_module_attribute_specs(module_dir, pipeline, audit_rows, tmp_path):
    directory, name = module_dir
    sio.dump(pipeline, tmp_path / "m.skops")
    write_module(
        directory,
        name,
        """
        import types
        import skops.io as sio

        model = sio.load("m.skops", trusted=sio.get_untrusted_types(file="m.skops"))

        def rule(rows):
            return rows["age"] > 40

        registry = types.SimpleNamespace(best=model)
        alias = "column:decision"
        """,
    )
    path_before = list(sys.path)

    estimator = load_model(f"{name}:model")
    assert isinstance(estimator, SklearnAdapter)
    labels = estimator.predict_batch(audit_rows).labels
    assert labels.tolist() == pipeline.predict(audit_rows).tolist()
    assert isinstance(load_model(f"{name}:rule"), CallableAdapter)
    assert isinstance(load_model(f"{name}:registry.best"), SklearnAdapter)
    assert isinstance(load_model(f"{name}:alias"), ColumnAdapter)
    assert sys.path == path_before


def test_module_attribute_errors(module_dir):
    directory, name = module_dir
    write_module(directory, name, "model = 3\n")
    with pytest.raises(
        ModelSpecError, match=rf"module '{name}' has no attribute 'nope'; it has: model"
    ):
        load_model(f"{name}:nope")
    with pytest.raises(ModelSpecError, match=rf"'{name}:model' is a int, which is not a model"):
        load_model(f"{name}:model")
    with pytest.raises(ModelSpecError, match="cannot import module 'no_such_module_xyz'"):
        load_model("no_such_module_xyz:model")


def test_module_that_fails_to_import(module_dir):
    directory, name = module_dir
    write_module(directory, name, "raise RuntimeError('boom\\nagain')\n")
    with pytest.raises(ModelSpecError, match="failed: RuntimeError: boom again"):
        load_model(f"{name}:model")


@pytest.mark.parametrize("spec", ["model.h5", "ftp://host/model", "just words", "", "a:b:c"])
def test_unknown_spec_lists_the_accepted_forms(spec):
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec)
    message = str(caught.value)
    assert message.startswith("cannot resolve model spec")
    assert all(form in message for form in ACCEPTED_FORMS)


def test_existing_file_of_unknown_kind_says_so(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF")
    with pytest.raises(ModelSpecError, match=r"files ending in '\.h5' are not model files"):
        load_model(str(path))


@pytest.mark.parametrize(
    ("spec", "unknown"),
    [
        ("column:pred,foo=bar", "foo"),
        ("column:pred, Threshold = 0.5", "Threshold"),
        ("column:pred,score=p,foo=bar", "foo"),
    ],
)
def test_column_spec_names_an_unknown_option(spec, unknown):
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec)
    assert str(caught.value) == (
        f"model spec {spec!r} has an unknown option {unknown!r}; the known options are: "
        "score (column:NAME,score=SCORECOL)"
    )


def test_column_spec_refuses_score_twice():
    with pytest.raises(ModelSpecError, match="gives the option 'score' more than once"):
        load_model("column:pred,score=p,score=q")

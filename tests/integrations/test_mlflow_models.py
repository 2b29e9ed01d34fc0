"""`--model models:/NAME/VERSION`: a model registered in a real (SQLite) MLflow registry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from audit.cli.main import main

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

# MLflow's SQLAlchemy models use loader options that SQLAlchemy 2.1 deprecates, and its
# requirement inference warns about torch's local version label; neither is ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]  # fmt: skip


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    # the active experiment is process-wide state: another test's store may have set it
    mlflow.set_experiment("maas-audit-tests")
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": rng.normal(size=600), "sex": rng.choice(["F", "M"], 600)})
    data["y"] = (data["x"] > 0).astype(int)
    model = LogisticRegression().fit(data[["x"]], data["y"])
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name="screening", input_example=data[["x"]][:2]
        )
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    yield csv, model, data
    mlflow.set_tracking_uri(None)


def _run(csv, out, *extra):
    return main(
        ["run", "--model", "models:/screening/1", "--data", str(csv), "--target", "y",
         "--positive-label", "1", "--sensitive", "sex", "--policy", "four-fifths",
         "--out", str(out), "--no-progress", *extra]
    )  # fmt: skip


def test_a_registered_model_is_audited_through_mlflows_loader(registry, tmp_path):
    csv, model, data = registry
    assert _run(csv, tmp_path / "out", "--trust-pickle") in (0, 1)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["model"]["kind"] == "mlflow-model"
    assert report["model"]["location"] == "models:/screening/1"
    (rates,) = [
        m for a in report["auditors"] for m in a["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    ]  # fmt: skip
    expected = pd.Series(model.predict(data[["x"]])).groupby(data["sex"]).mean()
    measured = {g["group"]: g["value"] for g in rates["groups"]}
    assert measured == pytest.approx({f"sex={k}": v for k, v in expected.items()})


def test_loading_needs_trust_and_a_missing_model_is_one_line(registry, tmp_path, capsys):
    csv, _, _ = registry
    assert _run(csv, tmp_path / "a") == 2
    assert "--trust-pickle" in capsys.readouterr().err
    code = main(
        ["run", "--model", "models:/absent/1", "--trust-pickle", "--data", str(csv),
         "--target", "y", "--positive-label", "1", "--sensitive", "sex",
         "--policy", "four-fifths", "--out", str(tmp_path / "b"), "--no-progress"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "MLflow cannot load" in err

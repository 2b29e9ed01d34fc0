"""The ``bentoml`` preset against a real BentoML server serving a scikit-learn pipeline.

BentoML is the reference here, not this project's stand-ins: a service written as
BentoML's documentation writes one (``@bentoml.service``, an ``@bentoml.api`` method
taking a ``pd.DataFrame``) is started with ``bentoml serve``, and the labels and
probabilities that come back must be the pipeline's own, computed in the server's
Python straight from the CSV, to the last bit.

BentoML pins OpenTelemetry versions the project's other dependencies do not, so it is
not in the ``dev`` extra: the module runs where ``bentoml`` is importable, or with
``MAAS_AUDIT_BENTOML_PYTHON`` naming a Python that has ``bentoml``, ``scikit-learn``
and ``pandas`` (``python -m venv /tmp/bento && /tmp/bento/bin/pip install bentoml
scikit-learn pandas``); elsewhere it is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from audit.adapters.config import load_config_model
from audit.cli.main import main
from audit.errors import EndpointError

from .conftest import ADULT, TARGET
from .real_servers import DIE_WITH_PARENT, free_port, running_server

START_S = 120.0

# Trains the pipeline in the server's Python and writes its own predictions of the
# audited rows, read from the CSV as a user would read them (missing cells are NaN).
TRAIN_SCRIPT = """
import json, pickle, sys
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

adult, rows_csv, model_path, expected_path = sys.argv[1:5]
train = pd.read_csv(adult, nrows=400)
features = train.drop(columns=["income"])
categorical = [c for c in features if not pd.api.types.is_numeric_dtype(features[c])]
numeric = [c for c in features if c not in categorical]
prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                          ("num", StandardScaler(), numeric)])
model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))])
model.fit(features, train["income"])
with open(model_path, "wb") as out:
    pickle.dump(model, out)
rows = pd.read_csv(rows_csv).drop(columns=["income"])
expected = {"labels": model.predict(rows).tolist(),
            "scores": model.predict_proba(rows)[:, 1].tolist()}
with open(expected_path, "w") as out:
    json.dump(expected, out)
"""

# The service as BentoML's "Define input and output types" page writes a tabular one
_SERVICE = """
import os, pickle
import numpy as np
import pandas as pd
import bentoml


@bentoml.service
class Adult:
    def __init__(self) -> None:
        with open(os.environ["ADULT_MODEL"], "rb") as f:
            self.model = pickle.load(f)

    @bentoml.api
    def predict(self, df: pd.DataFrame) -> np.ndarray:
        return self.model.predict(df)

    @bentoml.api
    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(df)

    @bentoml.api
    def predict_root(self, df: pd.DataFrame, /) -> np.ndarray:
        return self.model.predict(df)
"""

_LAUNCH = (
    DIE_WITH_PARENT
    + """
import sys
from bentoml_cli.cli import cli
sys.argv = ["bentoml", "serve", "service:Adult", "--host", "127.0.0.1", "--port", sys.argv[1]]
cli()
"""
)


def _bentoml_python() -> str | None:
    configured = os.environ.get("MAAS_AUDIT_BENTOML_PYTHON")
    if configured:
        return configured
    return sys.executable if importlib.util.find_spec("bentoml") is not None else None


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """600 held-out rows of UCI Adult (with missing values), as a CSV and a frame."""
    folder = tmp_path_factory.mktemp("bentoml-data")
    csv = folder / "audit.csv"
    pd.read_csv(ADULT, nrows=1000).iloc[400:].to_csv(csv, index=False)
    return csv, pd.read_csv(csv)


@pytest.fixture(scope="module")
def bentoml_server(
    tmp_path_factory: pytest.TempPathFactory, audited: tuple[Path, pd.DataFrame]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The server's base URL, and the pipeline's own predictions of the audited rows."""
    python = _bentoml_python()
    if python is None:
        pytest.skip(
            "BentoML is not installed: pip install bentoml (or set MAAS_AUDIT_BENTOML_PYTHON "
            "to a Python that has bentoml, scikit-learn and pandas) to test the bentoml preset"
        )
    folder = tmp_path_factory.mktemp("bentoml")
    (folder / "train.py").write_text(TRAIN_SCRIPT, encoding="utf-8")
    (folder / "service.py").write_text(_SERVICE, encoding="utf-8")
    model, expected = folder / "model.pkl", folder / "expected.json"
    subprocess.run(
        [python, "train.py", str(ADULT), str(audited[0]), str(model), str(expected)],
        cwd=folder,
        check=True,
        timeout=120,
    )
    env = {
        **os.environ,
        "ADULT_MODEL": str(model),
        "BENTOML_HOME": str(folder / "home"),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_server(
        [python, "-c", _LAUNCH, str(port)],
        folder=folder,
        ready=lambda: httpx.get(f"{base}/readyz", timeout=1).status_code == 200,
        name="BentoML",
        start_s=START_S,
        env=env,
    ):
        yield base, json.loads(expected.read_text())


def _config(folder: Path, url: str, extra: str = "", name: str = "bentoml.yaml") -> Path:
    path = folder / name
    path.write_text(
        f"kind: rest\npreset: bentoml\nurl: {url}\nbatch_size: 128\n{extra}", encoding="utf-8"
    )
    return path


def test_labels_and_probabilities_through_the_preset_are_the_pipelines_own(
    bentoml_server: tuple[str, dict[str, Any]],
    audited: tuple[Path, pd.DataFrame],
    tmp_path: Path,
) -> None:
    base, expected = bentoml_server
    rows = audited[1].drop(columns=[TARGET])
    assert rows.isna().any().any(), "missing cells must travel as JSON null"
    labels_config = _config(tmp_path, f"{base}/predict", "input_name: df\n")
    with load_config_model(labels_config) as adapter:
        labels = adapter.predict_batch(rows)
        assert adapter.describe()["usage"] == {"requests": 5}  # 600 rows in 128s
    assert labels.labels is not None
    assert labels.labels.tolist() == expected["labels"]
    scores_config = _config(
        tmp_path, f"{base}/predict_proba", "input_name: df\nlabels: null\nscores: '[*][1]'\n"
    )
    with load_config_model(scores_config) as adapter:
        scores = adapter.predict_batch(rows)
    assert scores.scores is not None
    np.testing.assert_array_equal(scores.scores, np.asarray(expected["scores"]))  # bit for bit


def test_the_cli_audits_a_bentoml_service_from_the_config_alone(
    bentoml_server: tuple[str, dict[str, Any]],
    audited: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, expected = bentoml_server
    csv, data = audited
    config = _config(
        tmp_path,
        f"{base}/predict",
        "input_name: df\npositive_label: '>50K'\nnegative_label: '<=50K'\n",
    )
    code = main(
        [
            "run", "--model", str(config), "--data", str(csv), "--policy", "four-fifths",
            "--target", TARGET, "--positive-label", ">50K", "--sensitive", "sex",
            "--out", str(tmp_path / "out"), "--no-progress",
        ]
    )  # fmt: skip
    assert code in (0, 1), capsys.readouterr().err
    decided = pd.Series(np.asarray(expected["labels"]) == ">50K")
    rates = decided.groupby(data["sex"].to_numpy()).mean()  # pandas, not the auditor
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    selection = next(
        m for m in report["auditors"][0]["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    )  # fmt: skip
    measured = {g["group"]: g["value"] for g in selection["groups"]}
    assert measured == pytest.approx({f"sex={k}": v for k, v in rates.items()})
    assert report["model"]["preset"] == "bentoml" and report["model"]["input_name"] == "df"


def test_a_bare_list_is_refused_by_a_named_parameter_and_taken_by_a_root_input(
    bentoml_server: tuple[str, dict[str, Any]],
    audited: tuple[Path, pd.DataFrame],
    tmp_path: Path,
) -> None:
    base, expected = bentoml_server
    rows = audited[1].drop(columns=[TARGET]).head(40)
    bare = "body: '{{ rows | tojson }}'\n"
    with (
        load_config_model(_config(tmp_path, f"{base}/predict", bare)) as adapter,
        pytest.raises(EndpointError, match=r"HTTP 400 .*Input should be an object"),
    ):
        adapter.predict_batch(rows)
    misnamed = _config(tmp_path, f"{base}/predict", "input_name: data\n", "misnamed.yaml")
    with (
        load_config_model(misnamed) as adapter,
        pytest.raises(EndpointError, match=r"HTTP 400 .*\"loc\":\[\"df\"\].*Field required"),
    ):
        adapter.predict_batch(rows)  # BentoML's answer names the parameter it wants
    with load_config_model(_config(tmp_path, f"{base}/predict_root", bare, "root.yaml")) as root:
        predictions = root.predict_batch(rows)
    assert predictions.labels is not None
    assert predictions.labels.tolist() == expected["labels"][:40]

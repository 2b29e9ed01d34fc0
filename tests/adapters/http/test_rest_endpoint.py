"""Declared REST endpoints against real servers: the project's own, and KServe's ModelServer."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit.adapters.config import load_config_model
from audit.adapters.http import HttpTransport
from audit.adapters.http.declared import RestAdapter
from audit.adapters.http.rest import RestCodec
from audit.cli.main import main
from audit.testing import serve_model, sklearn_predict_fn

from .conftest import ADULT, TARGET
from .real_servers import free_port, running_server

MLFLOW_SPLIT = (
    '{"dataframe_split": {"columns": {{ columns | tojson }}, "data": {{ values | tojson }}}}'
)


def test_a_declared_mlflow_body_gives_the_sklearn_models_predictions(
    http_pipeline: Pipeline, http_rows: pd.DataFrame
) -> None:
    codec = RestCodec(
        body=MLFLOW_SPLIT, labels="predictions[*].label", scores="predictions[*].probability"
    )
    with serve_model(sklearn_predict_fn(http_pipeline), respond="records") as served:
        transport = HttpTransport(max_retries=0)
        with RestAdapter(
            served.mlflow_url, codec=codec, transport=transport, batch_size=128
        ) as rest:
            predictions = rest.predict_batch(http_rows)
            assert rest.describe()["usage"] == {"requests": 5} == {"requests": served.requests}
    assert predictions.labels is not None and predictions.scores is not None
    assert predictions.labels.tolist() == http_pipeline.predict(http_rows).tolist()
    np.testing.assert_allclose(predictions.scores, http_pipeline.predict_proba(http_rows)[:, 1])


def test_row_mode_sends_one_request_per_row(
    http_pipeline: Pipeline, http_rows: pd.DataFrame
) -> None:
    body = '{"dataframe_records": [{{ row | tojson }}]}'
    codec = RestCodec(body=body, labels="predictions", mode="row")
    rows = http_rows.head(7)
    with serve_model(sklearn_predict_fn(http_pipeline)) as served:
        with RestAdapter(served.mlflow_url, codec=codec, batch_size=3) as rest:
            predictions = rest.predict_batch(rows)
        assert served.requests == 7
    assert predictions.labels is not None
    assert predictions.labels.tolist() == http_pipeline.predict(rows).tolist()


def _write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "adult-rest.yaml"
    path.write_text(
        f"kind: rest\nurl: {url}\nbody: '{MLFLOW_SPLIT}'\nlabels: predictions\n"
        f"positive_label: '>50K'\nnegative_label: '<=50K'\nbatch_size: 100\n{extra}",
        encoding="utf-8",
    )
    return path


def _audit(config: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run", "--model", str(config), "--data", str(data), "--policy", "four-fifths",
        "--target", TARGET, "--positive-label", ">50K", "--sensitive", "sex",
        "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def test_a_rest_endpoint_is_audited_from_a_yaml_config_alone(
    http_pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = pd.read_csv(ADULT, nrows=1000).iloc[400:]
    csv = tmp_path / "audit.csv"
    data.to_csv(csv, index=False)
    decided = pd.Series(http_pipeline.predict(data.drop(columns=[TARGET])) == ">50K")
    expected = decided.groupby(data["sex"].to_numpy()).mean()  # pandas, not the auditor
    with serve_model(sklearn_predict_fn(http_pipeline)) as served:
        config = _write_config(tmp_path, served.mlflow_url)
        cache = str(tmp_path / "cache")
        code = main(_audit(config, csv, tmp_path / "a", "--cache-dir", cache))
        assert code in (0, 1), capsys.readouterr().err
        assert served.requests == 6
        code = main(_audit(config, csv, tmp_path / "b", "--cache-dir", cache))
        assert served.requests == 6  # the rerun sends nothing
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    rates = next(
        m for m in report["auditors"][0]["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    )  # fmt: skip
    measured = {g["group"]: g["value"] for g in rates["groups"]}
    assert measured == pytest.approx({f"sex={k}": v for k, v in expected.items()})
    model = report["model"]
    assert model["kind"] == "rest" and len(model["body_sha256"]) == 64
    rerun = json.loads((tmp_path / "b" / "report.json").read_text())["model"]
    assert rerun["usage"] == {"requests": 0}
    assert rerun["scoring"]["batches_from_cache"] == 6


def test_the_request_limit_stops_the_audit_in_one_line(
    http_pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "audit.csv"
    pd.read_csv(ADULT, nrows=500).to_csv(csv, index=False)
    with serve_model(sklearn_predict_fn(http_pipeline)) as served:
        config = _write_config(tmp_path, served.mlflow_url, "concurrency: 1\n")
        code = main(_audit(config, csv, tmp_path / "out", "--max-requests", "2"))
        assert served.requests == 2
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "stopped before request 3: the request limit (max_requests 2) is reached" in err
    assert "200 rows answered before the stop" in err and "no finding was measured" in err


# ------------------------------------------------------------------ KServe's own server

_KSERVE_SERVER = '''
import sys
from kserve import Model, ModelServer


class Rule(Model):
    """Approves when education-num (the second value of each instance) is 13 or more."""

    def __init__(self, name):
        super().__init__(name)
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        return {"predictions": [int(row[1] >= 13) for row in payload["instances"]]}


ModelServer(http_port=int(sys.argv[1]), grpc_port=int(sys.argv[2]), enable_grpc=False,
            workers=1).start([Rule("adult")])
'''


def _kserve_python() -> str | None:
    configured = os.environ.get("MAAS_AUDIT_KSERVE_PYTHON")
    if configured:
        return configured
    return sys.executable if importlib.util.find_spec("kserve") is not None else None


@pytest.fixture(scope="module")
def kserve_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = _kserve_python()
    if python is None:
        pytest.skip(
            "KServe is not installed: pip install kserve (or set MAAS_AUDIT_KSERVE_PYTHON to a "
            "Python that has it) to test the kserve-v1 preset against KServe's ModelServer"
        )
    folder = tmp_path_factory.mktemp("kserve")
    script = folder / "server.py"
    script.write_text(_KSERVE_SERVER, encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1/models/adult"
    with running_server(
        [python, str(script), str(port), str(free_port())],
        folder=folder,
        ready=lambda: bool(httpx.get(base, timeout=1).json().get("ready")),
        name="KServe",
    ):
        yield f"{base}:predict"


def test_the_kserve_v1_preset_against_kserves_model_server(kserve_url: str, tmp_path: Path) -> None:
    rows = pd.read_csv(ADULT, nrows=300)
    config = tmp_path / "kserve.yaml"
    config.write_text(
        f"kind: rest\npreset: kserve-v1\nurl: {kserve_url}\nbatch_size: 64\n"
        "input_columns: [age, education-num]\npositive_label: 1\nnegative_label: 0\n",
        encoding="utf-8",
    )
    with load_config_model(config) as adapter:
        predictions = adapter.predict_batch(rows)
        assert adapter.describe()["usage"] == {"requests": 5}
    assert predictions.labels is not None
    expected = (rows["education-num"] >= 13).astype(int)
    assert 0 < expected.mean() < 1
    assert predictions.labels.tolist() == expected.tolist()

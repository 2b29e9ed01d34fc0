"""The ``torchserve`` preset against a real TorchServe serving a scikit-learn pipeline.

TorchServe (a Java front end with Python workers) is the reference here: a custom
handler, written as TorchServe's "Custom Service" page describes (a module-level
``handle(data, context)`` returning one answer per request of a batch), serves the
pipeline; TorchServe is set to batch up to 4 concurrent requests on its side.  The
labels and probabilities that come back one row per request must be the pipeline's
own, computed in the server's Python straight from the CSV, to the last bit.

TorchServe needs Java and ``torch``; the module runs with ``MAAS_AUDIT_TORCHSERVE_PYTHON``
naming a Python that has ``torchserve``, ``torch-model-archiver``, ``torch``,
``scikit-learn`` and ``pandas``, and ``java`` on the PATH; elsewhere it is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from audit.adapters.config import load_config_model
from audit.core.protocols import Predictions

from .conftest import ADULT, TARGET
from .real_servers import free_port, running_server
from .test_rest_bentoml import TRAIN_SCRIPT

START_S = 120.0

# A row arrives as a JSON object; a one-row frame built from it has None, not NaN, in
# a text column whose only cell is missing, which scikit-learn's OneHotEncoder takes
# for an unknown category: cast text columns to pandas' str dtype, as read_csv does.
_HANDLER = """
import json, os, pickle
import pandas as pd

_model = None


def handle(data, context):
    global _model
    if _model is None:
        with open(os.path.join(context.system_properties["model_dir"], "model.pkl"), "rb") as f:
            _model = pickle.load(f)
    if data is None:
        return None
    rows = []
    for request in data:
        body = request.get("body") if request.get("body") is not None else request.get("data")
        rows.append(json.loads(body) if isinstance(body, (bytes, bytearray)) else body)
    frame = pd.DataFrame(rows)
    frame = frame.astype({c: "str" for c in frame if frame[c].dtype == object})
    labels = _model.predict(frame).tolist()
    scores = _model.predict_proba(frame)[:, 1].tolist()
    return [{"label": label, "score": score} for label, score in zip(labels, scores)]
"""

_ARCHIVE = """
import sys
from model_archiver.model_packaging import generate_model_archive
sys.argv = ["torch-model-archiver", *sys.argv[1:]]
generate_model_archive()
"""

_LAUNCH = """
import sys
from ts.model_server import start
sys.argv = ["torchserve", *sys.argv[1:]]
start()
"""


def _run(folder: Path, *command: str) -> None:
    subprocess.run(list(command), cwd=folder, check=True, timeout=120)


@pytest.fixture(scope="module")
def torchserve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """The prediction URL, and the pipeline's own predictions of rows 400-999."""
    python = os.environ.get("MAAS_AUDIT_TORCHSERVE_PYTHON")
    if not python or shutil.which("java") is None:
        pytest.skip(
            "TorchServe is not set up: set MAAS_AUDIT_TORCHSERVE_PYTHON to a Python with "
            "torchserve, torch-model-archiver, torch, scikit-learn and pandas, with java on "
            "the PATH, to test the torchserve preset"
        )
    folder = tmp_path_factory.mktemp("torchserve")
    rows_csv = folder / "rows.csv"
    pd.read_csv(ADULT, nrows=1000).iloc[400:].to_csv(rows_csv, index=False)
    (folder / "train.py").write_text(TRAIN_SCRIPT, encoding="utf-8")
    (folder / "handler.py").write_text(_HANDLER, encoding="utf-8")
    model, expected = folder / "model.pkl", folder / "expected.json"
    _run(folder, python, "train.py", str(ADULT), str(rows_csv), str(model), str(expected))
    (folder / "store").mkdir()
    _run(
        folder, python, "-c", _ARCHIVE, "--model-name", "adult", "--version", "1.0",
        "--handler", "handler.py", "--extra-files", "model.pkl", "--export-path", "store",
    )  # fmt: skip
    port, management = free_port(), free_port()
    (folder / "config.properties").write_text(
        f"inference_address=http://127.0.0.1:{port}\n"
        f"management_address=http://127.0.0.1:{management}\n"
        f"metrics_address=http://127.0.0.1:{free_port()}\n"
        f"grpc_inference_port={free_port()}\ngrpc_management_port={free_port()}\n"
        'models={"adult": {"1.0": {"marName": "adult.mar", "minWorkers": 1, '
        '"maxWorkers": 1, "batchSize": 4, "maxBatchDelay": 50}}}\n',
        encoding="utf-8",
    )
    # TMPDIR: TorchServe keeps its pid file there; a private one leaves others' alone
    env = {**os.environ, "TMPDIR": str(folder), "LOG_LOCATION": str(folder / "logs"),
           "METRICS_LOCATION": str(folder / "logs")}  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with running_server(
        [python, "-c", _LAUNCH, "--start", "--foreground", "--ncs", "--disable-token-auth",
         "--model-store", "store", "--models", "adult=adult.mar",
         "--ts-config", "config.properties"],
        folder=folder,
        ready=lambda: httpx.get(f"{base}/ping", timeout=1).json().get("status") == "Healthy",
        name="TorchServe",
        start_s=START_S,
        env=env,
    ):  # fmt: skip
        yield f"{base}/predictions/adult", json.loads(expected.read_text())


def test_rows_through_the_preset_get_the_pipelines_own_labels_and_probabilities(
    torchserve: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    url, expected = torchserve
    rows = pd.read_csv(ADULT, nrows=1000).iloc[400:].drop(columns=[TARGET])
    assert rows.isna().any().any(), "missing cells must travel as JSON null"
    config = tmp_path / "torchserve.yaml"
    config.write_text(
        f"kind: rest\npreset: torchserve\nurl: {url}\nlabels: label\nscores: score\n",
        encoding="utf-8",
    )
    with load_config_model(config) as adapter:
        chunks = [rows.iloc[start : start + 150] for start in range(0, len(rows), 150)]
        with ThreadPoolExecutor(4) as pool:  # concurrent requests: TorchServe batches them
            parts = list(pool.map(adapter.predict_batch, chunks))
        assert adapter.describe()["usage"] == {"requests": 600}  # one request per row
    predictions = Predictions.concatenate(parts)
    assert predictions.labels is not None and predictions.scores is not None
    assert predictions.labels.tolist() == expected["labels"]
    np.testing.assert_array_equal(predictions.scores, np.asarray(expected["scores"]))

"""The OIP v2 adapter against a real MLServer serving a scikit-learn pipeline.

MLServer (Seldon's inference server, and the runtime of KServe's scikit-learn v2 server)
is the reference for the protocol here, not this project's own test server: the
predictions and probabilities that come back over HTTP must be the pipeline's own, to
the last bit, and an audit with ``--threshold`` must give what the same scores give
when read from a decision log.  MLServer is in the ``dev`` extra; where it is not
installed the module is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit import run_audit
from audit.adapters.http import http_adapter

from .conftest import TARGET
from .real_servers import DIE_WITH_PARENT, free_port, running_server

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlserver_sklearn") is None,
    reason="MLServer is not installed (the dev extra has it)",
)

MODEL = "adult"
START_S = 90.0

_LAUNCH = (
    DIE_WITH_PARENT
    + """
import sys
from mlserver.cli import main
sys.argv = ["mlserver", "start", sys.argv[1]]
main()
"""
)


@pytest.fixture(scope="module")
def mlserver_url(
    tmp_path_factory: pytest.TempPathFactory, http_pipeline: Pipeline
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlserver")
    (folder / MODEL).mkdir()
    joblib.dump(http_pipeline, folder / MODEL / "model.joblib")
    (folder / MODEL / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib"},
            }
        )
    )
    port = free_port()
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        # in-process inference: no worker pool to start (nor to leave behind)
        "parallel_workers": 0,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    base = f"http://127.0.0.1:{port}/v2/models/{MODEL}"
    with running_server(
        [sys.executable, "-c", _LAUNCH, str(folder)],
        folder=folder,
        ready=lambda: httpx.get(f"{base}/ready", timeout=1).status_code == 200,
        name="MLServer",
        start_s=START_S,
    ):
        yield f"{base}/infer"


def test_labels_and_probabilities_from_mlserver_are_the_pipelines_own(
    mlserver_url: str, http_pipeline: Pipeline, http_rows: pd.DataFrame
) -> None:
    with http_adapter(mlserver_url, batch_size=128) as adapter:
        predictions = adapter.predict_batch(http_rows)
        described = adapter.describe()
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == http_pipeline.predict(http_rows).tolist()
    expected = http_pipeline.predict_proba(http_rows)[:, 1]
    np.testing.assert_array_equal(predictions.scores, expected)  # JSON keeps float64 exact
    assert described["usage"]["models"] == [MODEL]
    assert described["usage"]["requests"] == 5  # 600 rows in 128s: nothing refused


def test_a_threshold_audit_through_mlserver_equals_the_decision_log(
    mlserver_url: str, http_pipeline: Pipeline, http_adult: pd.DataFrame, tmp_path: Path
) -> None:
    data = http_adult.iloc[400:].reset_index(drop=True)
    features = [c for c in data.columns if c != TARGET]
    served = run_audit(
        model=mlserver_url,
        data=data,
        target=TARGET,
        sensitive=["sex"],
        features=features,
        policy="four-fifths",
        positive_label=">50K",
        threshold=0.3,
    )
    logged = data.assign(
        decision=http_pipeline.predict(data[features]),
        score=http_pipeline.predict_proba(data[features])[:, 1],
    )
    reference = run_audit(
        model="column:decision,score=score",
        data=logged,
        target=TARGET,
        sensitive=["sex"],
        policy="four-fifths",
        positive_label=">50K",
        threshold=0.3,
    )
    rates = {
        "served": _selection_rates(served),
        "logged": _selection_rates(reference),
    }
    assert rates["served"] == rates["logged"]
    decided = logged["score"] >= 0.3
    by_sex = decided.groupby(data["sex"]).mean()
    assert rates["served"] == pytest.approx({f"sex={k}": v for k, v in by_sex.items()}, abs=1e-12)
    assert [f.verdict for f in served.findings] == [f.verdict for f in reference.findings]


def _selection_rates(result: object) -> dict[str, float]:
    metric = next(
        m
        for output in result.outputs  # type: ignore[attr-defined]
        for m in output.metrics
        if m.metric == "selection_rate" and m.grouping == ("sex",)
    )
    return {g.group: g.value for g in metric.groups}

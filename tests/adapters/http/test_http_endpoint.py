"""End to end: HttpAdapter against audit.testing.serve_model on a real socket."""

from __future__ import annotations

import json
import math
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit.adapters.http import HttpAdapter, HttpTransport, parse_endpoint_url
from audit.core.protocols import Predictions
from audit.errors import EndpointError
from audit.testing import Fault, serve_model, sklearn_predict_fn
from audit.testing.endpoint import main

REPO = Path(__file__).resolve().parents[3]
AdapterFactory = Callable[..., HttpAdapter]
PredictFn = Callable[[pd.DataFrame], Predictions]


def url_of(served: object, protocol: str) -> str:
    return served.mlflow_url if protocol == "mlflow" else served.oip_url  # type: ignore[attr-defined]


PROTOCOLS = ["mlflow", "oip-v2"]


@pytest.mark.parametrize(
    ("protocol", "respond"),
    [
        ("mlflow", "labels"),
        ("mlflow", "probabilities"),
        ("mlflow", "records"),
        ("oip-v2", "labels"),
    ],
)
def test_served_predictions_equal_the_sklearn_model(
    http_pipeline: Pipeline,
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
    protocol: str,
    respond: str,
) -> None:
    expected_labels = http_pipeline.predict(http_rows)
    expected_scores = http_pipeline.predict_proba(http_rows)[:, 1]
    with serve_model(sklearn_predict_fn(http_pipeline), respond=respond) as served:  # type: ignore[arg-type]
        adapter = adapter_factory(url_of(served, protocol), batch_size=128)
        predictions = adapter.predict_batch(http_rows)
    assert len(predictions) == len(http_rows)
    if respond == "probabilities":
        assert predictions.labels is not None
        assert predictions.scores is not None
        np.testing.assert_array_equal(predictions.scores, expected_scores)
        np.testing.assert_array_equal(
            predictions.labels, (expected_labels == http_pipeline.classes_[1]).astype(int)
        )
        return
    assert predictions.labels is not None
    assert predictions.labels.tolist() == expected_labels.tolist()
    assert set(predictions.labels.tolist()) == {">50K", "<=50K"}
    if respond == "labels" and protocol == "mlflow":
        assert predictions.scores is None
    else:
        np.testing.assert_array_equal(predictions.scores, expected_scores)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("batch_size", [1000, 600, 599, 64, 1])
def test_one_request_per_batch(
    http_rows: pd.DataFrame,
    constant_fn: PredictFn,
    adapter_factory: AdapterFactory,
    protocol: str,
    batch_size: int,
) -> None:
    rows = http_rows if batch_size > 1 else http_rows.iloc[:25]
    with serve_model(constant_fn) as served:
        adapter = adapter_factory(url_of(served, protocol), batch_size=batch_size)
        predictions = adapter.predict_batch(rows)
        expected = math.ceil(len(rows) / batch_size)
        assert (served.requests, served.rows) == (expected, len(rows))
    assert (adapter.requests_sent, adapter.rows_sent) == (expected, len(rows))
    assert len(predictions) == len(rows)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_missing_values_round_trip(adapter_factory: AdapterFactory, protocol: str) -> None:
    sent = pd.DataFrame(
        {
            "age": [39.0, np.nan, 50.0],
            "workclass": pd.Series(["State-gov", None, np.nan], dtype=object),
            "hours": np.array([40, 13, 60]),
        }
    )
    received: list[pd.DataFrame] = []

    def record(rows: pd.DataFrame) -> Predictions:
        received.append(rows)
        return Predictions(labels=np.zeros(len(rows), dtype=np.int64))

    with serve_model(record) as served:
        adapter_factory(url_of(served, protocol)).predict_batch(sent)
    # over OIP v2 the first request asks for predict_proba, which this model lacks: the
    # server refuses it (after predicting, unlike MLServer) and the rows are sent again
    assert len(received) == (2 if protocol == "oip-v2" else 1)
    got = received[-1]
    assert list(got.columns) == list(sent.columns)
    pd.testing.assert_frame_equal(got.isna(), sent.isna())
    assert got["age"].dropna().tolist() == [39.0, 50.0]
    assert got["workclass"].dropna().tolist() == ["State-gov"]
    assert got["hours"].tolist() == [40, 13, 60]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_two_503_then_success(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, protocol: str
) -> None:
    sleeps: list[float] = []
    faults = [Fault("status", times=2, status=503, retry_after="0")]
    with serve_model(constant_fn, faults=faults) as served:
        adapter = adapter_factory(url_of(served, protocol), sleeps=sleeps)
        predictions = adapter.predict_batch(pd.DataFrame({"x": [1.0, 2.0]}))
        assert served.requests == 3
    assert len(predictions) == 2
    assert adapter.requests_sent == 3
    assert sleeps == [0.0, 0.0]


def test_429_retry_after_is_honoured_in_real_time(
    constant_fn: PredictFn, adapter_factory: AdapterFactory
) -> None:
    with serve_model(
        constant_fn, faults=[Fault("status", status=429, retry_after="0.4")]
    ) as served:
        protocol, post_url = parse_endpoint_url(served.mlflow_url)
        transport = HttpTransport(backoff_base=0.001, backoff_max=5.0, max_retries=2)
        with HttpAdapter(post_url, protocol=protocol, transport=transport) as adapter:
            started = time.monotonic()
            adapter.predict_batch(pd.DataFrame({"x": [1]}))
            elapsed = time.monotonic() - started
        assert served.requests == 2
    assert elapsed >= 0.4


def test_429_without_retry_after_uses_the_backoff(
    constant_fn: PredictFn, adapter_factory: AdapterFactory
) -> None:
    sleeps: list[float] = []
    with serve_model(constant_fn, faults=[Fault("status", status=429)]) as served:
        adapter_factory(served.oip_url, sleeps=sleeps).predict_batch(pd.DataFrame({"x": [1]}))
    assert len(sleeps) == 1
    assert 0.005 <= sleeps[0] <= 0.01


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_exhausted_retries(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, protocol: str
) -> None:
    with serve_model(constant_fn, faults=[Fault("status", times=10, status=502)]) as served:
        adapter = adapter_factory(url_of(served, protocol), max_retries=2)
        with pytest.raises(EndpointError) as caught:
            adapter.predict_batch(pd.DataFrame({"x": [1]}))
        assert served.requests == 3
    assert str(caught.value) == (
        f"{url_of(served, protocol)}: no answer after 3 attempts (last answer HTTP 502 Bad Gateway)"
    )


def test_dead_port_fails_quickly(adapter_factory: AdapterFactory) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/invocations"
    adapter = adapter_factory(url, max_retries=3)
    started = time.monotonic()
    with pytest.raises(EndpointError) as caught:
        adapter.predict_batch(pd.DataFrame({"x": [1]}))
    assert time.monotonic() - started < 2.0
    assert str(caught.value) == f"{url}: no answer after 4 attempts (connection refused)"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_wrong_row_count(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, protocol: str
) -> None:
    with serve_model(constant_fn, faults=[Fault("wrong_row_count")]) as served:
        adapter = adapter_factory(url_of(served, protocol))
        with pytest.raises(EndpointError, match="endpoint returned 9 predictions for 10 rows"):
            adapter.predict_batch(pd.DataFrame({"x": range(10)}))
        assert served.requests == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_malformed_json(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, protocol: str
) -> None:
    with serve_model(constant_fn, faults=[Fault("malformed_json")]) as served:
        adapter = adapter_factory(url_of(served, protocol))
        with pytest.raises(
            EndpointError, match=r"HTTP 200 with a body that is not JSON: \{\"predictions\": \["
        ):
            adapter.predict_batch(pd.DataFrame({"x": [1]}))
        assert served.requests == 1


def test_slow_answer_times_out(constant_fn: PredictFn, adapter_factory: AdapterFactory) -> None:
    with serve_model(constant_fn, faults=[Fault("delay", seconds=1.0)]) as served:
        adapter = adapter_factory(served.mlflow_url, timeout=0.2, max_retries=0)
        with pytest.raises(
            EndpointError, match=r"no answer after 1 attempts \(timed out after 0.2 s\)"
        ):
            adapter.predict_batch(pd.DataFrame({"x": [1]}))


def test_delay_within_the_timeout_succeeds(
    constant_fn: PredictFn, adapter_factory: AdapterFactory
) -> None:
    with serve_model(constant_fn, faults=[Fault("delay", seconds=0.1)]) as served:
        adapter = adapter_factory(served.oip_url, timeout=5.0)
        assert len(adapter.predict_batch(pd.DataFrame({"x": [1, 2]}))) == 2


# --- credentials ------------------------------------------------------------------------

TOKEN = "tok-Sup3r-s3cret"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_missing_token_is_401_without_retries(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, protocol: str
) -> None:
    with serve_model(constant_fn, require_token=TOKEN) as served:
        adapter = adapter_factory(url_of(served, protocol))
        with pytest.raises(
            EndpointError, match=r"HTTP 401 Unauthorized \(credential headers sent: none"
        ):
            adapter.predict_batch(pd.DataFrame({"x": [1]}))
        assert served.requests == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_header_env_token_succeeds_and_stays_secret(
    constant_fn: PredictFn,
    adapter_factory: AdapterFactory,
    monkeypatch: pytest.MonkeyPatch,
    protocol: str,
) -> None:
    monkeypatch.setenv("MY_VAR", f"Bearer {TOKEN}")
    with serve_model(constant_fn, require_token=TOKEN) as served:
        adapter = adapter_factory(url_of(served, protocol), header_env={"Authorization": "MY_VAR"})
        assert len(adapter.predict_batch(pd.DataFrame({"x": [1, 2, 3]}))) == 3
        adapter.fingerprint()
        monkeypatch.setenv("MY_VAR", "Bearer wrong-but-secret")
        wrong = adapter_factory(url_of(served, protocol), header_env={"Authorization": "MY_VAR"})
        with pytest.raises(EndpointError) as caught:
            wrong.predict_batch(pd.DataFrame({"x": [1]}))
    assert adapter.describe()["auth_headers"] == ["Authorization"]
    for text in (
        json.dumps(adapter.describe()),
        repr(adapter),
        repr(adapter.transport),
        str(caught.value),
    ):
        assert TOKEN not in text
        assert "wrong-but-secret" not in text
    assert "HTTP 401" in str(caught.value)


def test_maas_audit_token_default(
    constant_fn: PredictFn, adapter_factory: AdapterFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    with serve_model(constant_fn, require_token=TOKEN) as served:
        adapter = adapter_factory(served.oip_url)
        assert len(adapter.predict_batch(pd.DataFrame({"x": [1]}))) == 1


# --- the server's other endpoints --------------------------------------------------------


def test_health_and_metadata_endpoints(constant_fn: PredictFn) -> None:
    with serve_model(constant_fn, model_name="adult") as served, httpx.Client() as client:
        base = served.base_url
        assert client.get(f"{base}/ping").status_code == 200
        assert client.get(f"{base}/health").status_code == 200
        assert client.get(f"{base}/v2/health/live").json() == {"live": True}
        assert client.get(f"{base}/v2/health/ready").json() == {"ready": True}
        assert client.get(f"{base}/v2/models/adult/ready").status_code == 200
        metadata = client.get(f"{base}/v2/models/adult").json()
        assert metadata["name"] == "adult"
        assert [o["name"] for o in metadata["outputs"]] == ["predict", "predict_proba"]
        assert client.get(f"{base}/v2/models/other").status_code == 404
        assert client.get(f"{base}/nowhere").status_code == 404
        assert served.requests == 0
    assert served.oip_url.endswith("/v2/models/adult/infer")


def test_unknown_model_name_is_a_404(
    constant_fn: PredictFn, adapter_factory: AdapterFactory
) -> None:
    with serve_model(constant_fn, model_name="adult") as served:
        adapter = adapter_factory(f"{served.base_url}/v2/models/other/infer")
        with pytest.raises(EndpointError, match=r"HTTP 404 Not Found: .*model 'other' not found"):
            adapter.predict_batch(pd.DataFrame({"x": [1]}))


def test_model_errors_are_reported(adapter_factory: AdapterFactory) -> None:
    def broken(rows: pd.DataFrame) -> Predictions:
        raise KeyError("column 'age' missing")

    with serve_model(broken) as served:
        adapter = adapter_factory(served.mlflow_url)
        with pytest.raises(EndpointError, match=r"HTTP 400 Bad Request: .*column 'age' missing"):
            adapter.predict_batch(pd.DataFrame({"x": [1]}))


def test_versioned_oip_url(constant_fn: PredictFn, adapter_factory: AdapterFactory) -> None:
    with serve_model(constant_fn) as served:
        adapter = adapter_factory(f"{served.base_url}/v2/models/model/versions/7")
        assert len(adapter.predict_batch(pd.DataFrame({"x": [1]}))) == 1


def test_fault_plan_is_validated() -> None:
    with pytest.raises(ValueError, match="Fault times must be >= 1"):
        Fault("status", times=0)
    with pytest.raises(ValueError, match="Fault status must be an HTTP error"):
        Fault("status", status=200)


# --- the command line --------------------------------------------------------------------


@pytest.fixture(scope="module")
def skops_file(http_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import skops.io as sio

    path = tmp_path_factory.mktemp("cli") / "adult.skops"
    sio.dump(http_pipeline, path)
    return path


@pytest.fixture(scope="module", autouse=True)
def cli_process(skops_file: Path) -> Iterator[subprocess.Popen[str]]:
    """``python -m audit.testing.endpoint``, started with this module's first test.

    Importing skops (and what it imports) takes seconds; starting the server early
    lets the other tests of this module run meanwhile.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "audit.testing.endpoint", "--model", str(skops_file)]
    process = subprocess.Popen(
        [*command, "--port", "0", "--model-name", "adult"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)


def _ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], timeout)
    if not readable:
        raise AssertionError(f"no ready line within {timeout} s")
    return process.stdout.readline().strip()


@pytest.mark.slow
def test_cli_serves_a_skops_model(
    cli_process: subprocess.Popen[str],
    http_pipeline: Pipeline,
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
) -> None:
    try:
        line = _ready_line(cli_process, timeout=60)
        assert line.startswith("serving on http://127.0.0.1:")
        base = line.removeprefix("serving on ")
        rows = http_rows.iloc[:200]
        mlflow = adapter_factory(f"{base}/invocations", batch_size=50).predict_batch(rows)
        oip = adapter_factory(f"{base}/v2/models/adult", batch_size=50).predict_batch(rows)
    finally:
        cli_process.terminate()
        _, stderr = cli_process.communicate(timeout=10)
    assert cli_process.returncode == 0, stderr
    assert stderr == ""
    expected = http_pipeline.predict(rows).tolist()
    assert mlflow.labels is not None
    assert mlflow.labels.tolist() == expected
    assert oip.labels is not None
    assert oip.labels.tolist() == expected
    np.testing.assert_array_equal(oip.scores, http_pipeline.predict_proba(rows)[:, 1])


@pytest.fixture
def untrusted_skops_file(tmp_path: Path) -> Path:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "untrusted.skops"
    sio.dump(FunctionTransformer(func=math.sqrt), path)
    return path


def test_cli_refuses_untrusted_types(
    untrusted_skops_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(untrusted_skops_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "holds types that are not trusted: math.sqrt" in captured.err
    assert "math.sqrt" in captured.err


def test_cli_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", str(tmp_path / "nope.skops")]) == 2
    assert "does not exist" in capsys.readouterr().err

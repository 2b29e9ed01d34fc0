"""Failing endpoints through the real command line, served by the fault-injecting local server.

Transient faults are retried within bounds and the audit completes; persistent ones end in
exit 2 with one line naming the endpoint (never its credentials), and no report: a
previous report in ``--out`` is left byte for byte as it was.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.protocols import Predictions
from audit.testing.endpoint import Fault, serve_model

OLD_HTML = "<!doctype html><title>previous audit</title>\n"
OLD_JSON = '{"previous": "audit"}\n'


def _predict(rows: pd.DataFrame) -> Predictions:
    scores = 1 / (1 + np.exp(-rows["x"].to_numpy(dtype=float)))
    return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)


@pytest.fixture
def data_csv(decisions, tmp_path) -> Path:
    path = tmp_path / "data.csv"
    decisions.to_csv(path, index=False)
    return path


@pytest.fixture
def previous_out(tmp_path) -> Path:
    """An --out folder holding the reports of an earlier audit."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text(OLD_HTML, encoding="utf-8")
    (out / "report.json").write_text(OLD_JSON, encoding="utf-8")
    return out


def _run_args(url: str, data: Path, policy: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--model",
        url,
        "--data",
        str(data),
        "--target",
        "y",
        "--sensitive",
        "s",
        "--features",
        "x,s",
        "--policy",
        str(policy),
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def _assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]  # no temp
    assert (out / "report.html").read_text(encoding="utf-8") == OLD_HTML
    assert (out / "report.json").read_text(encoding="utf-8") == OLD_JSON


FAILURES = [
    # (case, faults, protocol, CLI options, expected requests, message fragment)
    (
        "503 with Retry-After",
        [Fault("status", times=10, status=503, retry_after="0")],
        "mlflow",
        ("--max-retries", "2"),
        3,
        "no answer after 3 attempts (last answer HTTP 503 Service Unavailable)",
    ),
    (
        "429 with Retry-After",
        [Fault("status", times=10, status=429, retry_after="0")],
        "oip",
        ("--max-retries", "2"),
        3,
        "no answer after 3 attempts (last answer HTTP 429 Too Many Requests)",
    ),
    (
        "500 with back-off",
        [Fault("status", times=10, status=500)],
        "mlflow",
        ("--max-retries", "1"),
        2,
        "no answer after 2 attempts (last answer HTTP 500 Internal Server Error)",
    ),
    (
        "timeout",
        [Fault("delay", times=10, seconds=1.5)],
        "oip",
        ("--max-retries", "1", "--timeout", "0.3"),
        2,
        "no answer after 2 attempts (timed out after 0.3 s)",
    ),
    (
        "slow drip",
        [Fault("drip", times=10, seconds=0.05)],
        "mlflow",
        ("--max-retries", "1", "--timeout", "0.3"),
        2,
        "no answer after 2 attempts (timed out after 0.3 s)",
    ),
    (
        "connection reset",
        [Fault("reset", times=10)],
        "oip",
        ("--max-retries", "1"),
        2,
        "no answer after 2 attempts (",
    ),
    (
        "malformed JSON",
        [Fault("malformed_json")],
        "mlflow",
        (),
        1,
        "HTTP 200 with a body that is not JSON",
    ),
    (
        "wrong row count",
        [Fault("wrong_row_count")],
        "oip",
        (),
        1,
        "endpoint returned 199 predictions for 200 rows",
    ),
    (
        "an HTML error page with 200",
        [Fault("html")],
        "mlflow",
        (),
        1,
        "HTTP 200 with a body that is not JSON: <html><body><h1>502 Bad Gateway",
    ),
    (
        "probabilities outside [0, 1]",
        [Fault("bad_probabilities")],
        "oip",
        (),
        1,
        "output 'predict_proba': row 0 has class probabilities",
    ),
    (
        "an answer to another request",
        [Fault("foreign_id")],
        "oip",
        (),
        1,
        "it answers request 'another-request', not this one",
    ),
    ("wrong shape (MLflow)", [Fault("wrong_shape")], "mlflow", (), 1, "prediction 0 is ["),
    ("wrong shape (OIP v2)", [Fault("wrong_shape")], "oip", (), 1, "has shape [200, 3]"),
    (
        "a later batch fails",
        [Fault("delay", times=2, seconds=0), Fault("status", times=10, status=502)],
        "mlflow",
        # one batch in flight, so batches 1-2 are answered before batch 3 fails
        ("--batch-size", "50", "--max-retries", "1", "--concurrency", "1"),
        4,
        "HTTP 502 Bad Gateway",
    ),
]


@pytest.mark.parametrize(
    ("faults", "protocol", "options", "requests", "message"),
    [case[1:] for case in FAILURES],
    ids=[case[0] for case in FAILURES],
)
def test_persistent_failure_is_exit_2_naming_the_endpoint_and_keeps_the_old_report(
    faults,
    protocol,
    options,
    requests,
    message,
    data_csv,
    fast_policy,
    previous_out,
    cli,
    usage_error,
):
    with serve_model(_predict, faults=faults) as served:
        url = served.mlflow_url if protocol == "mlflow" else served.oip_url
        started = time.monotonic()
        code, stdout, stderr = cli(_run_args(url, data_csv, fast_policy, previous_out, *options))
        elapsed = time.monotonic() - started
        sent = served.requests
    usage_error(code, stderr)
    assert f"127.0.0.1:{served.port}" in stderr  # names the endpoint
    assert message in stderr
    assert sent == requests  # retries stay within --max-retries
    assert elapsed < 10
    assert stdout == ""  # no finding, no verdict: nothing partial is presented
    _assert_untouched(previous_out)


def test_transient_faults_are_retried_and_the_audit_is_complete(
    data_csv, fast_policy, previous_out, cli
):
    faults = [  # the faults without Retry-After first, while the back-off is short
        Fault("reset"),
        Fault("drip", seconds=0.05),
        Fault("status", times=2, status=503, retry_after="0"),
        Fault("status", status=429, retry_after="0"),
    ]
    with serve_model(_predict, faults=faults) as served:
        code, stdout, stderr = cli(
            _run_args(
                served.mlflow_url,
                data_csv,
                fast_policy,
                previous_out,
                "--batch-size",
                "100",
                "--max-retries",
                "5",
                "--timeout",
                "0.3",
            )
        )
        sent = served.requests
    assert stderr == ""
    assert code in (0, 1)
    assert sent == 2 + 5  # two batches, five faults, each costing one retry
    report = json.loads((previous_out / "report.json").read_text(encoding="utf-8"))
    assert report["data"]["rows"] == 200
    assert report["model"]["location"] == served.mlflow_url
    assert f"verdict: {report['verdict']}" in stdout


def test_dead_endpoint_is_one_line(data_csv, fast_policy, tmp_path, cli, usage_error):
    out = tmp_path / "out"
    code, _, stderr = cli(
        _run_args(
            "http://127.0.0.1:9/invocations",
            data_csv,
            fast_policy,
            out,
            "--max-retries",
            "0",
        )
    )
    usage_error(code, stderr)
    assert "127.0.0.1:9/invocations: no answer after 1 attempts (connection refused)" in stderr
    assert not out.exists()

"""`maas-audit run --concurrency/--cache-dir` against a model served on localhost."""

import json

import pytest

from audit.cli.main import main
from audit.core.protocols import Predictions
from audit.testing import Fault, serve_model

BATCH = "500"  # 3,000 audited rows: 6 batches


@pytest.fixture(scope="module")
def predict(income_model):
    def fn(rows):
        features = rows[list(income_model.feature_names_in_)]
        return Predictions(
            labels=income_model.predict(features), scores=income_model.predict_proba(features)[:, 1]
        )

    return fn


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def args_for(run_args, url, audit_csv, out, *extra):
    return [
        *run_args,
        "--model",
        url,
        "--data",
        str(audit_csv),
        "--policy",
        "four-fifths",
        "--out",
        str(out),
        "--batch-size",
        BATCH,
        *extra,
    ]


def test_a_cached_rerun_sends_nothing_and_reports_the_same_findings(
    predict, run_args, audit_csv, tmp_path, capsys
):
    cache = tmp_path / "cache"
    with serve_model(predict, latency=0.03) as served:
        extra = ("--cache-dir", str(cache), "--concurrency", "3")
        first = run_cli(
            args_for(run_args, served.mlflow_url, audit_csv, tmp_path / "a", *extra), capsys
        )
        assert served.requests == 6
        assert 1 < served.max_in_flight <= 3
        second = run_cli(
            args_for(run_args, served.mlflow_url, audit_csv, tmp_path / "b", *extra), capsys
        )
        assert served.requests == 6  # the rerun sent nothing
    assert first[0] == second[0] == 1  # the model fails four-fifths on sex
    assert first[2] == second[2] == ""
    reports = [json.loads((tmp_path / d / "report.json").read_text()) for d in ("a", "b")]
    assert reports[0]["findings"] == reports[1]["findings"]
    assert reports[0]["auditors"] == reports[1]["auditors"]
    assert reports[0]["model"]["scoring"]["batches_scored"] == 6
    assert reports[0]["model"]["scoring"]["concurrency"] == 3
    assert reports[1]["model"]["scoring"]["batches_scored"] == 0
    assert reports[1]["model"]["scoring"]["batches_from_cache"] == 6
    assert "scoring.batches_from_cache" in (tmp_path / "b" / "report.html").read_text()


def test_an_endpoint_that_keeps_failing_exits_2_with_one_line_and_no_report(
    predict, run_args, audit_csv, tmp_path, capsys
):
    out = tmp_path / "out"
    faults = [Fault("ok", times=2), Fault("status", times=10_000, status=500)]
    with serve_model(predict, faults=faults) as served:
        code, stdout, stderr = run_cli(
            args_for(run_args, served.mlflow_url, audit_csv, out, "--max-retries", "0"), capsys
        )
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert "HTTP 500" in stderr and "no answer after 1 attempts" in stderr
    assert not (out / "report.json").exists()
    assert not (out / "report.html").exists()


@pytest.mark.parametrize("value", ["0", "-2"])
def test_concurrency_below_one_is_a_usage_error(value, run_args, audit_csv, tmp_path, capsys):
    code, stdout, stderr = run_cli(
        args_for(
            run_args, "http://127.0.0.1:9/invocations", audit_csv, tmp_path, "--concurrency", value
        ),
        capsys,
    )
    assert code == 2
    assert stdout == ""
    assert stderr.strip().endswith(f"--concurrency must be 1 or more; got {value}")
    assert stderr.count("\n") == 1


def test_a_cache_folder_that_cannot_be_made_fails_before_scoring(
    run_args, audit_csv, tmp_path, capsys
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with serve_model(lambda rows: Predictions(labels=["<=50K"] * len(rows))) as served:
        code, stdout, stderr = run_cli(
            args_for(
                run_args,
                served.mlflow_url,
                audit_csv,
                tmp_path / "out",
                "--cache-dir",
                str(blocker),
            ),
            capsys,
        )
        assert served.requests == 0
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert f"cannot use '{blocker}' as the prediction cache folder" in stderr

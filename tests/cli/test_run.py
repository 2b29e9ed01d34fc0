"""`maas-audit run` end to end: a real model served over HTTP on localhost, real data."""

import json
import subprocess
import sys

import pytest

from audit.cli.main import main


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("protocol", ["mlflow", "oip"])
def test_audit_through_http_writes_both_reports(
    protocol, served, adult_split, audit_csv, run_args, expected_selection_rates, tmp_path, capsys
):
    url = served.mlflow_url if protocol == "mlflow" else served.oip_url
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        [
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
            "500",
        ],
        capsys,
    )
    assert stderr == ""
    report = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    # The model disadvantages women by far more than four-fifths: the audit fails (exit 1).
    assert code == 1
    assert report["verdict"] == "FAIL"
    assert "verdict: FAIL" in stdout
    # Every per-group number is in the JSON and equals an independent pandas computation.
    _, held_out = adult_split
    expected = expected_selection_rates(held_out, "sex")
    fairness = next(a for a in report["auditors"] if a["auditor"] == "fairness")
    by_sex = next(
        m
        for m in fairness["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    )
    measured = {g["group"]: g["value"] for g in by_sex["groups"]}
    assert measured["sex=Female"] == pytest.approx(expected["Female"], abs=1e-12)
    assert measured["sex=Male"] == pytest.approx(expected["Male"], abs=1e-12)
    finding = next(f for f in report["findings"] if f["grouping"] == ["sex"])
    assert finding["measured"] == pytest.approx(expected["Female"] / expected["Male"], abs=1e-12)
    assert finding["verdict"] == "FAIL"
    # The report names the citation and the provenance records the model and data hashes.
    assert "29 CFR § 1607.4(D)" in html
    assert len(report["provenance"]["data_sha256"]) == 64
    assert report["model"]["kind"] == "http"


def test_decision_log_audit_passes_when_rates_are_equal(tmp_path, capsys, adult_sample):
    # A decision log where each sex is selected at exactly the same rate passes four-fifths.
    log = adult_sample[["sex", "income"]].copy()
    log["decision"] = 0
    for _, index in log.groupby("sex").groups.items():
        chosen = list(index)[: len(index) // 4]
        log.loc[chosen, "decision"] = 1
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    code, stdout, _ = run_cli(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(path),
            "--target",
            "income",
            "--positive-label",
            ">50K",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0, stdout
    assert "verdict: PASS" in stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--sensitive": "gender"}, "sensitive column 'gender' is not in the data"),
        ({"--target": "salary"}, "target column 'salary' is not in the data"),
        ({"--policy": "no-such-pack"}, "no-such-pack"),
        ({"--model": "missing.onnx"}, "missing.onnx"),
        (
            {"--model": "http://127.0.0.1:9/invocations", "--max-retries": "0", "--timeout": "2"},
            "127.0.0.1:9",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    change, message, served, audit_csv, run_args, tmp_path, capsys
):
    args = {
        "--model": served.mlflow_url,
        "--data": str(audit_csv),
        "--policy": "four-fifths",
        "--out": str(tmp_path / "out"),
    } | change
    flat = [item for pair in args.items() for item in pair]
    code, _, stderr = run_cli([*run_args, *flat], capsys)
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("maas-audit: error: ")
    assert message in stderr
    assert not (tmp_path / "out" / "report.html").exists()


def test_malformed_policy_names_file_and_line(tmp_path, audit_csv, served, run_args, capsys):
    policy = tmp_path / "bad.yaml"
    policy.write_text(
        "name: x\nversion: '1'\ndescription: d\nrequirements:\n"
        "  - id: a\n    title: t\n    citation: c\n    auditor: fairness\n"
        "    metric: selection_rate\n    compare: ratio_to_max\n    threshold: high\n"
    )
    code, _, stderr = run_cli(
        [
            *run_args,
            "--model",
            served.mlflow_url,
            "--data",
            str(audit_csv),
            "--policy",
            str(policy),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 2
    assert f"{policy}:11:5: requirements[0].threshold" in stderr
    assert stderr.count("\n") == 1


def test_empty_data_is_refused(tmp_path, served, run_args, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("income,sex,race\n")
    code, _, stderr = run_cli(
        [
            *run_args,
            "--model",
            served.mlflow_url,
            "--data",
            str(empty),
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ],
        capsys,
    )
    assert code == 2
    assert "has no rows" in stderr


def test_usage_errors_are_one_line(capsys):
    code, _, stderr = run_cli(["run", "--model", "x"], capsys)
    assert code == 2
    assert stderr.count("\n") == 1 and "required" in stderr


def test_policy_commands(capsys, tmp_path):
    code, stdout, _ = run_cli(["policy", "validate", "four-fifths", "nyc-ll144"], capsys)
    assert code == 0
    assert "four-fifths: valid" in stdout and "nyc-ll144: valid" in stdout
    code, stdout, _ = run_cli(["policy", "schema"], capsys)
    assert code == 0
    assert "requirements" in json.loads(stdout)["properties"]
    code, stdout, _ = run_cli(["policy", "packs"], capsys)
    assert "four-fifths" in stdout and "nyc-ll144" in stdout


def test_auditors_command_lists_fairness(capsys):
    code, stdout, _ = run_cli(["auditors"], capsys)
    assert code == 0
    lines = stdout.splitlines()
    assert any(line.startswith("fairness") for line in lines) and "selection_rate" in stdout
    assert any(line.startswith("explanations") for line in lines)


def test_python_dash_m_and_console_script(tmp_path):
    for command in (
        [sys.executable, "-m", "audit", "--version"],
        [str(__import__("pathlib").Path(sys.executable).parent / "maas-audit"), "--version"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("maas-audit ")


def test_a_reader_that_closes_the_pipe_is_not_an_internal_error():
    import subprocess
    import sys

    done = subprocess.run(
        f"{sys.executable} -m audit policy explain four-fifths --sensitive sex,race | true",
        shell=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stderr == "", done.stderr

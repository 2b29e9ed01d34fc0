"""`maas-audit run --junit --markdown --mlflow-run`, and GitHub Actions annotations, end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.cli.main import main

POLICY = textwrap.dedent(
    """\
    name: ci-gate
    version: "1"
    requirements:
      - id: rates-four-fifths
        title: Every group is selected at four-fifths of the best rate
        citation: "29 CFR 1607.4(D)"
        auditor: fairness
        metric: selection_rate
        compare: ratio_to_max
        threshold: 0.8
        group_by: each
      - id: tpr-gap
        title: True positive rates differ by at most 10 points
        citation: "Policy choice"
        auditor: fairness
        metric: true_positive_rate
        compare: max_difference
        threshold: 0.1
        severity: advisory
        group_by: each
    """
)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 3000), "x": rng.normal(size=3000)})
    frame["y"] = (frame["x"] > 0).astype(int)
    frame["decision"] = ((frame["x"] > 0) & ((frame["sex"] == "M") | (frame["x"] > 1))).astype(int)
    data = tmp_path / "decisions.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "policies" / "gate.yaml"
    policy.parent.mkdir()
    policy.write_text(POLICY, encoding="utf-8")
    return data, policy


def _run(inputs: tuple[Path, Path], out: Path, *extra: str) -> int:
    data, policy = inputs
    return main(
        ["run", "--model", "column:decision", "--data", str(data), "--target", "y",
         "--positive-label", "1", "--sensitive", "sex", "--policy", str(policy),
         "--out", str(out), "--no-progress", *extra]
    )  # fmt: skip


def test_junit_and_markdown_files_are_written_beside_the_reports(inputs, tmp_path, capsys):
    junit, summary = tmp_path / "ci" / "junit.xml", tmp_path / "ci" / "summary.md"
    code = _run(inputs, tmp_path / "out", "--junit", str(junit), "--markdown", str(summary))
    assert code == 1
    xml = junit.read_text(encoding="utf-8")
    assert '<failure message="' in xml and 'name="rates-four-fifths [sex]"' in xml
    text = summary.read_text(encoding="utf-8")
    assert "**Overall: FAIL**" in text and str(tmp_path / "out" / "report.html") in text
    assert f"junit:  {junit}" in capsys.readouterr().out


def test_under_github_actions_each_unpassed_requirement_is_annotated_at_its_line(
    inputs, tmp_path, capsys, monkeypatch
):
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    code = _run(inputs, tmp_path / "out")
    out = capsys.readouterr().out
    assert code == 1
    policy = inputs[1]
    line = POLICY.splitlines().index("  - id: rates-four-fifths") + 1
    assert f"::error file={policy},line={line},title=rates-four-fifths (sex)%3A FAIL::" in out
    assert "| requirement |" in step_summary.read_text(encoding="utf-8")


def test_a_run_is_logged_to_mlflow_and_read_back(inputs, tmp_path, monkeypatch, capsys):
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # the active experiment is process-wide state: another test's store may have set it
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("maas-audit-tests")
    code = _run(inputs, tmp_path / "out", "--mlflow-run", "new")
    assert code == 1
    run_id = capsys.readouterr().out.split("mlflow: run ")[1].split()[0]
    run = mlflow.tracking.MlflowClient(uri).get_run(run_id)
    assert run.data.tags["maas_audit.verdict"] == "FAIL"
    assert run.data.tags["maas_audit.finding.rates-four-fifths.sex"] == "FAIL"
    assert "maas_audit.fairness.selection_rate.sex.sex_F" in run.data.metrics
    mlflow.set_tracking_uri(None)


# MLflow's SQLAlchemy models use loader options that SQLAlchemy 2.1 deprecates; not ours to fix.
test_a_run_is_logged_to_mlflow_and_read_back = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning"
)(test_a_run_is_logged_to_mlflow_and_read_back)


@pytest.mark.parametrize("report", ["report.json", "report.html"])
def test_a_junit_file_named_like_a_report_is_refused_before_the_audit(
    inputs, tmp_path, capsys, report
):
    # --junit out/report.json would replace the sealed JSON report with JUnit XML.
    out = tmp_path / "out"
    assert _run(inputs, out, "--junit", str(out / report)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--junit" in err and "give each output a file" in err
    assert not out.exists()


def test_junit_and_markdown_on_one_file_are_refused(inputs, tmp_path, capsys):
    same = tmp_path / "ci.txt"
    assert _run(inputs, tmp_path / "out", "--junit", str(same), "--markdown", str(same)) == 2
    assert "--markdown" in capsys.readouterr().err
    assert not same.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--junit", "--markdown"])
def test_an_unwritable_ci_file_is_named_and_leaves_no_report(inputs, tmp_path, capsys, option):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = tmp_path / "out"
    assert _run(inputs, out, option, str(blocker / "sub" / "ci.out")) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and option in err and "'" + str(blocker) + "' is not a folder" in err
    )
    assert not out.exists()  # refused before the audit: no report behind an exit code 2


@pytest.mark.parametrize(
    "paths",
    [["--out", ""], ["--out", "out", "--junit", " "], ["--out", "out", "--markdown", ""]],
)
def test_an_empty_path_is_refused(inputs, tmp_path, monkeypatch, capsys, paths):
    # An unset variable (--out "$DIR") would otherwise write into the current folder.
    monkeypatch.chdir(tmp_path)
    data, policy = inputs
    code = main(
        ["run", "--model", "column:decision", "--data", str(data), "--target", "y",
         "--positive-label", "1", "--sensitive", "sex", "--policy", str(policy),
         "--no-progress", *paths]
    )  # fmt: skip
    assert code == 2
    assert "expected a path; got an empty one" in capsys.readouterr().err
    assert not list(tmp_path.glob("report.*")) and not (tmp_path / "out").exists()

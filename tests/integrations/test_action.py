"""The composite GitHub Action (action.yml): its audit step run as GitHub runs it.

GitHub runs each ``run:`` block with ``bash`` after putting the step's ``env:`` in the
environment, each ``${{ inputs.NAME }}`` replaced by the input's value (or its default),
``${{ github.action_path }}`` by the action's folder and ``${{ runner.temp }}`` by a
temporary folder.  The install step runs with a ``python3`` that records what it was asked
(CI has no network beyond the package registries); pip itself checks, without installing,
that it reads the requirement the step gives it.  The audit step runs this test's Python
as the virtual environment's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
ADULT = REPO / "examples" / "data" / "adult.csv"
_CONTEXT = re.compile(r"\$\{\{\s*([a-z_.-]+)\s*\}\}")
# a stand-in for python3: records its arguments; `-m venv ... DIR` makes DIR/bin/python,
# another such stand-in
RECORDER = """#!/bin/sh
printf '%s\\n' "$*" >> "$RECORD"
if [ "$1 $2" = "-m venv" ]; then
    for last; do :; done
    mkdir -p "$last/bin" && cp "$0" "$last/bin/python"
fi
"""


def _step(marker: str) -> dict[str, Any]:
    return next(step for step in ACTION["runs"]["steps"] if marker in step["run"])


def _audit_step() -> dict[str, Any]:
    return _step("-m audit run")


def _install_step() -> dict[str, Any]:
    return _step("pip install")


def _run_step(
    step: dict[str, Any], inputs: dict[str, str], workdir: Path, **env: str
) -> subprocess.CompletedProcess:
    """Run ``step``'s script with bash, as the runner would for these ``inputs``."""
    declared = ACTION["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
    for name, spec in declared.items():
        if spec.get("required"):
            assert values[name], f"input {name} is required"
    contexts = {f"inputs.{name}": value for name, value in values.items()}
    contexts["github.action_path"] = str(REPO)
    contexts["runner.temp"] = str(workdir / "runner-temp")
    step_env = {
        key: _CONTEXT.sub(lambda m: contexts[m.group(1)], value)
        for key, value in step["env"].items()
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=workdir,
        env={**os.environ, **step_env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _run_action(inputs: dict[str, str], workdir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the audit step, its virtual environment's Python being this test's."""
    bin_dir = workdir / "runner-temp" / "maas-audit" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    return _run_step(_audit_step(), inputs, workdir, **env)


@pytest.fixture(scope="module")
def decisions(tmp_path_factory) -> Path:
    frame = pd.read_csv(ADULT).sample(n=1500, random_state=3).reset_index(drop=True)
    frame["decision"] = (frame["education-num"] > 10).map({True: ">50K", False: "<=50K"})
    folder = tmp_path_factory.mktemp("action")
    frame.to_csv(folder / "decisions.csv", index=False)
    return folder


def test_the_action_installs_itself_then_audits():
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["runs"]["steps"] == [_install_step(), _audit_step()]
    assert all(step["shell"] == "bash" for step in ACTION["runs"]["steps"])
    assert {"data", "policy"} == {n for n, s in ACTION["inputs"].items() if s.get("required")}


def _install(tmp_path: Path, inputs: dict[str, str]) -> list[str]:
    """Run the install step with the recording python3; the commands it was given."""
    bin_dir = tmp_path / "stand-in"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(RECORDER, encoding="utf-8")
    (bin_dir / "python3").chmod(0o755)
    record = tmp_path / "record.txt"
    done = _run_step(
        _install_step(),
        {"data": "d.csv", "policy": "p", **inputs},
        tmp_path,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        RECORD=str(record),
    )
    assert done.returncode == 0, done.stderr
    return record.read_text(encoding="utf-8").splitlines()


PIP_DRY_RUN = (sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index")
PIP_DRY_RUN += ("--no-build-isolation", "--quiet", "--report", "-")


def _requested(requirement: str) -> dict[str, Any]:
    """What pip reads ``requirement`` as: the project's name and the extras asked for."""
    done = subprocess.run(
        [*PIP_DRY_RUN, requirement],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)["install"]
    extras = item.get("requested_extras")
    return {"name": item["metadata"]["name"], "extras": None if extras is None else sorted(extras)}


@pytest.mark.slow
def test_the_install_step_brings_what_reads_the_documented_skops_model(tmp_path):
    venv = tmp_path / "runner-temp" / "maas-audit"
    # a virtual environment of its own, as a runner's system Python refuses pip (PEP 668)
    create, install = _install(tmp_path, {})
    assert create == f"-m venv --system-site-packages {venv}"
    *pip, requirement = install.split(" ")
    assert pip == ["-m", "pip", "install", "--quiet"]
    assert _requested(requirement) == {"name": "maas-audit", "extras": ["skops"]}


@pytest.mark.slow
@pytest.mark.parametrize(("extras", "asked"), [("skops,onnx", ["onnx", "skops"]), ("", None)])
def test_the_install_step_installs_the_extras_asked_for(tmp_path, extras, asked):
    (_, install) = _install(tmp_path, {"extras": extras})
    assert _requested(install.split(" ")[-1]) == {"name": "maas-audit", "extras": asked}


def test_the_audit_step_writes_the_reports_and_the_job_summary(decisions):
    summary = decisions / "step-summary.md"
    done = _run_action(
        {
            "model": "column:decision",
            "data": "decisions.csv",
            "policy": "four-fifths",
            "args": "--target income --positive-label >50K --sensitive sex,race --no-progress",
        },
        decisions,
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
    )
    report = json.loads((decisions / "reports/audit/report.json").read_text(encoding="utf-8"))
    # the step's exit code is the audit's: it gates the job
    assert done.returncode == {"PASS": 0, "ADVISORY": 0}.get(report["verdict"], 1), done.stderr
    out = decisions / "reports" / "audit"
    assert {"report.html", "report.json", "junit.xml", "summary.md"} <= {
        p.name for p in out.iterdir()
    }
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testcase ") == len(report["findings"])
    assert "## maas-audit: four-fifths" in summary.read_text(encoding="utf-8")


def test_without_a_model_input_no_model_is_passed(decisions, tmp_path):
    frame = pd.DataFrame({"email": ["a.b@example.org", "c@example.com"], "note": ["x", "y"]})
    frame.to_csv(tmp_path / "extract.csv", index=False)
    done = _run_action(
        {"data": "extract.csv", "policy": "gdpr-masking", "out": "masking"}, tmp_path
    )
    report = json.loads((tmp_path / "masking" / "report.json").read_text(encoding="utf-8"))
    # a data-only audit ran (no usage error): the raw e-mail addresses fail it, exit 1
    assert report["verdict"] == "FAIL" and done.returncode == 1, done.stderr
    assert [o["auditor"] for o in report["auditors"]] == ["masking"]
    assert report["model"]["kind"] == "none"


def test_args_are_split_as_a_shell_would_and_nothing_in_them_runs(decisions, tmp_path):
    # the tutorial quotes the label; a quoted word must arrive whole and unquoted, and a
    # command substitution or a wildcard must arrive as text, never run or expanded
    out = tmp_path / "out"
    done = _run_action(
        {
            "model": "column:decision",
            "data": "decisions.csv",
            "policy": "four-fifths",
            "out": str(out),
            "args": "--target income --positive-label '>50K' --sensitive sex --no-progress "
            '--data-description "$(touch pwned) *"',
        },
        decisions,
    )
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["data"]["positive_label"] == ">50K"
    assert report["details"]["data_description"] == "$(touch pwned) *"
    assert not (decisions / "pwned").exists()


def test_args_that_cannot_be_split_stop_with_one_line(decisions, tmp_path):
    done = _run_action(
        {"data": "decisions.csv", "policy": "four-fifths", "args": "--target 'income"},
        decisions,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "maas-audit: error: the action's args input cannot be split into options: "
        "No closing quotation"
    ]

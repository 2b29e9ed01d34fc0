"""The composite GitHub Action (action.yml): its audit step run as GitHub runs it.

GitHub runs each ``run:`` block with ``bash`` after putting the step's ``env:`` in the
environment, ``${{ inputs.NAME }}`` replaced by the input's value (or its default).  The
install step (``pip install`` of the action's own folder) is not run here: the package is
installed already, and CI has no network beyond the package registries.
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
_INPUT = re.compile(r"\$\{\{\s*inputs\.([a-z_-]+)\s*\}\}")


def _audit_step() -> dict[str, Any]:
    steps = ACTION["runs"]["steps"]
    return next(step for step in steps if "maas-audit run" in step["run"])


def _run_action(inputs: dict[str, str], workdir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the audit step's script with bash, as the runner would for these ``inputs``."""
    declared = ACTION["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
    for name, spec in declared.items():
        if spec.get("required"):
            assert values[name], f"input {name} is required"
    step = _audit_step()
    step_env = {
        key: _INPUT.sub(lambda m: values[m.group(1)], value) for key, value in step["env"].items()
    }
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=workdir,
        env={**os.environ, "PATH": path, **step_env, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def decisions(tmp_path_factory) -> Path:
    frame = pd.read_csv(ADULT).sample(n=1500, random_state=3).reset_index(drop=True)
    frame["decision"] = (frame["education-num"] > 10).map({True: ">50K", False: "<=50K"})
    folder = tmp_path_factory.mktemp("action")
    frame.to_csv(folder / "decisions.csv", index=False)
    return folder


def test_the_action_installs_itself_then_audits():
    assert ACTION["runs"]["using"] == "composite"
    install, audit = ACTION["runs"]["steps"]
    assert "pip install" in install["run"] and "${{ github.action_path }}" in install["run"]
    assert audit is _audit_step()
    assert {"data", "policy"} == {n for n, s in ACTION["inputs"].items() if s.get("required")}


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

"""GitHub Actions annotations and job summary.

The escaping is checked against GitHub's own toolkit (@actions/core's issueCommand) when
Node.js and that package are installed (.ci/run installs them); the rest needs neither.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audit.core.findings import Verdict
from audit.integrations.github import SourceLine, workflow_annotations, write_step_summary
from tests.reporting.conftest import make_hostile_result, make_result

NODE_MODULES = Path(__file__).resolve().parents[2] / ".ci" / "node" / "node_modules"


def test_one_annotation_per_finding_that_did_not_pass_at_its_policy_line():
    result = make_result()
    locations = {
        f.requirement_id: f"policies/hiring.yaml:{10 + i}:5" for i, f in enumerate(result.findings)
    }
    lines = workflow_annotations(result, locations)
    unsettled = [f for f in result.findings if f.verdict is not Verdict.PASS]
    assert len(lines) == len(unsettled)
    for line, finding in zip(lines, unsettled, strict=True):
        level = "error" if finding.blocks else "warning"
        assert line.startswith(f"::{level} file=policies/hiring.yaml,line=")
        assert finding.summary.split()[0] in line


def test_a_shipped_pack_has_no_file_to_point_at():
    assert SourceLine.parse("pack:four-fifths:12:3") is None
    assert SourceLine.parse("C:/repo/policy.yaml:7:1") == SourceLine("C:/repo/policy.yaml", 7)
    (line, *_) = workflow_annotations(make_result(), {"x": "pack:four-fifths:1:1"})
    assert "file=" not in line.split("::")[1]


def test_a_newline_in_a_summary_cannot_forge_a_second_command():
    base = make_result()
    forged = dataclasses.replace(
        base.findings[0], summary="bad\n::notice::all good", verdict=Verdict.FAIL
    )
    result = dataclasses.replace(base, findings=(forged,))
    (line,) = workflow_annotations(result)
    assert "\n" not in line and line.count("::") == 2 + 2  # '::error ...::' then the escaped text


def _toolkit_command(level: str, properties: dict[str, object], message: str) -> str:
    script = (
        "const {issueCommand}=require('@actions/core/lib/command');"
        "const [l,p,m]=JSON.parse(process.argv[1]);issueCommand(l,p,m);"
    )
    done = subprocess.run(
        ["node", "-e", script, json.dumps([level, properties, message])],
        capture_output=True,
        text=True,
        check=True,
        env={"NODE_PATH": str(NODE_MODULES)},
    )
    return done.stdout.rstrip("\n")


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_MODULES / "@actions" / "core").is_dir(),
    reason="Node.js with @actions/core is not installed (.ci/run installs it)",
)
def test_escaping_matches_githubs_own_toolkit():
    result = make_hostile_result()
    locations = {f.requirement_id: "pol,icy%:x.yaml:3:1" for f in result.findings}
    for line, finding in zip(
        workflow_annotations(result, locations),
        [f for f in result.findings if f.verdict is not Verdict.PASS],
        strict=True,
    ):
        level = "error" if finding.blocks else "warning"
        grouping = " × ".join(finding.grouping) if finding.grouping else "all rows"
        message = finding.summary + ("" if not finding.reasons else " " + " ".join(finding.reasons))
        expected = _toolkit_command(
            level,
            {
                "file": "pol,icy%:x.yaml",
                "line": 3,
                "title": f"{finding.requirement_id} ({grouping}): {finding.verdict.value}",
            },
            message,
        )
        assert line == expected


def test_the_step_summary_is_appended_only_when_github_names_a_file(tmp_path):
    result = make_result()
    assert write_step_summary(result, environ={}) is None
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    write_step_summary(result, environ={"GITHUB_STEP_SUMMARY": str(target)})
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "| requirement |" in text


def test_a_blocking_requirement_that_does_not_apply_is_a_notice_not_an_error():
    base = make_result()
    blocking = next(f for f in base.findings if f.severity.value == "blocking")
    moot = dataclasses.replace(
        blocking,
        verdict=Verdict.INCONCLUSIVE,
        applies=False,
        summary="Not applicable: the audit has one sensitive column.",
    )
    result = dataclasses.replace(base, findings=(moot,))
    (line,) = workflow_annotations(result)
    assert line.startswith("::notice title=")
    assert "Not applicable" in line.split("::")[1]

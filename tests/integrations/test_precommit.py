"""The repository's pre-commit hook, run by pre-commit itself on a temporary repository.

pre-commit builds the hook's environment from this repository (``pip install .``), so the
test takes a minute or two; it is skipped without pre-commit or git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD = (REPO / "examples" / "demo-policy.yaml").read_text(encoding="utf-8")
BAD = 'name: x\nversion: "1"\nrequirements:\n  - id: a\n    threshold: high\n'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_the_hook_fails_on_an_invalid_policy_and_names_its_line(tmp_path):
    pytest.importorskip("pre_commit")
    repo = tmp_path / "models"
    (repo / "policies").mkdir(parents=True)
    (repo / "policies" / "hiring.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "policies" / "broken.yaml").write_text(BAD, encoding="utf-8")
    (repo / "notes.yaml").write_text("not: a policy\n", encoding="utf-8")  # not matched
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "policies")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(REPO),
            "maas-audit-policy-validate",
            "--all-files",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "policies/broken.yaml:5:5: requirements[0].threshold: expected a number" in output
    assert "policies/hiring.yaml: valid" in output
    assert "notes.yaml" not in output

"""The tutorial page, run as written: every shell block after the install, in order."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "tutorial.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def test_the_first_block_is_the_readmes_set_up_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert _blocks()[0].strip() in readme


@pytest.mark.slow
@pytest.mark.skipif(
    Path(sys.executable).parent != REPO / ".venv" / "bin",
    reason="the tutorial's commands use the README's .venv at the repository root",
)
def test_every_later_block_runs_from_the_repository_root(tmp_path):
    if (REPO / "reports" / "tutorial").exists():
        shutil.rmtree(REPO / "reports" / "tutorial")
    outputs = []
    for block in _blocks()[1:]:
        # Each block ends with the status the page leads the reader to expect: 0. Step 3's
        # audit exits 1 on a failing verdict, which its block prints and then echoes past.
        done = subprocess.run(
            ["bash", "-c", block], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == 0, (block, done.stdout[-2000:], done.stderr[-2000:])
        assert "error" not in done.stderr.lower(), done.stderr[-2000:]
    assert (REPO / "reports" / "demo" / "report.html").is_file()
    assert (REPO / "reports" / "tutorial" / "report.html").is_file()
    assert re.search(r"^verdict: (PASS|ADVISORY|FAIL|INCONCLUSIVE) ", outputs[1], re.MULTILINE)
    assert outputs[1].rstrip().splitlines()[-1] in ("exit code 0", "exit code 1")
    assert "valid" in outputs[3]

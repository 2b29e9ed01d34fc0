"""docs/how-to/integrations.md against what it describes: the action, the hook, the CLI.

The page's snippets name things a reader copies: the action's inputs, the hook's id,
``maas-audit run`` options.  Each must exist as written.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import yaml

from audit.cli.main import main
from audit.integrations.action import split_args

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "how-to" / "integrations.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def _blocks(language: str) -> list[str]:
    return [textwrap.dedent(b) for _, lang, b in BLOCK.findall(PAGE) if lang == language]


def _steps() -> list[dict[str, Any]]:
    """Every workflow step the page shows, from whole workflows and from step lists."""
    steps: list[dict[str, Any]] = []
    for block in _blocks("yaml"):
        loaded = yaml.safe_load(block)
        if isinstance(loaded, list):
            steps += [s for s in loaded if isinstance(s, dict) and ("uses" in s or "run" in s)]
        elif isinstance(loaded, dict) and "jobs" in loaded:
            steps += [s for job in loaded["jobs"].values() for s in job["steps"]]
    return steps


def _run_options() -> set[str]:
    """The options ``maas-audit run --help`` lists."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main(["run", "--help"]) == 0
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", shown.getvalue()))


def test_the_action_is_used_with_its_own_inputs_and_args_that_parse():
    (step,) = [s for s in _steps() if "maas-audit@" in s.get("uses", "")]
    given = set(step["with"])
    assert given <= set(ACTION["inputs"])
    assert {n for n, spec in ACTION["inputs"].items() if spec.get("required")} <= given
    words = split_args(step["with"]["args"])
    assert {w for w in words if w.startswith("--")} <= _run_options()
    assert "'" not in " ".join(words)  # the page's quotes group words, they do not arrive


def test_every_maas_audit_run_option_on_the_page_exists():
    commands = [s["run"] for s in _steps() if "maas-audit run" in s.get("run", "")]
    commands += [b for b in _blocks("sh") if "maas-audit run" in b]
    named = {w for c in commands for w in shlex.split(c, comments=True) if w.startswith("--")}
    assert named and named <= _run_options()


def test_the_pre_commit_snippet_names_the_hook_the_repository_offers():
    (config,) = [yaml.safe_load(b) for b in _blocks("yaml") if "repos:" in b]
    (hook,) = config["repos"][0]["hooks"]
    assert hook["id"] in {h["id"] for h in HOOKS}


def test_a_workflow_that_audits_a_skops_file_installs_skops():
    assert [s for s in _steps() if ".skops" in s.get("run", "")]
    installs = [s["run"] for s in _steps() if "pip install" in s.get("run", "")]
    assert installs and all("[skops" in line or "[all" in line for line in installs)
    (action,) = [s for s in _steps() if "maas-audit@" in s.get("uses", "")]
    extras = action["with"].get("extras", ACTION["inputs"]["extras"]["default"])
    assert not action["with"]["model"].endswith(".skops") or "skops" in extras.split(",")

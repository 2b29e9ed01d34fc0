"""Shared pieces of the reliability tests: a small decision log, a fast policy, the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.cli.main import main

FAST_POLICY = """\
name: reliability
version: "1"
description: Fast checks (no bootstrap) on selection rate and error rates.
auditors:
  fairness:
    min_group_size: 5
    bootstrap: 0
requirements:
  - id: selection
    title: Selection rates within four-fifths
    citation: test
    auditor: fairness
    metric: selection_rate
    compare: ratio_to_max
    threshold: 0.8
    severity: blocking
    group_by: each
  - id: tpr
    title: True positive rates within 0.5
    citation: test
    auditor: fairness
    metric: true_positive_rate
    compare: max_difference
    threshold: 0.5
    severity: blocking
    group_by: each
  - id: fpr
    title: False positive rates within 0.5
    citation: test
    auditor: fairness
    metric: false_positive_rate
    compare: max_difference
    threshold: 0.5
    severity: blocking
    group_by: each
"""

Cli = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _no_ambient_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAAS_AUDIT_TOKEN", "MAAS_AUDIT_SIGNING_KEY", "MAAS_AUDIT_SIGNING_KEY_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def decisions() -> pd.DataFrame:
    """200 logged decisions: group s, truth y, decision pred, score p, feature x."""
    rng = np.random.default_rng(5)
    n = 200
    frame = pd.DataFrame(
        {
            "s": rng.choice(["a", "b"], n),
            "y": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
        }
    )
    frame["p"] = np.clip(0.5 + 0.3 * frame["y"] - 0.15 + rng.normal(0, 0.2, n), 0, 1)
    frame["pred"] = (frame["p"] >= 0.5).astype(int)
    return frame


@pytest.fixture
def fast_policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(FAST_POLICY, encoding="utf-8")
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``maas-audit`` in-process: (exit code, stdout, stderr)."""

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _check_usage_error(code: int, stderr: str) -> None:
    assert code == 2, stderr
    assert stderr.startswith("maas-audit: error: "), stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


@pytest.fixture
def usage_error() -> Callable[[int, str], None]:
    """Check: exit 2 and exactly one line on standard error, never a traceback."""
    return _check_usage_error

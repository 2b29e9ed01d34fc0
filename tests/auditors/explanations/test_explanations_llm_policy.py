"""`sensitive_attribution_share at_most 0.01` on an LLM: FAIL with a bias on sex, PASS without.

The stand-in's confidence hashes leave the ``sex`` line out, so without the planted
rejections the decision score does not move at all when ``sex`` is ablated: the share is
exactly 0 (the auditor counts attributions within 1e-5 of the row's largest as 0; here
they are 0 to the last bit).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit import run_audit
from audit.core.result import AuditResult
from audit.testing.llm import Screener, serve_screener
from tests.conftest import llm_config

pytest.importorskip("captum")

REPO = Path(__file__).resolve().parents[3]
ROWS = 120
POLICY = """\
name: llm-reliance
version: "1"
auditors:
  explanations:
    method: feature_ablation
    compare_with: none
    n_rows: 1000
    adverse_per_group: 0
requirements:
  - id: no-reliance-on-sex
    title: At most 1% of the attribution falls on sex
    citation: "Policy choice"
    auditor: explanations
    metric: sensitive_attribution_share
    compare: at_most
    threshold: 0.01
    group_by: [sex]
"""


def audit_llm(tmp_path: Path, flip_rate: float) -> tuple[AuditResult, int]:
    data = pd.read_csv(REPO / "examples" / "data" / "adult.csv", nrows=ROWS)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with serve_screener(Screener(flip_rate=flip_rate)) as llm:
        config = llm_config(llm, tmp_path)
        result = run_audit(
            model=str(config),
            data=data,
            policy=str(policy),
            target="income",
            positive_label=">50K",
            sensitive=["sex"],
        )
        return result, llm.requests


def _share(result: AuditResult) -> tuple[float | None, dict[str, float | None]]:
    (output,) = result.outputs
    (found,) = [
        m
        for m in output.metrics
        if m.metric == "sensitive_attribution_share" and m.grouping == ("sex",)
    ]
    return found.value, {g.group: g.value for g in found.groups}


def _explanation_requests(result: AuditResult) -> int:
    (output,) = result.outputs
    (cost,) = [t for t in output.tables if t.title == "Cost of the explanations"]
    (requests,) = [row[1] for row in cost.rows if row[0] == "HTTP requests"]
    assert isinstance(requests, int)
    return requests


def test_a_planted_bias_on_sex_fails_the_reliance_requirement(tmp_path: Path) -> None:
    result, served = audit_llm(tmp_path, flip_rate=0.3)
    assert result.verdict.value == "FAIL"
    overall, groups = _share(result)
    assert overall is not None and overall > 0.01
    assert groups["sex=Male"] == 0.0
    # every request the server answered is counted: the scoring pass, then the explanations
    assert result.model["usage"]["requests"] == served == ROWS + _explanation_requests(result)


def test_without_the_bias_the_share_on_sex_is_zero_and_passes(tmp_path: Path) -> None:
    result, served = audit_llm(tmp_path, flip_rate=0.0)
    assert result.verdict.value == "PASS"
    overall, groups = _share(result)
    assert overall == 0.0
    assert set(groups.values()) == {0.0}
    assert result.model["usage"]["requests"] == served

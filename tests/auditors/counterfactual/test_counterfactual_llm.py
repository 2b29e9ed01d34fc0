"""The counterfactual auditor through the CLI on the stand-in LLM with a planted bias.

The stand-in rejects a merited applicant whose prompt says ``sex: Female`` when a hash of
the applicant's other fields falls under the planted flip rate (0.3). Every applicant is a
base row, so the true flips and rates follow from the server's own rule, computed here on
the prompts the model config renders; the measured flip rate must equal them exactly, and
the planted 0.3 must lie in the interval the report states for flips among the merited.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from audit.adapters.config import load_config_model
from audit.adapters.http.templating import row_values
from audit.cli.main import main
from audit.testing.llm import Screener, prompt_fields, serve_screener
from tests.conftest import llm_config

REPO = Path(__file__).resolve().parents[3]
ROWS = 300
POLICY = """\
name: llm-paired-test
version: "1"
auditors:
  counterfactual:
    attribute: sex
    groups: [Male, Female]
    n_rows: 1000
requirements:
  - id: paired-four-fifths
    title: Each assigned sex is selected at four-fifths of the best rate
    citation: "29 CFR 1607.4(D)"
    auditor: counterfactual
    metric: counterfactual_selection_rate
    compare: ratio_to_max
    threshold: 0.8
    group_by: [sex]
  - id: no-flips
    title: At most 1% of decisions change with the sex cue alone
    citation: "Policy choice"
    auditor: counterfactual
    metric: flip_rate
    compare: at_most
    threshold: 0.01
    group_by: [sex]
"""


def test_the_planted_flip_rate_and_rate_ratio_are_found(tmp_path: Path) -> None:
    data = pd.read_csv(REPO / "examples" / "data" / "adult.csv", nrows=ROWS)
    csv = tmp_path / "applicants.csv"
    data.to_csv(csv, index=False)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    screener = Screener(flip_rate=0.3)
    with serve_screener(screener) as llm:
        config = llm_config(llm, tmp_path)
        code = main(
            ["run", "--model", str(config), "--data", str(csv), "--policy", str(policy),
             "--sensitive", "sex", "--target", "income", "--positive-label", ">50K",
             "--out", str(tmp_path / "out"), "--no-progress"]
        )  # fmt: skip
        # every row scored once by the audit, then once per assigned group
        assert llm.requests == 3 * ROWS
    assert code == 1  # both requirements fail: the bias is there
    with load_config_model(config) as adapter:

        def decided(sex: str) -> pd.Series:
            rows = row_values(data.assign(sex=sex))
            prompts = [adapter.template.render(r)[-1]["content"] for r in rows]
            return pd.Series([screener.decide(prompt_fields(p))[0] for p in prompts])

        male, female = decided("Male"), decided("Female")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    (output,) = [a for a in report["auditors"] if a["auditor"] == "counterfactual"]
    metrics = {m["metric"]: m for m in output["metrics"]}
    flips = int((male != female).sum())
    assert metrics["flip_rate"]["value"] == pytest.approx(flips / ROWS, abs=1e-15)
    rates = {g["group"]: g["value"] for g in metrics["counterfactual_selection_rate"]["groups"]}
    assert rates == pytest.approx({"sex=Male": male.mean(), "sex=Female": female.mean()})
    # the planted share among merited applicants, within the Wilson interval of what was found
    merited = int(male.sum())
    low, high = proportion_confint(flips, merited, alpha=0.01, method="wilson")
    assert low <= 0.3 <= high
    verdicts = {f["requirement_id"]: f["verdict"] for f in report["findings"]}
    assert verdicts == {"paired-four-fifths": "FAIL", "no-flips": "FAIL"}

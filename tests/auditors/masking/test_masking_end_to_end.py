"""The example policy, audited without a model, on compliant and leaky deliveries."""

import json
import subprocess
import sys

import pytest

from audit import run_audit
from audit.core.findings import Verdict
from audit.errors import ModelSpecError


@pytest.fixture(scope="module")
def leaky_result(leaky, policy_path):
    return run_audit(data=leaky, policy=policy_path)


def _verdicts(result):
    return {f.requirement_id: f.verdict for f in result.findings}


def test_compliant_delivery_passes(compliant, policy_path):
    result = run_audit(data=compliant, policy=policy_path)
    assert _verdicts(result) == {
        "no-raw-pii": Verdict.PASS,
        "masking-rules": Verdict.PASS,
        "k-anonymity": Verdict.PASS,
        "rows-at-risk": Verdict.PASS,
    }, [f.summary for f in result.findings]
    assert result.passed
    assert result.model["kind"] == "none"


def test_leaky_delivery_fails_each_rule_with_its_reason(leaky_result):
    assert _verdicts(leaky_result) == {
        "no-raw-pii": Verdict.FAIL,
        "masking-rules": Verdict.FAIL,
        "k-anonymity": Verdict.FAIL,
        "rows-at-risk": Verdict.FAIL,
    }
    (output,) = leaky_result.outputs
    table = next(t for t in output.tables if t.title == "Masking rules")
    by_rule = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert "unsalted hash: 1" in by_rule["email-hmac"]["Problems"]
    assert by_rule["ssn-dropped"]["Status"] == "violated"
    assert "keeps too many characters" in by_rule["card-last4"]["Problems"]
    assert "not generalized" in by_rule["zip-3-digits"]["Problems"]
    assert by_rule["sex-kept"]["Status"] == "obeyed"
    (metric,) = output.find("masking_rule_violations")
    groups = {g.group: g.value for g in metric.groups}
    assert groups["rule=sex-kept"] == 0 and groups["rule=ssn-dropped"] > 0


def test_reports_never_show_raw_pii(leaky_result, labeled, tmp_path):
    html = leaky_result.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    text = leaky_result.to_json(tmp_path / "report.json").read_text(encoding="utf-8")
    assert "j***" in html or "***@" in html  # masked examples are there
    assert "The data fails" in html  # a data-only audit speaks of the data, not a model
    leaked = [
        value
        for value in labeled.values["value"]
        if len(value) >= 6 and (value in html or value in text)
    ]
    assert not leaked, leaked[:5]
    assert json.loads(text)["findings"]


def test_a_policy_needing_a_model_refuses_a_data_only_audit(leaky):
    with pytest.raises(ModelSpecError, match="'fairness' measure a model's decisions"):
        run_audit(data=leaky, policy="four-fifths")


def test_cli_runs_a_data_only_audit(leaky, policy_path, tmp_path):
    data = tmp_path / "leaky.csv"
    leaky.to_csv(data, index=False)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "audit", "run", "--data", str(data), "--policy",
         str(policy_path), "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "FAIL" in done.stdout and "masking-rules" in done.stdout
    assert (out / "report.html").is_file() and (out / "report.json").is_file()

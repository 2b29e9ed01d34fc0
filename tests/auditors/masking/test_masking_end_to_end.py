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
        "emails-hashed-with-a-key": Verdict.PASS,
        "ssns-dropped": Verdict.PASS,
        "cards-last-4": Verdict.PASS,
        "zip-3-digits": Verdict.PASS,
        "birth-year-only": Verdict.PASS,
        "k-anonymity": Verdict.PASS,
        "rows-at-risk": Verdict.PASS,
    }, [f.summary for f in result.findings]
    assert result.passed
    assert result.model["kind"] == "none"


def test_leaky_delivery_fails_each_rule_with_its_reason(leaky_result):
    assert _verdicts(leaky_result) == {
        "no-raw-pii": Verdict.FAIL,
        "emails-hashed-with-a-key": Verdict.FAIL,
        "ssns-dropped": Verdict.FAIL,
        "cards-last-4": Verdict.FAIL,
        "zip-3-digits": Verdict.FAIL,
        # the leaky delivery keeps birth_year as a year: that rule is obeyed
        "birth-year-only": Verdict.PASS,
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
    assert "FAIL" in done.stdout and "ssns-dropped" in done.stdout
    assert (out / "report.html").is_file() and (out / "report.json").is_file()


def test_each_rule_gets_its_own_finding_with_masked_evidence(leaky_result, labeled):
    findings = {f.requirement_id: f for f in leaky_result.findings}
    ssn = findings["ssns-dropped"]
    # every SSN cell of the column is left, plus the SSNs hidden in the notes
    in_notes = len(labeled.labels.query("column == 'notes' and entity == 'US_SSN'"))
    assert ssn.grouping == ("ssn-dropped",)
    assert ssn.measured == len(labeled.data) + in_notes
    assert "for ssn-dropped" in ssn.summary
    email = findings["emails-hashed-with-a-key"]
    assert email.measured == 1  # the one e-mail left in the notes unmasks its plain hash
    (output,) = leaky_result.outputs
    by_rule = {m.grouping: m for m in output.find("rule_violations")}
    assert set(by_rule) == {
        (r,) for r in ("email-hmac", "ssn-dropped", "card-last4", "zip-3-digits",
                       "birth-year-only", "sex-kept")
    }  # fmt: skip
    evidence = by_rule[("ssn-dropped",)].description
    assert "masked examples" in evidence and "*" in evidence
    assert not any(v in evidence for v in labeled.values["value"] if len(v) >= 6)
    assert by_rule[("sex-kept",)].value == 0


def test_a_rule_id_the_policy_does_not_declare_is_inconclusive(leaky, policy_path, tmp_path):
    text = policy_path.read_text(encoding="utf-8").replace(
        "group_by: [ssn-dropped]", "group_by: [ssn-removed]"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(text, encoding="utf-8")
    result = run_audit(data=leaky.head(50), policy=policy)
    (finding,) = [f for f in result.findings if f.requirement_id == "ssns-dropped"]
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert "ssn-removed" in finding.reasons[0]

"""What the report claims: benchmarks named as benchmarks, citations' checks, its own limits.

Where the cited text sets no threshold (NYC LL144, the EU AI Act's Art. 13), a PASS or
FAIL badge next to the citation would read as a verdict under that text; the report
shows where the figure lies against a benchmark instead.  Every report says it is not
legal advice, and says what else limits it (the four-fifths rule is a rule of thumb;
stand-in data; pseudonymised data is personal data; unverified citations).
"""

from __future__ import annotations

import dataclasses
import json
import re

from audit.core.details import AuditDetails, SignOff, StatementRequest
from audit.reporting import render_html, result_to_dict
from audit.reporting.limitations import (
    FOUR_FIFTHS,
    NOT_LEGAL_ADVICE,
    PSEUDONYMISED,
    report_limitations,
)
from audit.reporting.statements import statement_rows


def _row(document: str, requirement_id: str) -> list[str]:
    """The findings-table rows (their HTML) of one requirement."""
    rows = re.findall(r'<tr id="finding-\d+".*?</tr>', document, flags=re.DOTALL)
    return [r for r in rows if f'<code class="req-id">{requirement_id}</code>' in r]


def test_ll144_rows_show_a_benchmark_never_pass_or_fail(ll144_result):
    document = render_html(ll144_result)
    rows = _row(document, "ll144-impact-ratio-by-category")
    assert rows
    for row in rows:
        assert "badge-benchmark" in row
        assert "PASS" not in row and "FAIL" not in row
        # the threshold cell names it a benchmark, under the figure
        assert '0.8<br><span class="small">benchmark; ' in row
    verdicts = {
        f.verdict.value
        for f in ll144_result.findings
        if f.requirement_id == "ll144-impact-ratio-by-category"
    }
    assert "FAIL" in verdicts  # the verdicts stay in the result (and the JSON) for machines
    # Adult's race groups include ratios below 0.80: shown as "Below benchmark".
    assert any("Below benchmark" in row for row in rows)


def test_law_threshold_keeps_its_verdict_badge(sample_result):
    document = render_html(sample_result)
    assert "badge-benchmark" not in "".join(
        r for r in re.findall(r'<tr id="finding-\d+".*?</tr>', document, flags=re.DOTALL)
    )


def test_unverified_citations_are_marked_and_listed(ll144_result, parse):
    document = render_html(ll144_result)
    (row, *_) = _row(document, "ll144-impact-ratio-intersectional")
    assert "citation-unverified" in row
    limits = report_limitations(ll144_result)
    (unverified,) = [item for item in limits if "unverified" in item]
    assert "ll144-impact-ratio-by-category" in unverified
    assert "ll144-impact-ratio-intersectional" in unverified


def test_every_report_says_it_is_not_legal_advice(sample_result, ll144_result, parse):
    for result in (sample_result, ll144_result):
        text = parse(render_html(result)).text
        assert NOT_LEGAL_ADVICE in text


def test_four_fifths_is_called_a_rule_of_thumb_where_it_is_used(sample_result, ll144_result):
    assert FOUR_FIFTHS in report_limitations(ll144_result)  # LL144's 0.80 benchmark
    none_of_it = dataclasses.replace(
        sample_result.policy,
        requirements=tuple(
            r for r in sample_result.policy.requirements if r.comparison != "ratio_to_max"
        ),
    )
    assert FOUR_FIFTHS not in report_limitations(
        dataclasses.replace(sample_result, policy=none_of_it)
    )
    assert "will generally be regarded by the Federal enforcement agencies" in FOUR_FIFTHS


def test_stand_in_data_is_stated(sample_result):
    def limits(**fields):
        result = dataclasses.replace(sample_result, details=AuditDetails(**fields))
        return " ".join(report_limitations(result))

    assert "stand-in or test data" not in limits(data_description="Applications, 2024")
    demo = "UCI Adult; income above $50K stands in for a favourable screening decision"
    assert "stand-in or test data" in limits(data_description=demo)
    assert "stand-in or test data" in limits(data_kind="test")


def test_masking_reports_say_pseudonymised_data_is_personal_data(sample_result):
    masking = dataclasses.replace(
        sample_result.policy,
        requirements=tuple(
            dataclasses.replace(r, auditor="masking") for r in sample_result.policy.requirements
        ),
    )
    result = dataclasses.replace(sample_result, policy=masking)
    assert PSEUDONYMISED in report_limitations(result)
    assert PSEUDONYMISED not in report_limitations(sample_result)


def _with_statements(result, details):
    policy = dataclasses.replace(
        result.policy,
        statements=(
            StatementRequest("hmac-key-kept-separately", "Where the HMAC key is kept", "Art. 4(5)"),
            StatementRequest("test-report-signed", "Signed test report", "Annex IV 2(g)", True),
        ),
    )
    return dataclasses.replace(result, policy=policy, details=details)


def test_statements_missing_until_given(sample_result, parse):
    result = _with_statements(sample_result, AuditDetails())
    rows = statement_rows(result)
    assert [r.given for r in rows] == [False, False]
    text = parse(render_html(result)).text
    assert "Not yet complete." in text
    assert "--statement hmac-key-kept-separately=" in text
    given = _with_statements(
        sample_result,
        AuditDetails(
            statements={"hmac-key-kept-separately": "In the KMS of the data office only."},
            sign_off=SignOff(name="Ada Auditor", date="2026-12-01"),
        ),
    )
    rows = statement_rows(given)
    assert [r.given for r in rows] == [True, True]
    assert rows[1].answer.startswith("Signed off by Ada Auditor, 2026-12-01")
    text = parse(render_html(given)).text
    assert "In the KMS of the data office only." in text
    assert "Not yet complete." not in text


def test_json_carries_the_requirement_flags_and_statements(ll144_result):
    report = json.loads(json.dumps(result_to_dict(ll144_result)))
    (req,) = [
        r for r in report["policy"]["requirements"] if r["id"] == "ll144-impact-ratio-by-category"
    ]
    assert req["threshold_source"] == "benchmark"
    assert req["citation_verified"] is False
    assert report["policy"]["statements"] == []

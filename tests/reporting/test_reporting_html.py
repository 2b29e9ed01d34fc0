"""The HTML report says what the result says, in a lawyer's order, formatted consistently."""

# The report writes en dashes in intervals and multiplication signs in labels.

from __future__ import annotations

import dataclasses
import re

import pytest
from jinja2 import StrictUndefined

from audit.core.findings import Severity, Verdict
from audit.core.result import AuditResult
from audit.reporting import render_html
from audit.reporting.formats import format_interval
from audit.reporting.html import environment
from audit.reporting.summary import render_summary_html
from tests.reporting.conftest import make_one_finding_result


@pytest.fixture
def page(sample_result, parse):
    return parse(render_html(sample_result))


SYMBOLS = {"PASS": "✓", "FAIL": "✗", "INCONCLUSIVE": "?"}


def _overall(page) -> str:
    """The header's verdict, from its accessible name, checked against the visible badge."""
    (box,) = [a for a in page.tags("div") if a.get("role") == "status"]
    verdict = box["aria-label"].removeprefix("Overall verdict: ")
    assert f"Overall verdict {SYMBOLS[verdict]} {verdict}" in page.text
    return verdict


def _with_verdicts(result: AuditResult, *verdicts: Verdict) -> AuditResult:
    findings = tuple(
        dataclasses.replace(f, verdict=v) for f, v in zip(result.findings, verdicts, strict=False)
    )
    return dataclasses.replace(result, findings=findings + result.findings[len(verdicts) :])


def test_environment_autoescapes_and_is_strict():
    env = environment()
    assert env.undefined is StrictUndefined
    assert env.autoescape("report.html.j2") is True
    assert env.autoescape(None) is True


def test_header_states_policy_model_data_date_and_verdict(page):
    h1 = page.text.split("Audit against policy ", 1)[1]
    assert h1.startswith("NYC Local Law 144 bias audit")
    assert _overall(page) == "FAIL"
    assert "sklearn · models/screening.skops" in page.text
    assert "data/applicants.csv · 46,057 rows" in page.text
    assert "1 May 2024, 12:00:00 UTC" in page.text


def test_sections_come_in_order(sample_result):
    document = render_html(sample_result)
    ids = ["summary", "evidence", "method", "limitations", "reproducibility"]
    positions = [document.index(f'<section id="{i}"') for i in ids]
    assert positions == sorted(positions)
    assert document.index("<header") < positions[0]
    for anchor in ids:
        assert f'href="#{anchor}"' in document


def test_summary_sentence_and_every_requirement(sample_result, page):
    assert "The model fails 1 of 3 blocking requirements." in page.text
    assert "1 further blocking requirement could not be established" in page.text
    assert (
        "The one advisory requirement, which does not gate the audit, met its threshold or "
        "benchmark." in page.text
    )
    for finding in sample_result.findings:
        assert finding.requirement_id in page.text
        assert finding.citation in page.text
        assert finding.summary in page.text
        for reason in finding.reasons:
            assert reason in page.text
    assert "Why inconclusive:" in page.text
    assert "0.712" in page.text
    assert "ratio to max" in page.text


@pytest.mark.parametrize(
    ("verdicts", "badge", "sentence"),
    [
        (
            (Verdict.PASS, Verdict.PASS, Verdict.PASS),
            "PASS",
            "The model meets all 3 blocking requirements.",
        ),
        (
            (Verdict.PASS, Verdict.INCONCLUSIVE, Verdict.PASS),
            "INCONCLUSIVE",
            "an inconclusive result is not a pass",
        ),
    ],
)
def test_overall_verdict_follows_the_result(sample_result, parse, verdicts, badge, sentence):
    result = _with_verdicts(sample_result, *verdicts)
    assert result.verdict.value == badge
    page = parse(render_html(result))
    assert _overall(page) == badge
    assert f"Overall verdict: {badge}" in page.text
    assert sentence in page.text


def test_every_group_label_count_and_value_is_shown(sample_result, page):
    for metric in sample_result.outputs[0].metrics:
        for group in metric.groups:
            assert group.group in page.text
            assert f"{group.count:,}" in page.text
            assert format_interval(group.value, group.ci_low, group.ci_high) in page.text
    assert "0.200 (0.194–0.207)" in page.text
    assert "15,218" in page.text


def test_groups_left_out_are_marked_with_their_notes(sample_result, parse):
    document = render_html(sample_result)
    for status in ("excluded", "small", "undefined"):
        assert re.search(rf'<tr class="status-{status}', document)
        assert f'<span class="flag">{status}</span>' in document
    page = parse(document)
    for metric in sample_result.outputs[0].metrics:
        for group in metric.groups:
            if group.note:
                assert group.note in page.text


def test_charts_one_per_grouped_metric(sample_result, page):
    charts = [a for a in page.tags("svg") if a.get("role") == "img"]
    used = {(f.metric, f.grouping) for f in sample_result.findings}
    charted = [m for m in sample_result.outputs[0].metrics if (m.metric, m.grouping) in used]
    assert len(charts) == len([m for m in charted if m.groups]) == 3
    assert all(c.get("aria-label") for c in charts)
    # the four-fifths line of the failing finding is drawn and named in the legend
    assert "0.8 × Male" in page.text


def test_tables_have_captions_and_column_scopes(sample_result):
    document = render_html(sample_result)
    assert document.count("<table") == document.count("<caption>")
    for header in re.findall(r"<thead>.*?</thead>", document, flags=re.S):
        cells = re.findall(r"<th\b[^>]*>", header)
        assert cells
        assert all('scope="col"' in c for c in cells)


def test_evidence_table_cells_are_formatted(page):
    assert "Impact ratios by sex" in page.text
    assert "0.712" in page.text
    assert "1.000" in page.text
    assert "NaN" not in page.text
    assert "nan" not in page.text.split()


def test_method_limitations_and_settings(sample_result, page):
    output = sample_result.outputs[0]
    assert "Confidence intervals come from 200 bootstrap resamples." in page.text
    assert "min_group_size 30" in page.text
    assert "nested.seed_offset 1" in page.text
    for item in (*output.limitations, *output.warnings):
        assert item in page.text


def test_reproducibility_record(sample_result, page):
    prov = sample_result.provenance
    for digest in (prov.data_sha256, prov.model_sha256, prov.policy_sha256):
        assert digest in page.text
    assert str(prov.seed) in page.text
    assert "maas-audit run --policy 'policies/nyc ll144.yaml' --model m.skops" in page.text
    assert "1 May 2024, 11:58:02 UTC" in page.text
    for name, version in prov.versions.items():
        assert f"{name} {version}" in page.text
    for source in sample_result.policy.sources:
        assert source in page.text
    assert prov.platform in page.text


def test_an_empty_result_still_renders(sample_result, parse):
    empty = dataclasses.replace(
        sample_result,
        findings=(),
        outputs=(),
        model={},
        data={},
        policy=dataclasses.replace(sample_result.policy, requirements=(), sources=()),
        provenance=dataclasses.replace(sample_result.provenance, command=()),
    )
    page = parse(render_html(empty))
    assert "No findings." in page.text
    assert _overall(page) == "INCONCLUSIVE"  # nothing was measured: never a PASS
    assert "produced no findings" in page.text


def test_requirements_without_findings_are_named(sample_result, parse):
    result = dataclasses.replace(sample_result, findings=sample_result.findings[:1])
    page = parse(render_html(result))
    assert "Requirements of the policy with no finding:" in page.text
    assert "ll144-impact-ratio-race" in page.text.split("with no finding:", 1)[1]


def test_advisory_only_policy(sample_result, parse):
    findings = tuple(
        dataclasses.replace(f, severity=Severity.ADVISORY) for f in sample_result.findings
    )
    page = parse(render_html(dataclasses.replace(sample_result, findings=findings)))
    assert "The policy has no blocking requirements" in page.text
    assert (
        "Of 4 advisory requirements, which do not gate the audit, 2 met their threshold or "
        "benchmark." in page.text
    )


def test_repr_html_is_a_compact_summary_not_the_report(sample_result, parse):
    summary = sample_result._repr_html_()
    assert summary != render_html(sample_result) and len(summary) < 10_000
    text = parse(summary).text
    assert str(sample_result.verdict) in text
    assert all(f.requirement_id in text for f in sample_result.findings)


def test_threshold_line_follows_the_comparison(sample_result, parse):
    tpr = sample_result.findings[2]
    assert tpr.comparison == "max_difference"
    document = render_html(sample_result)
    assert "threshold 0.1" not in parse(document).text  # a difference has no place on the axis
    at_least = dataclasses.replace(tpr, comparison="at_least", threshold=0.66)
    result = dataclasses.replace(
        sample_result, findings=(*sample_result.findings[:2], at_least, sample_result.findings[3])
    )
    assert "threshold 0.66" in parse(render_html(result)).text


def test_metrics_no_finding_uses_are_tabled_not_charted(sample_result, parse):
    page = parse(render_html(sample_result))
    labels = [a["aria-label"] for a in page.tags("svg") if a.get("role") == "img"]
    assert not any("false positive rate" in label for label in labels)
    other = page.text.split("Other measurements by sex", 1)[1].split("By race", 1)[0]
    assert "Not checked by any requirement of this policy" in other
    assert "False positive rate" in other
    assert "0.042 (0.037–0.047)" in other
    assert "unknown 312 — undefined" in other
    assert "unknown : No negatives in this group." in other  # <strong>unknown</strong>: ...


def test_a_grouping_no_finding_uses_is_charted_whole(sample_result, parse):
    result = dataclasses.replace(sample_result, findings=sample_result.findings[3:])
    page = parse(render_html(result))
    charts = [a for a in page.tags("svg") if a.get("role") == "img"]
    assert len(charts) == 4
    assert "Other measurements" not in page.text


@pytest.mark.parametrize(
    ("comparison", "threshold", "measured", "shown", "never"),
    [
        ("significance", 0.05, 0.0497, "p = 0.0497", "p = 0.050"),
        ("ratio_to_max", 0.8, 0.7996, "0.7996", "0.800"),
    ],
)
def test_a_failed_value_never_reads_as_its_threshold(comparison, threshold, measured, shown, never):
    document = render_html(make_one_finding_result(comparison, threshold, measured))
    cells = re.findall(r'<td class="num">([^<]*)</td>', document)
    assert shown in cells and never not in cells
    summary = render_summary_html(make_one_finding_result(comparison, threshold, measured))
    assert f">{shown}</td>" in summary and f">{never}</td>" not in summary

"""The NYC LL144 summary of results: every figure the law asks for, read from the audit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from audit.core.details import AuditDetails, SignOff
from audit.reporting import render_html, result_to_dict
from audit.reporting.ll144 import (
    MISSING_DATA_KIND,
    MISSING_DATES,
    MISSING_DESCRIPTION,
    MISSING_DISTRIBUTION_DATE,
    MISSING_ROWS_ARE,
    MISSING_SIGN_OFF,
    MISSING_TEST_ORIGIN,
    MISSING_TEST_REASON,
    NO_HISPANIC,
    SECTION,
    ll144_summary,
)


def _selection_table(result, label):
    (table,) = [
        t
        for t in result.output("fairness").tables
        if t.title == f"LL144 selection rates by {label}"
    ]
    return {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}


def test_pack_asks_for_the_section(ll144_result):
    assert SECTION in ll144_result.policy.report_sections


def test_summary_states_date_source_dates_and_individuals(ll144_result):
    summary = ll144_summary(ll144_result)
    assert summary is not None
    assert summary.audit_date == ll144_result.provenance.finished_at
    assert summary.data_description == "UCI Adult census extract (test)"
    assert summary.data_dates == "1994 Current Population Survey"
    assert summary.individuals == 4000
    assert [t.label for t in summary.tables] == ["sex", "race", "sex × race"]


def test_category_figures_are_the_auditors(ll144_result):
    summary = ll144_summary(ll144_result)
    for table in summary.tables:
        source = _selection_table(ll144_result, table.label)
        for row in (*table.rows, *table.excluded, *table.unknown):
            cells = source[row.category]
            assert row.count == cells["rows"]
            assert row.selected == cells["selected"]
            assert row.selection_rate == pytest.approx(cells["selection rate"])
            if cells["impact ratio"] is None:
                assert row.impact_ratio is None
            else:
                assert row.impact_ratio == pytest.approx(cells["impact ratio"])
        assert sum(r.count for r in (*table.rows, *table.excluded, *table.unknown)) == 4000


def test_unknown_category_counted_and_small_categories_excluded(ll144_result):
    by_label = {t.label: t for t in ll144_summary(ll144_result).tables}
    assert by_label["sex"].unknown_count == 37
    assert [r.category for r in by_label["sex"].unknown] == ["sex=unknown"]
    assert all(r.impact_ratio is None for r in by_label["sex"].unknown)
    excluded = by_label["race"].excluded
    assert excluded, "Adult has race categories under 2% of rows"
    assert all(r.count / 4000 < 0.02 and r.impact_ratio is None for r in excluded)
    assert all(r.impact_ratio is not None for r in by_label["race"].rows)
    assert max(r.impact_ratio for r in by_label["race"].rows) == pytest.approx(1.0)


def test_report_renders_the_summary_and_sign_off(ll144_result, parse):
    document = render_html(ll144_result)
    page = parse(document)
    assert 'id="ll144-summary"' in document
    text = page.text
    for phrase in (
        "NYC Local Law 144 summary of results",
        "Date of the audit",
        "Source of the data UCI Adult census extract (test)",
        "Dates of the data 1994 Current Population Survey",
        "Number of individuals assessed 4,000",
        "Individuals in an unknown category (sex) 37",
        "Distribution by sex",
        "Excluded from the impact ratios (race)",
        "Ada Auditor",
        "Example Audit LLP has no financial interest in the tool.",
        "Statement of independence",
    ):
        assert phrase in text, phrase
    toc = document[document.index('<nav class="toc"') : document.index("</nav>")]
    assert "#ll144-summary" in toc and "#sign-off" in toc


def test_missing_statements_are_listed(ll144_unsigned, parse):
    summary = ll144_summary(ll144_unsigned)
    missing = summary.missing
    for item in (
        MISSING_DESCRIPTION,
        MISSING_DATES,
        MISSING_DATA_KIND,
        MISSING_DISTRIBUTION_DATE,
        MISSING_ROWS_ARE,
        MISSING_SIGN_OFF,
    ):
        assert item in missing, item
    # Every excluded category asks for the independent auditor's justification, one by one.
    excluded = [r.category for t in summary.tables for r in t.excluded]
    assert excluded
    for category in excluded:
        assert any(f"excluding {category!r}" in m for m in missing), category
    text = parse(render_html(ll144_unsigned)).text
    assert "Not yet complete for publication" in text
    assert "No auditor signed off this report" in text


def test_section_absent_when_policy_does_not_ask(ll144_result, parse):
    policy = dataclasses.replace(ll144_result.policy, report_sections=())
    result = dataclasses.replace(ll144_result, policy=policy)
    assert ll144_summary(result) is None
    document = render_html(result)
    assert 'id="ll144-summary"' not in document
    assert 'id="sign-off"' in document


def test_json_carries_sections_and_statements(ll144_result):
    report = json.loads(json.dumps(result_to_dict(ll144_result)))
    assert report["policy"]["report_sections"] == [SECTION]
    assert report["details"]["data_dates"] == "1994 Current Population Survey"
    assert report["details"]["sign_off"]["name"] == "Ada Auditor"
    summary = ll144_summary(ll144_result)
    published = report["sections"]["ll144"]
    assert report["sections"]["fria"] is None
    assert published["individuals"] == summary.individuals == 4000
    assert published["missing"] == list(summary.missing)
    assert published["ready_for_publication"] is (not summary.missing)
    for table, shown in zip(summary.tables, published["tables"], strict=True):
        assert shown["label"] == table.label and shown["unknown_count"] == table.unknown_count
        for row, cells in zip(table.rows, shown["rows"], strict=True):
            assert (cells["category"], cells["count"], cells["selected"]) == (
                row.category,
                row.count,
                row.selected,
            )
            assert cells["impact_ratio"] == row.impact_ratio


def test_extending_policies_keep_the_section(tmp_path):
    from audit.policy import load_policy

    (tmp_path / "base.yaml").write_text(
        'name: b\nversion: "1"\nreport:\n  sections: [nyc-ll144-summary]\nrequirements:\n'
        "  - {id: r, title: t, citation: c, auditor: fairness, metric: selection_rate,"
        " compare: ratio_to_max, threshold: 0.8}\n",
        encoding="utf-8",
    )
    child = tmp_path / "child.yaml"
    child.write_text('name: c\nversion: "1"\nextends: base.yaml\n', encoding="utf-8")
    assert load_policy(child).summary().report_sections == (SECTION,)
    assert load_policy("four-fifths").summary().report_sections == ()


def test_adult_categories_are_not_eeo1(ll144_result):
    """Adult's race labels are not the EEO-1 Component 1 categories, and it has no
    Hispanic or Latino ethnicity: the summary says so instead of looking publishable."""
    missing = ll144_summary(ll144_result).missing
    assert NO_HISPANIC.format(label="race") in missing
    (not_eeo1,) = [m for m in missing if m.startswith("the categories of 'race'")]
    for label in ("Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other"):
        assert label in not_eeo1
    assert "White," not in not_eeo1  # White is an EEO-1 category
    assert not any(m.startswith("the categories of 'sex'") for m in missing)


def test_test_data_needs_reason_and_origin(ll144_result):
    details = dataclasses.replace(ll144_result.details, data_kind="test")
    missing = ll144_summary(dataclasses.replace(ll144_result, details=details)).missing
    assert MISSING_TEST_REASON in missing and MISSING_TEST_ORIGIN in missing
    assert MISSING_DATA_KIND not in missing
    details = dataclasses.replace(details, test_data_reason="r", test_data_origin="o")
    missing = ll144_summary(dataclasses.replace(ll144_result, details=details)).missing
    assert MISSING_TEST_REASON not in missing and MISSING_TEST_ORIGIN not in missing


def test_applicants_only_when_the_rows_are_applicants(ll144_result, parse):
    def label(rows_are):
        details = dataclasses.replace(ll144_result.details, rows_are=rows_are)
        return ll144_summary(dataclasses.replace(ll144_result, details=details)).count_label

    assert label("applicants") == "Number of applicants"
    assert label("Candidates") == "Number of candidates"
    assert label("adults in the 1994 census") == "Number of adults in the 1994 census"
    assert label("") == "Number of individuals"
    assert "Number of applicants" not in render_html(ll144_result)


EEO1_RACE = {
    "White": "White",
    "Black": "Black or African American",
    "Asian-Pac-Islander": "Asian",
    "Amer-Indian-Eskimo": "American Indian or Alaska Native",
    "Other": "Hispanic or Latino",
}


def test_complete_filing_is_ready_for_publication(adult, parse):
    """With EEO-1 labels (Adult's relabelled: test data only) and every statement of
    6 RCNY §§ 5-301 to 5-303 given, nothing is missing and the report says so."""
    from audit import run_audit
    from audit.policy import parse_policy

    from .conftest import LL144_POLICY, _ll144_frame

    frame = _ll144_frame(adult)
    frame["race"] = frame["race"].astype(str).map(EEO1_RACE)
    result = run_audit(
        model="column:decision",
        data=frame,
        policy=parse_policy(LL144_POLICY, source="ll144-test.yaml"),
        target="income",
        positive_label=">50K",
        sensitive=["sex", "race"],
    )
    excluded = [r.category for t in ll144_summary(result).tables for r in t.excluded]
    details = AuditDetails(
        data_description="UCI Adult extract, relabelled (test data)",
        data_dates="1994",
        data_kind="test",
        test_data_reason="the tool has not been used yet",
        test_data_origin="a public census extract, downloaded from UCI",
        distribution_date="2024-03-01",
        rows_are="applicants",
        exclusion_justifications=dict.fromkeys(excluded, "under 2% of the data"),
        sign_off=SignOff(name="Ada Auditor", independence="No interest in the tool."),
    )
    result = dataclasses.replace(result, details=details)
    assert ll144_summary(result).missing == ()
    text = parse(render_html(result)).text
    assert "Not yet complete for publication" not in text
    assert "Number of applicants" in text
    assert "Distribution date of the tool 2024-03-01" in text
    assert "under 2% of the data" in text


def test_cli_statements_reach_the_summary(adult, tmp_path, capsys):
    """Every LL144 statement option of `maas-audit run` lands in the summary."""
    from audit.cli.main import main

    from .conftest import LL144_POLICY, _ll144_frame

    data = tmp_path / "decisions.csv"
    _ll144_frame(adult).to_csv(data, index=False)
    policy = tmp_path / "ll144.yaml"
    policy.write_text(LL144_POLICY, encoding="utf-8")
    out = tmp_path / "out"
    argv = [
        "run", "--model", "column:decision", "--data", str(data), "--target", "income",
        "--positive-label", ">50K", "--sensitive", "sex,race", "--policy", str(policy),
        "--out", str(out), "--no-progress",
        "--data-description", "UCI Adult extract (test data)", "--data-dates", "1994",
        "--data-kind", "test", "--test-data-reason", "no historical data yet",
        "--test-data-origin", "downloaded from the UCI repository",
        "--distribution-date", "2024-03-01", "--rows-are", "adults in the census",
        "--exclusion-justification", "race=Other", "under 2% of rows; too few to rate",
        "--auditor-name", "Ada Auditor", "--independence-statement", "No interest.",
    ]  # fmt: skip
    main(argv)
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    details = report["details"]
    assert details["data_kind"] == "test"
    assert details["distribution_date"] == "2024-03-01"
    assert details["rows_are"] == "adults in the census"
    justification = "under 2% of rows; too few to rate"
    assert details["exclusion_justifications"] == {"race=Other": justification}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Number of adults in the census" in page
    assert "under 2% of rows; too few to rate" in page
    assert "excluding &#39;race=Other&#39;" not in page  # given, so not listed as missing
    assert "Distribution date of the tool" in page


def test_cli_refuses_an_unknown_data_kind(capsys):
    from audit.cli.main import main

    code = main(["run", "--data", "x.csv", "--policy", "nyc-ll144", "--data-kind", "old"])
    assert code == 2
    assert "--data-kind" in capsys.readouterr().err


def test_charts_mark_the_benchmark_as_a_benchmark(ll144_result, parse):
    # LL144 sets no threshold: the dashed line of its impact-ratio charts is the
    # four-fifths benchmark, and its legend says so
    text = parse(render_html(ll144_result)).text
    assert "benchmark: 0.8 × sex=" in text
    assert "threshold: 0.8 ×" not in text


SCORING_POLICY = """\
name: ll144-scoring-test
version: "1"
extends: nyc-ll144
auditors:
  fairness:
    bootstrap: 0
    ll144: {rate: scoring}
"""


def test_a_scoring_tool_s_impact_ratio_is_defined_by_scoring_rates(adult, parse):
    # 6 RCNY § 5-300 defines a scoring tool's impact ratio by scoring rates: the summary
    # must not define it by selection rates over a table of scoring rates
    from audit import run_audit
    from audit.policy import parse_policy

    frame = adult.sample(n=2000, random_state=5).reset_index(drop=True)
    frame["score"] = frame["education-num"] / 16
    frame["decision"] = np.where(frame["score"] > 0.6, ">50K", "<=50K")
    result = run_audit(
        model="column:decision,score=score",
        data=frame,
        policy=parse_policy(SCORING_POLICY, source="ll144-scoring.yaml"),
        target="income",
        positive_label=">50K",
        sensitive=["sex", "race"],
    )
    assert {t.rate for t in ll144_summary(result).tables} == {"scoring"}
    document = render_html(result)
    start = document.index('<section id="ll144-summary"')
    text = parse(document[start : document.index("</section>", start)]).text
    assert "divided by the scoring rate of the highest scoring category" in text
    assert "selection rate divided by the selection rate" not in text


def _executive_summary(document):
    start = document.index('<section id="summary"')
    return document[start : document.index("</section>", start)]


def test_the_executive_summary_says_the_filing_is_not_complete(ll144_unsigned, parse):
    # an ADVISORY verdict at the top must not hide that the summary of results lacks items
    missing = len(ll144_summary(ll144_unsigned).missing)
    summary = _executive_summary(render_html(ll144_unsigned))
    assert 'href="#ll144-summary"' in summary
    text = parse(summary).text
    assert "Not yet complete for filing." in text
    assert f"NYC Local Law 144 summary of results lacks {missing} items" in text


def test_the_executive_summary_has_no_notice_when_nothing_is_asked(sample_result):
    assert "Not yet complete for filing" not in _executive_summary(render_html(sample_result))

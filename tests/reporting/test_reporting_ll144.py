"""The NYC LL144 summary of results: every figure the law asks for, read from the audit."""

from __future__ import annotations

import dataclasses
import json

import pytest

from audit.reporting import render_html, result_to_dict
from audit.reporting.ll144 import (
    MISSING_DATES,
    MISSING_DESCRIPTION,
    MISSING_SIGN_OFF,
    SECTION,
    ll144_summary,
)


def _selection_table(result, label):
    (table,) = [
        t for t in result.output("fairness").tables if t.title == f"Selection rates by {label}"
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
    assert summary.missing == ()
    assert [t.label for t in summary.tables] == ["sex", "race", "sex × race"]


def test_category_figures_are_the_auditors(ll144_result):
    summary = ll144_summary(ll144_result)
    for table in summary.tables:
        source = _selection_table(ll144_result, table.label)
        for row in (*table.rows, *table.excluded, *table.unknown):
            cells = source[row.category]
            assert row.count == cells["rows"]
            assert row.selected == cells["positive decisions"]
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
    assert "Not yet complete for publication" not in text
    toc = document[document.index('<nav class="toc"') : document.index("</nav>")]
    assert "#ll144-summary" in toc and "#sign-off" in toc


def test_missing_statements_are_listed(ll144_unsigned, parse):
    summary = ll144_summary(ll144_unsigned)
    assert summary.missing == (MISSING_DESCRIPTION, MISSING_DATES, MISSING_SIGN_OFF)
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

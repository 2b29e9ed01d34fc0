"""The Markdown summary: a table row per finding, reasons, links; table cells stay one cell."""

from __future__ import annotations

import pytest

from audit.reporting.markdown import render_markdown
from tests.reporting.conftest import (
    make_hostile_result,
    make_one_finding_result,
    make_result,
)


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]


def test_one_row_per_finding_with_verdict_and_measured_value():
    result = make_result()
    text = render_markdown(result, links={"HTML report": "reports/audit/report.html"})
    rows = _table_rows(text)[1:]  # after the header
    assert len(rows) == len(result.findings)
    for row, finding in zip(rows, result.findings, strict=True):
        assert finding.verdict.value in row
        assert finding.requirement_id in row
    assert f"Overall: {result.verdict}" in text
    assert "`reports/audit/report.html`" in text
    for finding in result.findings:
        for reason in finding.reasons:
            assert reason.split()[0] in text


def test_hostile_strings_cannot_break_the_table_or_inject_markup():
    text = render_markdown(make_hostile_result())
    for row in _table_rows(text):
        # a cell's pipe is escaped, so every row has the header's 6 cells
        assert row.replace("\\|", "").count("|") == 7
    assert "<script>" not in text


@pytest.mark.parametrize(
    ("comparison", "threshold", "measured", "shown"),
    [
        ("significance", 0.05, 0.0497, "p = 0.0497 (significance 0.05)"),
        ("significance", 0.05, 0.0312, "p = 0.031 (significance 0.05)"),
        ("ratio_to_max", 0.8, 0.7996, "0.7996 (ratio\\_to\\_max 0.8)"),  # failed: not 0.800
        ("ratio_to_max", 0.8, 0.8004, "0.800 (ratio\\_to\\_max 0.8)"),  # passed: as it reads
        ("at_most", 0.0, 1250.0, "1,250 (at\\_most 0)"),  # a count: whole
    ],
)
def test_a_measured_value_never_reads_across_its_threshold(comparison, threshold, measured, shown):
    result = make_one_finding_result(comparison, threshold, measured)
    (row,) = _table_rows(render_markdown(result))[1:]
    assert shown in row

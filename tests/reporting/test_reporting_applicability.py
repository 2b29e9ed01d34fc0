"""How every report states a requirement that did not apply and a figure established.

Built by ``maas-audit run`` on a small decision log, so that the findings are the
evaluator's, not hand-made: four-fifths with one sensitive column (its combined-groups
requirement does not apply) and ``compare: established`` on accuracy per group.
"""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from audit.cli.main import main

POLICY = """name: t
version: "1"
extends: four-fifths
requirements:
  - id: acc-stated
    title: Accuracy established per group
    citation: Regulation (EU) 2024/1689, Art. 13(3)(b)(ii)
    auditor: fairness
    metric: accuracy
    compare: established
    severity: advisory
    group_by: each
"""
COMBINED = "four-fifths-selection-rate-intersectional"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("applicability")
    rng = np.random.default_rng(0)
    n = 600
    outcome = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "sex": np.where(np.arange(n) % 2 == 0, "F", "M"),
            "decision": np.where(rng.random(n) < 0.8, outcome, 1 - outcome),
            "outcome": outcome,
        }
    )
    frame.to_csv(folder / "d.csv", index=False)
    (folder / "p.yaml").write_text(POLICY, encoding="utf-8")
    out = folder / "out"
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(folder / "d.csv"),
            "--target",
            "outcome",
            "--positive-label",
            "1",
            "--sensitive",
            "sex",
            "--policy",
            str(folder / "p.yaml"),
            "--out",
            str(out),
            "--junit",
            str(folder / "j.xml"),
            "--markdown",
            str(folder / "m.md"),
            "--no-progress",
        ]
    )
    assert code == 0  # the combined-groups requirement does not gate
    return {
        "frame": frame,
        "json": json.loads((out / "report.json").read_text(encoding="utf-8")),
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "markdown": (folder / "m.md").read_text(encoding="utf-8"),
        "junit": ET.parse(folder / "j.xml").getroot(),
    }


def _finding(report, requirement_id):
    (found,) = (f for f in report["findings"] if f["requirement_id"] == requirement_id)
    return found


def test_json_says_not_applicable_and_no_threshold_for_established(reports):
    report = reports["json"]
    combined = _finding(report, COMBINED)
    assert (combined["verdict"], combined["applies"], combined["blocks"]) == (
        "INCONCLUSIVE",
        False,
        False,
    )
    assert combined["grouping"] == [] and combined["measured"] is None
    stated = _finding(report, "acc-stated")
    assert (stated["verdict"], stated["threshold"], stated["measured"]) == ("PASS", None, 2)
    (requirement,) = (r for r in report["policy"]["requirements"] if r["id"] == "acc-stated")
    assert requirement["threshold"] is None
    assert report["verdict"] == "PASS"


def test_established_sentence_gives_each_group_s_accuracy_and_wilson_interval(reports):
    frame = reports["frame"]
    summary = _finding(reports["json"], "acc-stated")["summary"]
    for sex in ("F", "M"):
        rows = frame[frame.sex == sex]
        hits = int((rows.decision == rows.outcome).sum())
        low, high = proportion_confint(hits, len(rows), alpha=0.05, method="wilson")
        assert (
            f"sex={sex} {hits / len(rows):.3f} (interval {low:.3f} to {high:.3f}, "
            f"{len(rows)} rows)" in summary
        )


def test_html_badges_read_not_applicable_and_established(reports, parse):
    page = parse(reports["html"])
    assert "Not applicable: the audit has one sensitive column ('sex')" in page.text
    # the reason is the summary's own words: not repeated under it
    assert "Why not applicable:" not in page.text
    assert f"1 requirement did not apply to this audit ({COMBINED})" in page.text
    badges = re.findall(r'<span class="badge[^"]*">.*?&nbsp;([^<]+)</span>', reports["html"])
    assert "Not applicable" in badges and "Established" in badges
    assert "At or above benchmark" not in page.text
    assert "The model meets all 1 blocking requirement." in page.text


def test_markdown_and_junit_keep_not_applicable_apart(reports):
    markdown = reports["markdown"]
    assert "0 inconclusive, 1 not applicable, of 4 findings." in markdown
    assert "### Why some requirements did not apply" in markdown
    assert "| Established | advisory | 2 groups (established) |" in markdown
    skipped = [
        case.find("skipped")
        for case in reports["junit"].iter("testcase")
        if case.get("name", "").startswith(COMBINED)
    ]
    assert [s.get("type") for s in skipped] == ["Not applicable"]
    assert not any(reports["junit"].iter("error"))

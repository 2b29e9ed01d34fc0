"""The EU AI Act Art. 27 fundamental-rights impact assessment section, on a real audit.

Logged decisions on 2,000 Adult rows are audited through the CLI with the
eu-ai-act-high-risk pack, which asks for the section: points (c) and (d) carry the
audit's evidence (the groups found; the fairness findings with their figures), and
every point the deployer has not stated is a to-do until ``--statement`` gives it.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.cli.main import main
from audit.policy import load_policy
from audit.reporting.fria import ELEMENTS, SECTION

REPO = Path(__file__).resolve().parents[2]
ADULT = REPO / "examples" / "data" / "adult.csv"
PROCESSES = "Pre-screening of <consumer> loan applications before a credit officer decides"


class _Rows(HTMLParser):
    """The text of each row ``<tr id="eu-fria-X">``, by X, and the link targets in it."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self._row: str | None = None
        self.feed(document)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        row_id = found.get("id") or ""
        if tag == "tr" and row_id.startswith("eu-fria-"):
            self._row = row_id.removeprefix("eu-fria-")
            self.text[self._row] = ""
            self.links[self._row] = []
        elif tag == "a" and self._row is not None:
            self.links[self._row].append(found.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self.text[self._row] += data


@pytest.fixture(scope="module")
def decisions(tmp_path_factory):
    frame = pd.read_csv(ADULT).sample(n=2000, random_state=7).reset_index(drop=True)
    frame["decision"] = np.where(frame["education-num"] > 10, ">50K", "<=50K")
    folder = tmp_path_factory.mktemp("fria")
    frame.to_csv(folder / "decisions.csv", index=False)
    return folder


def _run(folder: Path, out: Path, *extra: str) -> tuple[str, dict]:
    main(
        [
            "run", "--model", "column:decision", "--data", str(folder / "decisions.csv"),
            "--target", "income", "--positive-label", ">50K", "--sensitive", "sex,race",
            "--policy", "eu-ai-act-high-risk", "--out", str(out), *extra,
        ]
    )  # fmt: skip
    page = (out / "report.html").read_text(encoding="utf-8")
    return page, json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def unstated(decisions, tmp_path_factory):
    return _run(decisions, tmp_path_factory.mktemp("unstated"))


def test_pack_asks_for_the_section_and_a_statement_per_element():
    report = load_policy("eu-ai-act-high-risk").policy.report
    assert SECTION in report.sections
    statements = {s.id: s.citation for s in report.statements}
    for point, statement_id, _ in ELEMENTS:
        assert statements[statement_id] == f"Regulation (EU) 2024/1689, Art. 27(1)({point})"


def test_elements_quote_article_27(unstated):
    rows = _Rows(unstated[0])
    assert list(rows.text) == ["a", "b", "c", "d", "e", "f"]
    # Art. 27(1)(b) and (f), OJ L, 12.7.2024.
    assert "the period of time within which, and the frequency with which" in rows.text["b"]
    assert "arrangements for internal governance and complaint mechanisms" in rows.text["f"]


def test_unstated_elements_are_to_dos(unstated):
    rows = _Rows(unstated[0])
    for point, statement_id, _ in ELEMENTS:
        assert "To do: to be stated by the deployer" in rows.text[point]
        assert f"--statement {statement_id}=" in rows.text[point]
    for point in "abef":
        assert "None: the audit cannot know this." in rows.text[point]


def test_groups_found_are_the_evidence_for_c(unstated):
    page, report = unstated
    text = _Rows(page).text["c"]
    sex = next(
        t
        for o in report["auditors"]
        if o["auditor"] == "fairness"
        for t in o["tables"]
        if t["title"] == "Selection rates by sex"
    )
    rows = {r[sex["columns"].index("group")]: r[sex["columns"].index("rows")] for r in sex["rows"]}
    assert sum(rows.values()) == 2000
    for group, count in rows.items():
        assert f"{group} ({count:,} rows)" in text
    assert "race=Black (" in text and "sex × race: " in text


def test_fairness_findings_with_figures_are_the_evidence_for_d(unstated):
    page, report = unstated
    rows = _Rows(page)
    fairness = [
        (i, f) for i, f in enumerate(report["findings"], start=1) if f["auditor"] == "fairness"
    ]
    assert fairness
    assert rows.links["d"] == [f"#finding-{i}" for i, _ in fairness]
    for _, finding in fairness:
        assert finding["summary"] in rows.text["d"]
    # The race selection-rate ratio lies below the 0.80 benchmark on this sample.
    ratio = next(
        f
        for _, f in fairness
        if f["requirement_id"] == "eu-art10-bias-selection-rate" and f["grouping"] == ["race"]
    )
    assert ratio["verdict"] == "FAIL" and ratio["measured"] < 0.8
    assert "Below benchmark: " + ratio["summary"] in rows.text["d"]
    for anchor in rows.links["d"]:
        assert f'id="{anchor[1:]}"' in page


def test_a_statement_fills_its_element(decisions, tmp_path):
    page, report = _run(decisions, tmp_path, "--statement", f"fria-processes={PROCESSES}")
    rows = _Rows(page)
    assert PROCESSES in rows.text["a"]
    assert "To do" not in rows.text["a"]
    assert "To do: to be stated by the deployer" in rows.text["b"]
    assert "<consumer>" not in page.split('id="eu-fria-a"')[1].split("</tr>")[0]
    assert report["details"]["statements"]["fria-processes"] == PROCESSES
    elements = {e["point"]: e for e in report["sections"]["fria"]["elements"]}
    assert elements["a"]["statement"] == PROCESSES and elements["a"]["todo"] == ""
    assert elements["b"]["todo"] and report["sections"]["fria"]["complete"] is False


def test_json_carries_the_section_as_the_html_shows_it(unstated):
    page, report = unstated
    section = report["sections"]
    assert section["ll144"] is None
    fria = section["fria"]
    assert fria["complete"] is False and fria["sensitive"] == ["sex", "race"]
    rows = _Rows(page)
    assert [e["point"] for e in fria["elements"]] == list(rows.text)
    for element, (point, statement_id, _) in zip(fria["elements"], ELEMENTS, strict=True):
        assert element["statement_id"] == statement_id and element["statement"] == ""
        assert f"--statement {statement_id}=" in element["todo"]
        for evidence in element["evidence"]:
            assert evidence["text"] in rows.text[point]
            if evidence["anchor"]:
                assert f"#{evidence['anchor']}" in rows.links[point]
    assert any(e["evidence"] for e in fria["elements"] if e["point"] == "c")


def test_the_statements_table_leaves_the_fria_statements_to_their_section(unstated):
    page, report = unstated
    fria_ids = {statement_id for _, statement_id, _ in ELEMENTS}
    asked = [s["id"] for s in report["policy"]["statements"]]
    assert fria_ids <= set(asked)
    for statement_id in asked:
        shown = f'id="statement-{statement_id}"' in page
        assert shown is (statement_id not in fria_ids), statement_id
    missing_notice = page.split('class="notice statements-missing"')[1].split("</div>")[0]
    assert not any(f"<code>{i}</code>" in missing_notice for i in fria_ids)
    assert 'in <a href="#eu-fria">its own section</a>' in page

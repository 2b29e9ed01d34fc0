"""A multi-regime audit through the CLI: one report, its findings grouped by law.

`maas-audit run --policy nyc-ll144 --policy illinois-hb3773` on a scikit-learn model of
UCI Adult merges the two shipped packs as `extends: [nyc-ll144, illinois-hb3773]` would,
and writes one report.json and one report.html whose findings are grouped by the pack that
defined each requirement, each group headed by the pack's name, version and description.
A single --policy writes the report it always did, plus each finding's `source`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import skops.io
import xmlschema
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.cli.main import main
from audit.policy import load_policy
from tests.conftest import ADULT_CSV, ParsedHTML

CATEGORICAL = ["education", "occupation", "relationship"]
NUMERIC = ["age", "education-num", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC
PACKS = ("nyc-ll144", "illinois-hb3773")


class _FindingsTable(ParsedHTML):
    """The findings table's row groups: each ``<tbody>``'s id, header text and finding rows."""

    def __init__(self, document: str) -> None:
        self.groups: list[dict[str, object]] = []
        self._in_table = self._in_head = False
        super().__init__(document)

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        found = dict(attrs)
        if tag == "table":
            self._in_table = "findings" in (found.get("class") or "").split()
        elif self._in_table and tag == "tbody":
            self.groups.append({"id": found.get("id"), "head": "", "rows": []})
        elif self._in_table and tag == "tr" and self.groups:
            self._in_head = found.get("class") == "regime-head"
            if (found.get("id") or "").startswith("finding-"):
                self.groups[-1]["rows"].append(found["id"])  # type: ignore[union-attr]

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag == "tr":
            self._in_head = False

    def handle_data(self, data):
        super().handle_data(data)
        if self._in_head:
            self.groups[-1]["head"] = f"{self.groups[-1]['head']}{data}"


@pytest.fixture(scope="module")
def adult_files(tmp_path_factory):
    adult = pd.read_csv(ADULT_CSV, skipinitialspace=True).sample(n=3000, random_state=21)
    train, held_out = adult.iloc[:1500], adult.iloc[1500:]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    model.fit(train[FEATURES], train["income"])
    folder = tmp_path_factory.mktemp("regimes")
    skops.io.dump(model, folder / "model.skops")
    held_out.to_csv(folder / "held_out.csv", index=False)
    return folder


def _run(folder: Path, out: Path, *policies: str, extra: tuple[str, ...] = ()) -> tuple[dict, str]:
    main(
        [
            "run", "--model", str(folder / "model.skops"), "--data",
            str(folder / "held_out.csv"), "--target", "income", "--positive-label", ">50K",
            "--sensitive", "sex,race", "--features", ",".join(FEATURES),
            "--out", str(out), "--no-progress",
            *[arg for p in policies for arg in ("--policy", p)], *extra,
        ]
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report, (out / "report.html").read_text(encoding="utf-8")


def test_two_packs_make_one_report_grouped_by_law(adult_files, tmp_path):
    report, page = _run(adult_files, tmp_path / "out", *PACKS)
    packs = [load_policy(p).policy for p in PACKS]
    own_ids = [[r.id for r in p.requirements] for p in packs]

    regimes = report["policy"]["regimes"]
    assert [(r["source"], r["name"], r["version"]) for r in regimes] == [
        (f"pack:{p.name}", p.name, p.version) for p in packs
    ]
    assert [r["description"] for r in regimes] == [p.description for p in packs]
    assert [r["requirements"] for r in regimes] == own_ids
    assert report["policy"]["name"] == "nyc-ll144 + illinois-hb3773"
    # One audit: the findings of both packs, each naming the pack of its requirement.
    by_source: dict[str, set[str]] = {}
    for finding in report["findings"]:
        by_source.setdefault(finding["source"], set()).add(finding["requirement_id"])
    assert by_source == {f"pack:{p.name}": set(ids) for p, ids in zip(packs, own_ids, strict=True)}

    table = _FindingsTable(page)
    assert [g["id"] for g in table.groups] == ["regime-1", "regime-2"]
    for group, pack in zip(table.groups, packs, strict=True):
        head = " ".join(str(group["head"]).split())
        assert head.startswith(f"{pack.name} version {pack.version}")
        assert " ".join(pack.description.split()) in head
    rows = [f"finding-{i}" for i, _ in enumerate(report["findings"], start=1)]
    sources = [f["source"] for f in report["findings"]]
    for group, pack in zip(table.groups, packs, strict=True):
        expected = [a for a, s in zip(rows, sources, strict=True) if s == f"pack:{pack.name}"]
        assert group["rows"] == expected and expected


def test_a_single_policy_report_is_unchanged_but_for_the_source(adult_files, tmp_path):
    report, page = _run(adult_files, tmp_path / "out", "nyc-ll144")
    assert report["policy"]["name"] == "nyc-ll144"
    assert [r["source"] for r in report["policy"]["regimes"]] == ["pack:nyc-ll144"]
    assert {f["source"] for f in report["findings"]} == {"pack:nyc-ll144"}
    assert {r["source"] for r in report["policy"]["requirements"]} == {"pack:nyc-ll144"}
    # The existing keys, in their order, then the new one.
    assert list(report["findings"][0])[-2:] == ["reasons", "source"]
    table = _FindingsTable(page)
    assert len(table.groups) == 1 and table.groups[0]["id"] is None
    assert table.groups[0]["head"] == "" and len(table.groups[0]["rows"]) == len(report["findings"])
    assert 'class="regime-head"' not in page


def test_markdown_and_junit_group_the_findings_by_law(adult_files, tmp_path):
    import junitparser

    markdown, junit = tmp_path / "summary.md", tmp_path / "audit.xml"
    report, _ = _run(
        adult_files,
        tmp_path / "out",
        *PACKS,
        extra=("--markdown", str(markdown), "--junit", str(junit)),
    )
    packs = [load_policy(p).policy for p in PACKS]
    ids = {
        p.name: [f["requirement_id"] for f in report["findings"] if f["source"] == f"pack:{p.name}"]
        for p in packs
    }

    # Markdown: a heading per pack, then its findings' rows, in the report's order.
    text = markdown.read_text(encoding="utf-8")
    sections = text.split("\n### ")[1:]
    headings = [section.splitlines()[0] for section in sections]
    assert headings[: len(packs)] == [f"{p.name} {p.version}" for p in packs]
    for pack, section in zip(packs, sections, strict=False):
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert [row.split("`")[1] for row in rows] == ids[pack.name]

    # JUnit, read back by junitparser: a suite per pack holding exactly its findings.
    suites = list(junitparser.JUnitXml.fromfile(str(junit)))
    assert [s.name for s in suites] == [
        f"maas-audit nyc-ll144 + illinois-hb3773 / {p.name} {p.version}" for p in packs
    ]
    for suite, pack in zip(suites, packs, strict=True):
        assert suite.tests == len(ids[pack.name])
        properties = {p.name: p.value for p in suite.properties()}
        assert properties["regime"] == f"pack:{pack.name}"
    root = ET.parse(junit).getroot()
    assert int(root.get("tests")) == len(report["findings"])
    xmlschema.XMLSchema(Path(__file__).parent / "data" / "jenkins-junit-10.xsd").validate(
        str(junit)
    )

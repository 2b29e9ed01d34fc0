"""docs/writing-policies.md: every YAML example validates, and `policy explain` reads one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.cli.main import main
from audit.policy import parse_policy

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-policies.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[f"yaml-{i}" for i in range(len(BLOCKS))])
def test_every_yaml_example_validates(block):
    loaded = parse_policy(block, source="docs/writing-policies.md")
    assert loaded.policy.requirements


def test_explain_runs_on_an_example(tmp_path, capsys):
    path = tmp_path / "example.yaml"
    path.write_text(BLOCKS[-1], encoding="utf-8")
    assert main(["policy", "explain", str(path), "--sensitive", "sex,race"]) == 0
    out = capsys.readouterr().out
    assert "impact-ratio: Impact ratios" in out
    assert "ADVISORY — For every group of sex, race and their combinations" in out


def test_error_lines_in_the_page_are_what_validate_prints(tmp_path, capsys):
    text = BLOCKS[0].replace("threshold: 0.8", "threshold: high")
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["policy", "validate", str(path)]) == 2
    line = capsys.readouterr().err.splitlines()[0]
    assert re.fullmatch(
        rf"{re.escape(str(path))}:\d+:5: requirements\[0\]\.threshold: expected a number, "
        r"got 'high'",
        line,
    )


# ---------------------------------------------------------------- docs/citations.md

CITATIONS = DOC.parent / "citations.md"


def test_every_pack_is_in_the_citations_table_with_its_version():
    from audit.policy import list_packs, load_policy

    text = CITATIONS.read_text(encoding="utf-8")
    for name in list_packs():
        policy = load_policy(name).policy
        assert f"## {name} (version {policy.version})" in text, name


def test_no_shipped_citation_is_neither_checked_nor_marked_unverified():
    from audit.policy import list_packs, load_policy

    for name in list_packs():
        for r in load_policy(name).policy.requirements:
            assert r.citation_verified is not None, f"{name}: {r.id}"
            if r.citation_verified:
                assert r.citation_checked == "2026-12-05", f"{name}: {r.id}"


def test_unverified_requirements_are_explained_in_the_table():
    from audit.policy import list_packs, load_policy

    text = CITATIONS.read_text(encoding="utf-8")
    for name in list_packs():
        section = text.split(f"## {name} ")[1].split("\n## ")[0]
        unverified = [
            r.id for r in load_policy(name).policy.requirements if r.citation_verified is False
        ]
        if unverified:
            assert "**unverified**" in section, name
        assert ("citation_verified: false" in section) == bool(unverified), name


def test_the_page_claims_only_what_the_report_does():
    text = DOC.read_text(encoding="utf-8")
    assert "lists anything the law asks for that was not given" not in text
    assert "names each one missing" in text

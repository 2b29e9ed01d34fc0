"""The shipped packs: present, linked, loadable, citing their sources."""

from pathlib import Path

import pytest

import audit.policy as policy_api
from audit.auditors.fairness.config import FairnessConfig
from audit.core.findings import Severity
from audit.policy import (
    Comparison,
    PolicyFileError,
    list_packs,
    load_policy,
    pack_path,
    validate_auditor_settings,
)
from audit.policy.packs import packs_dir

REPO = Path(__file__).resolve().parents[2]
PACKS = [
    "ecoa-reg-b",
    "eu-ai-act-high-risk",
    "four-fifths",
    "gdpr-masking",
    "illinois-hb3773",
    "nyc-ll144",
    "title-vii-hiring",
]


def test_packs_link_points_at_policies_folder():
    link = REPO / "audit" / "policy" / "packs"
    assert link.is_symlink()
    assert link.resolve() == (REPO / "policies").resolve()
    assert packs_dir() == (REPO / "policies").resolve()


def test_list_packs():
    packs = list_packs()
    assert set(PACKS) <= set(packs)  # other packs may be added; these never leave
    assert list(packs) == sorted(packs)
    assert packs["four-fifths"] == pack_path("four-fifths")
    assert packs["nyc-ll144"].is_file()


@pytest.mark.parametrize("pack", PACKS)
def test_pack_loads_and_settings_validate(pack):
    loaded = load_policy(pack)
    assert loaded.sources == (f"pack:{pack}",)
    assert loaded.policy.name == pack
    assert all(r.citation.strip() for r in loaded.policy.requirements)
    config = validate_auditor_settings(loaded, "fairness", FairnessConfig)
    assert isinstance(config, FairnessConfig)


@pytest.mark.parametrize("pack", PACKS)
def test_pack_starts_with_schema_comment(pack):
    first = pack_path(pack).read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schema.json"


def test_four_fifths_pack():
    by_id = {r.id: r for r in load_policy("four-fifths").policy.requirements}
    single = by_id["four-fifths-selection-rate"]
    combined = by_id["four-fifths-selection-rate-intersectional"]
    for r in (single, combined):
        assert (r.metric, r.compare, r.threshold) == (
            "selection_rate",
            Comparison.RATIO_TO_MAX,
            0.8,
        )
        assert r.severity is Severity.BLOCKING
        assert "1607.4(D)" in r.citation
    # § 1607.4(D) speaks of race, sex or ethnic groups: the rule itself, per column.
    assert (single.group_by, single.threshold_source) == ("each", "law")
    # Combined groups come from LL144 (6 RCNY § 5-301): the policy's choice, labelled so.
    assert (combined.group_by, combined.threshold_source) == ("intersection", "policy")
    assert "policy's choice" in combined.citation and "5-301" in combined.citation


def test_nyc_pack():
    loaded = load_policy("nyc-ll144")
    config = validate_auditor_settings(loaded, "fairness", FairnessConfig)
    assert config.unknown_group == "exclude"
    assert config.intersectional
    by_id = {r.id: r for r in loaded.policy.requirements}
    ratios = [by_id["ll144-impact-ratio-by-category"], by_id["ll144-impact-ratio-intersectional"]]
    assert [r.group_by for r in ratios] == ["each", "intersection"]
    for r in loaded.policy.requirements:
        assert r.severity is Severity.ADVISORY
    for r in ratios:
        assert (r.compare, r.threshold) == (Comparison.RATIO_TO_MAX, 0.8)
        assert "5-301" in r.citation
        assert "no minimum" in r.description
        # LL144 sets no pass mark: the report shows a benchmark, not PASS/FAIL.
        assert r.threshold_source == "benchmark"
        # § 20-871 of the Administrative Code could not be checked (docs/citations.md).
        assert r.citation_verified is False


def test_pack_path_unknown():
    with pytest.raises(Exception, match="no shipped policy pack named 'nope'"):
        pack_path("nope")


def test_file_wins_over_pack_name(write, policy_text):
    write("four-fifths", policy_text("mine", name="local"))
    assert load_policy("four-fifths").policy.name == "local"


def test_pack_name_with_suffix_is_a_path(write):
    with pytest.raises(PolicyFileError, match=r"^policy 'four-fifths.yaml' not found"):
        load_policy("four-fifths.yaml")


def test_public_names():
    assert sorted(policy_api.__all__) == sorted(
        [
            "Comparison",
            "FieldPath",
            "GroupBy",
            "LoadedPolicy",
            "Policy",
            "PolicyFileError",
            "Requirement",
            "evaluate_policy",
            "evaluate_requirement",
            "list_packs",
            "load_policy",
            "pack_path",
            "parse_policy",
            "policy_json_schema",
            "resolve_groupings",
            "validate_auditor_settings",
        ]
    )
    for name in policy_api.__all__:
        assert getattr(policy_api, name) is not None

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
PACKS = ["ecoa-reg-b", "eu-ai-act-high-risk", "four-fifths", "gdpr-masking", "nyc-ll144"]


def test_packs_link_points_at_policies_folder():
    link = REPO / "audit" / "policy" / "packs"
    assert link.is_symlink()
    assert link.resolve() == (REPO / "policies").resolve()
    assert packs_dir() == (REPO / "policies").resolve()


def test_list_packs():
    packs = list_packs()
    assert list(packs) == PACKS
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
    (r,) = load_policy("four-fifths").policy.requirements
    assert (r.metric, r.compare, r.threshold) == ("selection_rate", Comparison.RATIO_TO_MAX, 0.8)
    assert r.severity is Severity.BLOCKING
    assert r.group_by == "all"
    assert "1607.4(D)" in r.citation


def test_nyc_pack():
    loaded = load_policy("nyc-ll144")
    config = validate_auditor_settings(loaded, "fairness", FairnessConfig)
    assert config.exclude_below_share == 0.02
    assert config.unknown_group == "exclude"
    assert config.intersectional
    requirements = loaded.policy.requirements
    assert {r.group_by for r in requirements} == {"each", "intersection"}
    for r in requirements:
        assert r.severity is Severity.ADVISORY
        assert (r.metric, r.compare, r.threshold) == (
            "selection_rate",
            Comparison.RATIO_TO_MAX,
            0.8,
        )
        assert "5-301" in r.citation
        assert "no minimum" in r.description


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

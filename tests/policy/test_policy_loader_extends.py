"""extends: overriding by id, packs, lists, cycles, escapes, merged settings and locations."""

import hashlib
import json

import pytest

from audit.auditors.fairness.config import FairnessConfig
from audit.core.findings import Severity
from audit.core.result import PolicySummary
from audit.policy import PolicyFileError, list_packs, load_policy, validate_auditor_settings
from audit.policy import loader as L


def ids(loaded):
    return [r.id for r in loaded.policy.requirements]


def test_child_overrides_by_id_and_appends(write, policy_text):
    write("base.yaml", policy_text("a", "b", name="base"))
    write("child.yaml", policy_text("b", "c", name="child", threshold=0.9, extends="base.yaml"))
    loaded = load_policy("child.yaml")
    assert ids(loaded) == ["a", "b", "c"]
    thresholds = {r.id: r.threshold for r in loaded.policy.requirements}
    assert thresholds == {"a": 0.8, "b": 0.9, "c": 0.9}
    assert loaded.policy.name == "child"
    assert loaded.policy.extends is None
    assert loaded.sources == ("child.yaml", "base.yaml")


def test_locations_point_at_defining_file(write, policy_text):
    write("base.yaml", policy_text("a", "b", name="base"))
    write("child.yaml", policy_text("b", name="child", extends="base.yaml"))
    loaded = load_policy("child.yaml")
    # requirement "a" comes from base.yaml (its first item starts on line 4)
    assert loaded.locate(("requirements", 0, "id")) == "base.yaml:4:5"
    assert loaded.locate(("requirements", 0, "threshold")) == "base.yaml:10:5"
    # requirement "b" was replaced by child.yaml's, whose item starts on line 5
    assert loaded.locate(("requirements", 1, "id")) == "child.yaml:5:5"
    assert loaded.locate(("name",)) == "child.yaml:1:1"


def test_extends_pack_by_name(write):
    write(
        "mine.yaml",
        'name: mine\nversion: "3"\nextends: four-fifths\n'
        "auditors:\n  fairness:\n    min_group_size: 50\n",
    )
    loaded = load_policy("mine.yaml")
    assert ids(loaded) == [
        "four-fifths-selection-rate",
        "four-fifths-selection-rate-intersectional",
        "four-fifths-significance",
    ]
    assert loaded.sources == ("mine.yaml", "pack:four-fifths")
    settings = loaded.policy.auditors["fairness"]
    assert settings["min_group_size"] == 50  # child wins
    assert settings["unknown_group"] == "exclude"  # kept from the pack
    assert loaded.locate(("auditors", "fairness", "min_group_size")) == "mine.yaml:6:5"
    assert loaded.locate(("auditors", "fairness", "unknown_group")).startswith("pack:four-fifths:")


def test_extends_list_left_to_right(write, policy_text):
    write("one.yaml", policy_text("a", "shared", name="one", threshold=0.5))
    write("two.yaml", policy_text("shared", "b", name="two", threshold=0.6))
    write("top.yaml", policy_text("c", name="top", extends="[one.yaml, two.yaml]"))
    loaded = load_policy("top.yaml")
    assert ids(loaded) == ["a", "shared", "b", "c"]
    assert {r.id: r.threshold for r in loaded.policy.requirements}["shared"] == 0.6
    assert loaded.sources == ("top.yaml", "one.yaml", "two.yaml")


def test_both_packs_combine(write):
    write("both.yaml", 'name: both\nversion: "1"\nextends: [nyc-ll144, four-fifths]\n')
    loaded = load_policy("both.yaml")
    assert ids(loaded) == [
        "ll144-impact-ratio-by-category",
        "ll144-impact-ratio-intersectional",
        "ll144-significance",
        "four-fifths-selection-rate",
        "four-fifths-selection-rate-intersectional",
        "four-fifths-significance",
    ]
    # LL144's 2% rule is scoped to its own metric, not the fairness auditor as a whole
    assert loaded.policy.auditors["fairness"]["ll144"]["exclude_below_share"] == 0.02
    assert "exclude_below_share" not in loaded.policy.auditors["fairness"]


def test_nested_extends_and_subfolder(write, policy_text):
    write("lib/base.yaml", policy_text("a", name="base"))
    write("lib/mid.yaml", policy_text("b", name="mid", extends="base.yaml"))
    write("top.yaml", policy_text("c", name="top", extends="lib/mid.yaml"))
    loaded = load_policy("top.yaml")
    assert ids(loaded) == ["a", "b", "c"]
    assert loaded.sources == ("top.yaml", "lib/mid.yaml", "lib/base.yaml")


def test_child_needs_no_requirements_of_its_own(write):
    write("c.yaml", 'name: c\nversion: "1"\nextends: four-fifths\n')
    assert ids(load_policy("c.yaml")) == [
        "four-fifths-selection-rate",
        "four-fifths-selection-rate-intersectional",
        "four-fifths-significance",
    ]


def test_cycle_detected(write, policy_text):
    write("a.yaml", policy_text("x", name="a", extends="b.yaml"))
    write("b.yaml", policy_text("y", name="b", extends="a.yaml"))
    with pytest.raises(PolicyFileError) as info:
        load_policy("a.yaml")
    assert str(info.value) == "b.yaml:3:1: circular extends: a.yaml -> b.yaml -> a.yaml"


def test_self_cycle_detected(write, policy_text):
    write("a.yaml", policy_text("x", name="a", extends="a.yaml"))
    with pytest.raises(PolicyFileError, match=r"^a.yaml:3:1: circular extends: a.yaml -> a.yaml$"):
        load_policy("a.yaml")


def test_diamond_is_not_a_cycle(write, policy_text):
    write("d.yaml", policy_text("d", name="d"))
    write("b.yaml", policy_text("b", name="b", extends="d.yaml"))
    write("c.yaml", policy_text("c", name="c", extends="d.yaml"))
    write("a.yaml", policy_text("a", name="a", extends="[b.yaml, c.yaml]"))
    loaded = load_policy("a.yaml")
    assert ids(loaded) == ["d", "b", "c", "a"]
    assert loaded.sources == ("a.yaml", "b.yaml", "d.yaml", "c.yaml")


def test_depth_limit(write, policy_text):
    n = L.MAX_EXTENDS_DEPTH + 2
    for i in range(n):
        extends = f"p{i + 1}.yaml" if i + 1 < n else None
        write(f"p{i}.yaml", policy_text(f"r{i}", name=f"p{i}", extends=extends))
    with pytest.raises(PolicyFileError, match="extends is nested deeper than 16 files"):
        load_policy("p0.yaml")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "../outside.yaml",
            "'../outside.yaml' points outside this file's folder; extends may only name files "
            "inside it, or packs",
        ),
        (
            "sub/../../outside.yaml",
            "'sub/../../outside.yaml' points outside this file's folder; extends may only "
            "name files inside it, or packs",
        ),
        (
            "/etc/passwd.yaml",
            "'/etc/passwd.yaml' is an absolute path; extends takes a pack name or a path "
            "relative to this file",
        ),
        ("missing.yaml", "'missing.yaml' not found (looked for here/missing.yaml)"),
        ("base.json", "'base.json' is neither a pack name nor a .yaml/.yml file"),
        (
            "no-such-pack",
            "no shipped policy pack named 'no-such-pack'; packs are: " + ", ".join(list_packs()),
        ),
    ],
)
def test_bad_extends_refused(write, policy_text, entry, message):
    write("outside.yaml", policy_text("o", name="o"))
    write("here/p.yaml", policy_text("x", name="p", extends=f"'{entry}'"))
    with pytest.raises(PolicyFileError) as info:
        load_policy("here/p.yaml")
    assert str(info.value) == f"here/p.yaml:3:1: extends: {message}"


def test_symlink_escape_refused(write, policy_text, tmp_path):
    write("outside.yaml", policy_text("o", name="o"))
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    write("here/p.yaml", policy_text("x", name="p", extends="[link.yaml]"))
    pattern = r"^here/p.yaml:3:11: extends\[0\]: 'link.yaml' points"
    with pytest.raises(PolicyFileError, match=pattern):
        load_policy("here/p.yaml")


def test_error_in_parent_names_parent(write, policy_text):
    write("base.yaml", policy_text("a", name="base").replace("threshold: 0.8", "threshold: x"))
    write("child.yaml", policy_text("b", name="child", extends="base.yaml"))
    with pytest.raises(PolicyFileError) as info:
        load_policy("child.yaml")
    assert str(info.value) == (
        "base.yaml:10:5: requirements[0].threshold: expected a number, got 'x'"
    )


def test_sha256_is_of_canonical_merged_json(write, policy_text):
    write("p.yaml", policy_text("a"))
    loaded = load_policy("p.yaml")
    canonical = json.dumps(
        loaded.policy.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert loaded.sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    # comments and key order do not change the hash; a threshold does
    reordered = "# comment\n" + policy_text("a").replace(
        'name: p\nversion: "1"\n', 'version: "1"\nname: p\n'
    )
    write("q.yaml", reordered)
    assert load_policy("q.yaml").sha256 == loaded.sha256
    write("r.yaml", policy_text("a", threshold=0.7))
    assert load_policy("r.yaml").sha256 != loaded.sha256


def test_summary(write):
    write("c.yaml", 'name: c\nversion: "2"\ndescription: d\nextends: nyc-ll144\n')
    summary = load_policy("c.yaml").summary()
    assert isinstance(summary, PolicySummary)
    assert (summary.name, summary.version, summary.description) == ("c", "2", "d")
    assert summary.sources == ("c.yaml", "pack:nyc-ll144")
    first = summary.requirements[0]
    assert first.comparison == "ratio_to_max"
    assert first.severity is Severity.ADVISORY
    assert first.group_by == "each"


def test_summary_of_column_list(write, policy_text):
    text = policy_text("a") + "    group_by: [sex, race]\n"
    write("p.yaml", text)
    assert (
        load_policy("p.yaml").summary().requirements[0].group_by
        == "sex \N{MULTIPLICATION SIGN} race"
    )


def test_validate_auditor_settings_ok(write):
    write("c.yaml", 'name: c\nversion: "1"\nextends: nyc-ll144\n')
    config = validate_auditor_settings(load_policy("c.yaml"), "fairness", FairnessConfig)
    assert isinstance(config, FairnessConfig)
    assert config.ll144 is not None and config.ll144.exclude_below_share == 0.02
    assert config.exclude_below_share == 0.0
    assert config.unknown_group == "exclude"


def test_validate_auditor_settings_defaults_without_block():
    config = validate_auditor_settings(load_policy("four-fifths"), "privacy", FairnessConfig)
    assert config == FairnessConfig()


def test_validate_auditor_settings_errors_name_file_and_line(write):
    write(
        "c.yaml",
        'name: c\nversion: "1"\nextends: four-fifths\nauditors:\n  fairness:\n'
        "    min_grup_size: 5\n    bootstrap: lots\n",
    )
    with pytest.raises(PolicyFileError) as info:
        validate_auditor_settings(load_policy("c.yaml"), "fairness", FairnessConfig)
    assert info.value.errors == (
        "c.yaml:7:5: auditors.fairness.bootstrap: expected a whole number, got 'lots'",
        "c.yaml:6:5: auditors.fairness.min_grup_size: unknown field 'min_grup_size' "
        "(did you mean 'min_group_size'?)",
    )


def test_diamond_keeps_an_override_of_the_shared_parent(write, policy_text):
    # Issue 21 item 9: child extends [strict, extra]; both extend base; strict raises
    # base's threshold to 0.9.  base is applied once, before both, so 0.9 stays.
    write("base.yaml", policy_text("rate", name="base", threshold=0.8))
    write("strict.yaml", policy_text("rate", name="strict", threshold=0.9, extends="base.yaml"))
    write("extra.yaml", policy_text("more", name="extra", threshold=0.7, extends="base.yaml"))
    write("child.yaml", policy_text(name="child", extends="[strict.yaml, extra.yaml]"))
    loaded = load_policy("child.yaml")
    assert {r.id: r.threshold for r in loaded.policy.requirements} == {"rate": 0.9, "more": 0.7}
    assert loaded.sources == ("child.yaml", "strict.yaml", "base.yaml", "extra.yaml")
    # the threshold's location is strict.yaml's, where the winning value is written
    assert loaded.locate(("requirements", 0, "threshold")).startswith("strict.yaml:")


def test_merge_order_is_each_ancestor_once_later_files_winning(write, policy_text):
    # Order: base, left, right, child.  right overrides left where both override base.
    write("base.yaml", policy_text("a", "b", name="base", threshold=0.1))
    write("left.yaml", policy_text("a", "b", name="left", threshold=0.2, extends="base.yaml"))
    write("right.yaml", policy_text("b", name="right", threshold=0.3, extends="base.yaml"))
    write("child.yaml", policy_text(name="child", extends="[left.yaml, right.yaml]"))
    loaded = load_policy("child.yaml")
    assert {r.id: r.threshold for r in loaded.policy.requirements} == {"a": 0.2, "b": 0.3}
    assert ids(loaded) == ["a", "b"]

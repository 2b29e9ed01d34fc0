"""Several policies at once: merged as ``extends: [a, b]``, each requirement naming its source."""

from __future__ import annotations

import pytest

from audit.policy import PolicyFileError, load_policy
from audit.policy.loader import ERR_NO_POLICY


def _ids(loaded):
    return [r.id for r in loaded.policy.requirements]


def test_named_together_merge_as_extends_would(tmp_path):
    child = tmp_path / "both.yaml"
    child.write_text(
        'name: both\nversion: "1"\nextends: [nyc-ll144, illinois-hb3773]\n', encoding="utf-8"
    )
    together = load_policy(["nyc-ll144", "illinois-hb3773"])
    extended = load_policy(child)
    assert together.policy.requirements == extended.policy.requirements
    assert together.policy.auditors == extended.policy.auditors
    assert together.policy.report == extended.policy.report
    # Conflicting settings: the later policy wins, as with extends.
    for name, size in (("small", 10), ("large", 50)):
        (tmp_path / f"{name}.yaml").write_text(
            f'name: {name}\nversion: "1"\nauditors:\n  fairness:\n    min_group_size: {size}\n'
            "requirements:\n  - {id: rates, title: Rates, citation: x, auditor: fairness,\n"
            "     metric: selection_rate, compare: ratio_to_max, threshold: 0.8}\n",
            encoding="utf-8",
        )
    small, large = str(tmp_path / "small.yaml"), str(tmp_path / "large.yaml")
    assert load_policy([small, large]).policy.auditors["fairness"]["min_group_size"] == 50
    assert load_policy([large, small]).policy.auditors["fairness"]["min_group_size"] == 10
    summary = together.summary()
    assert (summary.name, summary.version) == ("nyc-ll144 + illinois-hb3773", "1.3 + 1.0")
    assert [r.source for r in summary.regimes] == ["pack:nyc-ll144", "pack:illinois-hb3773"]
    assert {r.source for r in summary.requirements} == {"pack:nyc-ll144", "pack:illinois-hb3773"}
    assert extended.summary().regimes == summary.regimes


def test_a_file_extending_several_packs_groups_by_the_defining_file(tmp_path):
    child = tmp_path / "mine.yaml"
    child.write_text(
        'name: mine\nversion: "2"\ndescription: Our screen.\n'
        "extends: [four-fifths, nyc-ll144]\n"
        "requirements:\n"
        "  - id: ll144-significance\n    title: Ours now\n    citation: internal rule 1\n"
        "    auditor: fairness\n    metric: selection_rate\n    compare: significance\n"
        "    threshold: 0.01\n    group_by: each\n",
        encoding="utf-8",
    )
    loaded = load_policy(child)
    sources = {r.id: r.source for r in loaded.summary().requirements}
    four = _ids(load_policy("four-fifths"))
    assert {sources[i] for i in four} == {"pack:four-fifths"}
    assert sources["ll144-impact-ratio-by-category"] == "pack:nyc-ll144"
    assert sources["ll144-significance"] == str(child)  # the child's override is its own
    regimes = {r.source: r for r in loaded.summary().regimes}
    assert list(regimes) == ["pack:four-fifths", "pack:nyc-ll144", str(child)]
    assert (regimes[str(child)].name, regimes[str(child)].description) == ("mine", "Our screen.")


def test_the_same_policy_twice_is_applied_once():
    once = load_policy("four-fifths")
    twice = load_policy(["four-fifths", "four-fifths"])
    assert twice.policy == once.policy and twice.sha256 == once.sha256
    assert twice.summary() == once.summary()


def test_nothing_or_a_missing_policy_is_a_policy_error():
    with pytest.raises(PolicyFileError, match=ERR_NO_POLICY):
        load_policy([])
    with pytest.raises(PolicyFileError, match="'no-such-pack' not found"):
        load_policy(["four-fifths", "no-such-pack"])

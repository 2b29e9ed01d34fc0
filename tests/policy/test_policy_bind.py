"""Binding a policy to the installed auditors: misspelled auditor names are errors."""

import pytest

from audit.cli.main import main
from audit.errors import PolicyError
from audit.policy import load_policy
from audit.policy.bind import bind_auditors
from audit.yaml_marks import PolicyFileError

MISSPELLED_BLOCK = (
    'name: p\nversion: "1"\nextends: four-fifths\nauditors:\n  fairnes:\n    min_group_size: 100\n'
)
EXPECTED = (
    "p.yaml:5:3: auditors.fairnes: no auditor named 'fairnes' is installed "
    "(did you mean 'fairness'?); installed auditors: "
)


def test_a_misspelled_auditors_block_is_an_error_with_did_you_mean(write):
    # Issue 21 item 10: the block used to be ignored, and its settings with it.
    write("p.yaml", MISSPELLED_BLOCK)
    with pytest.raises(PolicyError) as info:
        bind_auditors(load_policy("p.yaml"))
    assert str(info.value).startswith(EXPECTED)
    assert "explanations, fairness, masking, privacy" in str(info.value)


def test_policy_validate_refuses_a_misspelled_auditors_block(write, capsys):
    write("p.yaml", MISSPELLED_BLOCK)
    assert main(["policy", "validate", "p.yaml"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[0].startswith(EXPECTED)


def test_a_misspelled_requirement_auditor_says_did_you_mean(write, policy_text):
    write("p.yaml", policy_text("a").replace("auditor: fairness", "auditor: fairness_"))
    with pytest.raises(PolicyError, match=r"\(did you mean 'fairness'\?\)"):
        bind_auditors(load_policy("p.yaml"))


def test_an_auditors_block_for_an_installed_auditor_no_requirement_uses_is_fine(write):
    write(
        "p.yaml",
        MISSPELLED_BLOCK.replace("fairnes:", "masking:").replace("min_group_size: 100", "k: 5"),
    )
    bind_auditors(load_policy("p.yaml"))


def _one_requirement(metric, compare, threshold, auditor="fairness"):
    return (
        'name: p\nversion: "1"\nrequirements:\n  - id: r\n    title: t\n    citation: c\n'
        f"    auditor: {auditor}\n    metric: {metric}\n    compare: {compare}\n"
        f"    threshold: {threshold}\n"
    )


@pytest.mark.parametrize(
    ("metric", "compare", "threshold", "auditor", "expected"),
    [
        (
            "selection_rate",
            "at_most",
            1.5,
            "fairness",
            "p.yaml:10:5: requirements[0].threshold: at_most 1.5 on selection_rate is "
            "outside its values, which run from 0 to 1",
        ),
        (
            "demographic_parity_difference",
            "max_difference",
            1.2,
            "fairness",
            "p.yaml:10:5: requirements[0].threshold: max_difference 1.2 on "
            "demographic_parity_difference always passes: its values run from 0 to 1, so no "
            "two groups differ by more than 1",
        ),
        (
            "attribution_stability",
            "at_least",
            -2,
            "explanations",
            "p.yaml:10:5: requirements[0].threshold: at_least -2 on attribution_stability is "
            "outside its values, which run from -1 to 1",
        ),
        (
            "mean_absolute_error",
            "at_most",
            -0.5,
            "fairness",
            "p.yaml:10:5: requirements[0].threshold: at_most -0.5 on mean_absolute_error is "
            "outside its values, which run from 0 up",
        ),
    ],
)
def test_a_threshold_outside_the_metric_s_values_is_refused(
    write, metric, compare, threshold, auditor, expected
):
    # at_most 1.5 on a rate would pass every audit: a typo for 0.15, not a policy
    write("p.yaml", _one_requirement(metric, compare, threshold, auditor))
    with pytest.raises(PolicyError) as info:
        bind_auditors(load_policy("p.yaml"))
    assert str(info.value) == expected


@pytest.mark.parametrize(
    ("metric", "compare", "threshold"),
    [
        ("selection_rate", "at_most", 1.0),
        ("selection_rate", "at_least", 0),
        ("equalized_odds_difference", "max_difference", 1),
        ("mean_absolute_error", "at_most", 5000),
    ],
)
def test_a_threshold_at_the_edge_of_the_metric_s_values_is_accepted(
    write, metric, compare, threshold
):
    write("p.yaml", _one_requirement(metric, compare, threshold))
    bind_auditors(load_policy("p.yaml"))


def test_policy_validate_refuses_a_threshold_outside_the_values(write, capsys):
    write("p.yaml", _one_requirement("selection_rate", "at_most", 1.5))
    assert main(["policy", "validate", "p.yaml"]) == 2
    assert "outside its values" in capsys.readouterr().err


STRINGS_FOR_NUMBERS = (
    'name: p\nversion: "1"\nextends: four-fifths\nauditors:\n  fairness:\n'
    '    min_group_size: "30"\n    intersectional: "yes"\n    confidence_level: "0.95"\n'
)


def test_auditor_settings_are_strict_like_requirements(write):
    # A quoted number was read as the number, and "yes" as true: the policy that ran was
    # not the one written. Requirements already refuse a quoted threshold; settings too.
    write("p.yaml", STRINGS_FOR_NUMBERS)
    with pytest.raises(PolicyFileError) as info:
        bind_auditors(load_policy("p.yaml"))
    assert sorted(info.value.errors) == [
        "p.yaml:6:5: auditors.fairness.min_group_size: expected a whole number, got '30'",
        "p.yaml:7:5: auditors.fairness.intersectional: expected true or false, got 'yes'",
        "p.yaml:8:5: auditors.fairness.confidence_level: expected a number, got '0.95'",
    ]


def test_strict_settings_still_read_yaml_lists_and_names(write):
    # YAML writes no tuples or enums: a list is a tuple, a name a member of a choice
    write(
        "p.yaml",
        'name: p\nversion: "1"\nextends: four-fifths\nauditors:\n  fairness:\n'
        "    groupings: [[sex, race]]\n    unknown_group: exclude\n    significance_level: 0.01\n"
        "    rate_interval: clopper-pearson\n",
    )
    ((_, fairness),) = [b for b in bind_auditors(load_policy("p.yaml")) if b[0].name == "fairness"]
    assert fairness.groupings == (("sex", "race"),)
    assert fairness.significance_level == 0.01
    assert fairness.rate_interval == "clopper-pearson"

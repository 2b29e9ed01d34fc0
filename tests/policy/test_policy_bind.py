"""Binding a policy to the installed auditors: misspelled auditor names are errors."""

import pytest

from audit.cli.main import main
from audit.errors import PolicyError
from audit.policy import load_policy
from audit.policy.bind import bind_auditors

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

"""`policy explain` in plain language, `policy validate` with line:column, and honest packs."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.cli.main import main
from audit.policy import load_policy, parse_policy
from audit.policy.explain import explain_policy, explain_requirement

REQUIREMENT = """\
name: p
version: "1"
requirements:
  - id: r
    title: t
    citation: "29 CFR § 1607.4(D)"
    auditor: {auditor}
    metric: {metric}
    compare: {compare}
    threshold: {threshold}
    severity: {severity}
    group_by: {group_by}
"""


def _requirement(**fields):
    values = {
        "auditor": "fairness",
        "metric": "selection_rate",
        "compare": "ratio_to_max",
        "threshold": 0.8,
        "severity": "blocking",
        "group_by": "all",
        **fields,
    }
    return parse_policy(REQUIREMENT.format(**values)).policy.requirements[0]


def test_four_fifths_reads_as_the_rule():
    assert explain_requirement(_requirement(), sensitive=["sex", "race"]) == (
        "BLOCKING — For every group of sex, race and their combinations, the selection rate "
        "must be at least 80% of the highest group's (29 CFR § 1607.4(D))."
    )


@pytest.mark.parametrize(
    ("fields", "sensitive", "expected"),
    [
        ({"group_by": "each"}, ["sex", "race"], "For every group of sex and race, "),
        ({"group_by": "intersection"}, ["sex", "race"], "For every group of sex × race, "),
        ({"group_by": "[race]"}, [], "For every group of race, "),
        ({}, [], "For every group of each sensitive column and their combinations, "),
        (
            {"compare": "max_difference", "threshold": 0.1, "metric": "true_positive_rate"},
            [],
            "the true positive rate of the highest and of the lowest group must differ by at "
            "most 0.1",
        ),
        ({"compare": "at_most", "threshold": 0.1, "severity": "advisory"}, [], "ADVISORY — For "),
        (
            {"compare": "at_least", "threshold": 0.7},
            ["sex"],
            "the selection rate must be at least 0.7",
        ),
    ],
)
def test_every_comparison_and_grouping_has_words(fields, sensitive, expected):
    assert expected in explain_requirement(_requirement(**fields), sensitive=sensitive)


def test_every_pack_explains():
    for pack in ("four-fifths", "nyc-ll144", "eu-ai-act-high-risk"):
        lines = explain_policy(load_policy(pack).policy)
        assert lines and all(line.endswith(").") for line in lines)


def test_cli_explain_prints_each_requirement(capsys):
    assert main(["policy", "explain", "nyc-ll144", "--sensitive", "sex,race"]) == 0
    out = capsys.readouterr().out
    assert "ll144-impact-ratio-by-category: Impact ratios" in out
    assert "ADVISORY — For every group of sex and race, the " in out
    assert "is read against a benchmark, at least 80% of the highest group's" in out
    assert "(the cited text sets no threshold)" in out
    assert "citation unverified" in out
    assert "ADVISORY — For every group of sex × race," in out


def test_cli_explain_warns_of_auditors_not_installed(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(
        REQUIREMENT.format(
            auditor="no-such-auditor",
            metric="m",
            compare="at_most",
            threshold=0,
            severity="blocking",
            group_by="all",
        ),
        encoding="utf-8",
    )
    assert main(["policy", "explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert "auditor 'no-such-auditor' is not installed" in out and "(r)" in out


def test_validate_reports_every_file_with_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        REQUIREMENT.format(
            auditor="fairness",
            metric="selection_rate",
            compare="ratio_to_max",
            threshold="high",
            severity="blocking",
            group_by="all",
        ),
        encoding="utf-8",
    )
    assert main(["policy", "validate", str(bad), "four-fifths"]) == 2
    out, err = capsys.readouterr()
    assert f"{bad}:10:5: requirements[0].threshold: expected a number, got 'high'" in err
    assert "four-fifths: valid" in out
    assert err.rstrip().endswith("1 of 2 policy files invalid")


def test_unknown_auditor_is_refused_before_the_audit(tmp_path, capsys):
    text = REQUIREMENT.format(
        auditor="masking-not-here",
        metric="residual_identifiers",
        compare="at_most",
        threshold=0,
        severity="blocking",
        group_by="all",
    )
    path = tmp_path / "unknown.yaml"
    path.write_text(text)
    from audit import run_audit
    from audit.errors import PolicyError

    frame = pd.DataFrame({"y": [1, 0] * 40, "p": [1, 0] * 40, "sex": ["a"] * 40 + ["b"] * 40})
    with pytest.raises(
        PolicyError,
        match=r"unknown.yaml:\d+:\d+: requirements\[0\]\.auditor: "
        r"no auditor named 'masking-not-here' is installed",
    ):
        run_audit(model="column:p", data=frame, policy=path, target="y", sensitive=["sex"])
    assert main(["policy", "validate", str(path)]) == 2
    assert "no auditor named 'masking-not-here'" in capsys.readouterr().err


def test_shipped_pack_ids_are_stable():
    assert [r.id for r in load_policy("four-fifths").policy.requirements] == [
        "four-fifths-selection-rate",
        "four-fifths-selection-rate-intersectional",
        "four-fifths-significance",
    ]
    assert [r.id for r in load_policy("nyc-ll144").policy.requirements] == [
        "ll144-impact-ratio-by-category",
        "ll144-impact-ratio-intersectional",
        "ll144-significance",
    ]


def test_eu_pack_cites_articles_and_maps_annex_iv():
    policy = load_policy("eu-ai-act-high-risk").policy
    articles = {r.id: r.citation for r in policy.requirements}
    assert all("Regulation (EU) 2024/1689" in c for c in articles.values())
    assert "Art. 10(2)(f)" in articles["eu-art10-bias-selection-rate"]
    assert "Art. 13(3)(b)" in articles["eu-art13-accuracy-stated-per-group"]
    assert "Art. 15(1)" in articles["eu-art15-accuracy-gap"]
    assert all(r.description.startswith("Annex IV point") for r in policy.requirements)
    assert all(r.severity.value == "advisory" for r in policy.requirements)
    assert "not measured" in policy.description


def test_whole_population_metrics_name_no_groups(capsys):
    assert main(["policy", "explain", "gdpr-masking"]) == 0
    out = capsys.readouterr().out
    assert "For the data as a whole, the unmasked PII cells must be at most 0" in out
    assert "combinations" not in out
    assert main(["policy", "explain", "four-fifths"]) == 0
    out = capsys.readouterr().out
    assert "For every group of each sensitive column, " in out
    assert "For every group of the combination of the sensitive columns, " in out
    assert "a threshold of this policy's choice" in out

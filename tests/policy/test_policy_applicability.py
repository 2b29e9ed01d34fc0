"""Combined groups asked of an audit with one sensitive column; figures that must exist.

``group_by: intersection`` with one sensitive column has no combined groups: the finding
says so (never the per-column result again, never a PASS), and whether it gates the
audit is the requirement's ``if_single_column``.  ``compare: established`` asks that a
figure with its interval exists for every group, whatever its level.
"""

import pytest

from audit.core.findings import OverallVerdict, Severity, Verdict, overall_verdict
from audit.core.measurements import AuditorOutput, GroupStatus, GroupValue, MetricResult
from audit.errors import PolicyError
from audit.policy import Requirement, evaluate_policy, evaluate_requirement, load_policy
from audit.policy.explain import explain_requirement


def req(**change):
    base = {
        "id": "r",
        "title": "Four-fifths",
        "citation": "29 CFR 1607.4(D)",
        "auditor": "fairness",
        "metric": "selection_rate",
        "compare": "ratio_to_max",
        "threshold": 0.8,
        "group_by": "intersection",
    }
    return Requirement.model_validate({**base, **change})


def sex_rates(metric="selection_rate"):
    # 0.5 / 0.6 = 0.833: passes four-fifths for sex alone
    return MetricResult(
        metric=metric,
        auditor="fairness",
        grouping=("sex",),
        value=None,
        groups=(
            GroupValue("sex=F", 100, 0.5, 0.40, 0.60),
            GroupValue("sex=M", 100, 0.6, 0.50, 0.70),
        ),
    )


def test_intersection_with_one_column_is_not_the_per_column_result():
    (finding,) = evaluate_requirement(req(), [sex_rates()], sensitive=("sex",))
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert finding.grouping == ()
    assert finding.measured is None
    assert not finding.applies and not finding.blocks
    assert finding.summary.startswith("Not applicable: the audit has one sensitive column ('sex')")
    assert "0.833" not in finding.summary


def test_not_applicable_does_not_gate_a_passing_audit():
    policy = load_policy("four-fifths")
    outputs = [AuditorOutput("fairness", (sex_rates(),), method="")]
    findings = evaluate_policy(policy.policy, outputs, sensitive=("sex",))
    by_id = {f.requirement_id: f for f in findings}
    assert by_id["four-fifths-selection-rate"].verdict is Verdict.PASS
    combined = by_id["four-fifths-selection-rate-intersectional"]
    assert combined.verdict is Verdict.INCONCLUSIVE and not combined.applies
    assert combined.severity is Severity.BLOCKING  # the policy's word, kept
    assert overall_verdict(findings) is OverallVerdict.PASS


def test_not_applicable_alone_is_never_a_pass():
    findings = evaluate_requirement(req(), [sex_rates()], sensitive=("sex",))
    assert overall_verdict(findings) is OverallVerdict.INCONCLUSIVE


def test_not_applicable_does_not_make_an_advisory_audit_inconclusive():
    advisory = {"severity": "advisory"}
    findings = [
        *evaluate_requirement(req(**advisory), [sex_rates()], sensitive=("sex",)),
        *evaluate_requirement(
            req(id="s", group_by="each", **advisory), [sex_rates()], sensitive=("sex",)
        ),
    ]
    assert [f.applies for f in findings] == [False, True]
    assert overall_verdict(findings) is OverallVerdict.ADVISORY


def test_ll144_intersectional_categories_still_apply_with_sex_alone():
    # 6 RCNY 5-301 asks for the intersectional categories of sex and race/ethnicity
    policy = load_policy("nyc-ll144").policy
    (requirement,) = (r for r in policy.requirements if r.group_by == "intersection")
    assert requirement.if_single_column == "inconclusive"
    (finding,) = evaluate_requirement(requirement, [sex_rates("ll144_rate")], sensitive=("sex",))
    assert finding.verdict is Verdict.INCONCLUSIVE and finding.applies
    assert "add the other sensitive columns with --sensitive" in finding.reasons[0]
    blocking = requirement.model_copy(update={"severity": Severity.BLOCKING})
    (gated,) = evaluate_requirement(blocking, [sex_rates("ll144_rate")], sensitive=("sex",))
    assert gated.blocks


def test_every_shipped_intersection_requirement_says_what_one_column_means():
    from audit.policy import list_packs

    for name in list_packs():
        for r in load_policy(name).policy.requirements:
            if r.group_by == "intersection":
                assert "if_single_column" in r.model_fields_set, (name, r.id)


def test_if_single_column_needs_intersection():
    with pytest.raises(ValueError, match="group_by: intersection only"):
        req(group_by="each", if_single_column="inconclusive")


def test_explain_names_no_combined_groups():
    text = explain_requirement(req(), sensitive=("sex",))
    assert "the combinations of the sensitive columns (none: the audit has one, sex)" in text


# ------------------------------------------------------------------ established


def established(**change):
    base = {"metric": "accuracy", "compare": "established", "group_by": "each"}
    data = {
        "id": "acc",
        "title": "Accuracy stated per group",
        "citation": "Regulation (EU) 2024/1689, Art. 13(3)(b)(ii)",
        "auditor": "fairness",
        **base,
        **change,
    }
    return Requirement.model_validate(data)


def test_established_passes_on_any_level_with_its_interval():
    low = MetricResult(
        metric="accuracy",
        auditor="fairness",
        grouping=("sex",),
        value=None,
        groups=(
            GroupValue("sex=F", 400, 0.12, 0.09, 0.15),
            GroupValue("sex=M", 500, 0.91, 0.88, 0.93),
        ),
    )
    (finding,) = evaluate_requirement(established(), [low], sensitive=("sex",))
    assert finding.verdict is Verdict.PASS
    assert finding.measured == 2
    assert finding.summary.startswith(
        "Accuracy was established, with its confidence interval, for every sex group: "
        "sex=F 0.120 (interval 0.090 to 0.150, 400 rows)"
    )
    assert "benchmark" not in finding.summary and "threshold" not in finding.summary


def test_established_is_inconclusive_without_an_interval_or_with_a_small_group():
    no_interval = MetricResult(
        metric="accuracy",
        auditor="fairness",
        grouping=("sex",),
        value=None,
        groups=(GroupValue("sex=F", 400, 0.8), GroupValue("sex=M", 500, 0.9, 0.87, 0.92)),
    )
    (finding,) = evaluate_requirement(established(), [no_interval], sensitive=("sex",))
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert "accuracy has no confidence interval for sex=F" in finding.reasons[0]
    small = MetricResult(
        metric="accuracy",
        auditor="fairness",
        grouping=("sex",),
        value=None,
        groups=(
            GroupValue("sex=F", 12, 0.8, 0.5, 0.95, GroupStatus.SMALL),
            GroupValue("sex=M", 500, 0.9, 0.87, 0.92),
        ),
    )
    (finding,) = evaluate_requirement(established(), [small], sensitive=("sex",))
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert "for these sex groups: sex=M" in finding.summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": 0.0}, "compare: established takes no threshold"),
        ({"threshold_source": "benchmark"}, "compare: established compares with no benchmark"),
    ],
)
def test_established_refuses_a_threshold_or_benchmark(change, message):
    with pytest.raises(ValueError, match=message):
        established(**change)


def test_eu_pack_states_accuracy_per_group_as_established():
    policy = load_policy("eu-ai-act-high-risk").policy
    (r,) = (r for r in policy.requirements if r.id == "eu-art13-accuracy-stated-per-group")
    assert r.compare.value == "established"
    assert r.threshold_source != "benchmark"
    text = explain_requirement(r, sensitive=("sex",))
    assert "the accuracy must be established, with its confidence interval" in text


def test_established_threshold_in_a_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nversion: '1'\nrequirements:\n  - id: a\n    title: t\n    citation: c\n"
        "    auditor: fairness\n    metric: accuracy\n    compare: established\n"
        "    threshold: 0.5\n",
        encoding="utf-8",
    )
    with pytest.raises(
        PolicyError,
        match=r"p\.yaml:10:5: requirements\[0\]\.threshold: compare: established takes no "
        "threshold",
    ):
        load_policy(path)

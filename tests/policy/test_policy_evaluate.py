"""Verdicts on hand-made measurements: never a PASS built on missing data."""

import dataclasses

import pytest
from scipy.stats import fisher_exact

from audit.core.findings import Severity, Verdict
from audit.core.measurements import AuditorOutput, GroupStatus, GroupValue, MetricResult
from audit.policy import (
    Policy,
    Requirement,
    evaluate_policy,
    evaluate_requirement,
    load_policy,
    resolve_groupings,
)
from audit.policy import evaluate as E

SEX = ("sex",)


def req(**change):
    base = {
        "id": "r",
        "title": "Four-fifths",
        "citation": "29 CFR 1607.4(D)",
        "auditor": "fairness",
        "metric": "selection_rate",
        "compare": "ratio_to_max",
        "threshold": 0.8,
        "group_by": "each",
    }
    return Requirement.model_validate({**base, **change})


def groups(*specs):
    out = []
    for spec in specs:
        label, value, *rest = spec
        status = rest[0] if rest else GroupStatus.OK
        count = rest[1] if len(rest) > 1 else 100
        out.append(GroupValue(group=label, count=count, value=value, status=status))
    return tuple(out)


def result(*specs, metric="selection_rate", grouping=SEX, value=None, reason=None):
    return MetricResult(
        metric=metric,
        auditor="fairness",
        grouping=grouping,
        value=value,
        groups=groups(*specs),
        reason=reason,
    )


def one(requirement, results, sensitive=("sex",)):
    (finding,) = evaluate_requirement(requirement, results, sensitive=sensitive)
    return finding


# ------------------------------------------------------------------ ratio_to_max


def test_exactly_four_fifths_passes():
    f = one(req(), [result(("sex=Male", 0.30), ("sex=Female", 0.24))])
    assert f.verdict is Verdict.PASS
    assert f.measured == pytest.approx(0.8)
    assert f.worst_group == "sex=Female"
    assert f.reference_group == "sex=Male"
    assert f.summary == (
        "Selection rate of sex=Female is 0.80 of sex=Male's (0.240 vs 0.300); "
        "the threshold is 0.80. For sex=Female the difference is within what chance could "
        "explain: p = 0.213, Fisher's exact test (one-sided); 90% interval of the ratio "
        "0.544 to 1.177 (the two-sided match of a one-sided test at 0.05)."
    )


def test_four_fifths_just_below_in_floating_point_passes():
    assert 0.36 / 0.45 < 0.8  # floating point lands just below
    f = one(req(), [result(("sex=Male", 0.45), ("sex=Female", 0.36))])
    assert f.verdict is Verdict.PASS
    assert "is 0.80 of sex=Male's (0.360 vs 0.450)" in f.summary


def test_two_thirds_fails():
    f = one(req(), [result(("sex=Male", 0.30), ("sex=Female", 0.20))])
    assert f.verdict is Verdict.FAIL
    assert f.measured == pytest.approx(2 / 3)
    # p: scipy's fisher_exact([[20, 80], [30, 70]], alternative="less") = 0.0706;
    # interval: Katz at 90%, the match of a one-sided test at 0.05, as statsmodels'
    # Table2x2.riskratio_confint(alpha=0.1) gives it: exp(ln(2/3) -+ 1.645 * sqrt(...))
    assert f.summary == (
        "Selection rate of sex=Female is 0.67 of sex=Male's (0.200 vs 0.300); "
        "the threshold is 0.80. For sex=Female the difference is within what chance could "
        "explain: p = 0.071, Fisher's exact test (one-sided); 90% interval of the ratio "
        "0.441 to 1.009 (the two-sided match of a one-sided test at 0.05)."
    )
    assert f.requirement_id == "r"
    assert f.comparison == "ratio_to_max"
    assert f.threshold == 0.8
    assert f.severity is Severity.BLOCKING
    assert f.grouping == SEX
    assert f.blocks


@pytest.mark.parametrize(
    ("change", "specs"),
    [
        ({}, [("sex=Male", 0.30), ("sex=Female", 0.20), ("sex=Other", 0.10)]),
        ({"compare": "at_most", "threshold": 0.1}, [("sex=Male", 0.30), ("sex=Female", 0.20)]),
        ({"compare": "max_difference", "threshold": 0.05}, [("sex=Male", 0.3), ("sex=F", 0.2)]),
    ],
)
def test_a_benchmark_is_called_a_benchmark_not_a_threshold(change, specs):
    # LL144 sets no pass mark: a sentence saying "the threshold is 0.80" beside its citation
    # draws a legal line the cited text does not
    f = one(req(threshold_source="benchmark", **change), [result(*specs)])
    assert "the benchmark is" in f.summary
    assert "threshold" not in f.summary
    assert "the threshold is" in one(req(**change), [result(*specs)]).summary


def test_rounding_never_hides_a_failure():
    f = one(req(), [result(("a", 1.0), ("b", 0.7996))])
    assert f.verdict is Verdict.FAIL
    assert "is 0.7996 of a's" in f.summary
    assert "the threshold is 0.8000." in f.summary


def test_worst_group_is_lowest_of_many():
    f = one(
        req(),
        [result(("race=A", 0.5), ("race=B", 0.45), ("race=C", 0.3), grouping=("race",))],
        sensitive=("race",),
    )
    assert f.verdict is Verdict.FAIL
    assert (f.worst_group, f.reference_group) == ("race=C", "race=A")
    assert f.measured == pytest.approx(0.6)


def test_equal_rates_name_two_groups():
    f = one(req(), [result(("sex=Male", 0.3), ("sex=Female", 0.3))])
    assert f.verdict is Verdict.PASS
    assert f.worst_group != f.reference_group


def test_max_zero_is_inconclusive():
    f = one(req(), [result(("sex=Male", 0.0), ("sex=Female", 0.0))])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.measured is None
    assert f.reasons[0] == (
        "the highest selection rate is 0 in every compared group, so the ratio is undefined"
    )


def test_small_group_makes_a_pass_inconclusive():
    f = one(
        req(),
        [
            result(
                ("sex=Male", 0.30),
                ("sex=Female", 0.28),
                ("sex=Other", 0.0, GroupStatus.SMALL, 12),
            )
        ],
    )
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.measured == pytest.approx(0.28 / 0.30)
    assert f.reasons == ("group 'sex=Other' has 12 rows, too few to compare",)
    assert f.summary.endswith("Not every group could be compared, so this is not a pass.")
    assert f.blocks


def test_small_group_note_is_kept():
    r = MetricResult(
        metric="selection_rate",
        auditor="fairness",
        grouping=SEX,
        value=None,
        groups=(
            GroupValue("sex=Male", 100, 0.3),
            GroupValue("sex=Female", 100, 0.3),
            GroupValue("sex=Other", 12, 0.1, status=GroupStatus.SMALL, note="minimum is 30"),
        ),
    )
    assert one(req(), [r]).reasons == (
        "group 'sex=Other' has 12 rows, too few to compare: minimum is 30",
    )


def test_small_group_does_not_rescue_a_failure():
    f = one(
        req(),
        [
            result(
                ("sex=Male", 0.30),
                ("sex=Female", 0.15),
                ("sex=Other", 0.3, GroupStatus.SMALL, 5),
            )
        ],
    )
    assert f.verdict is Verdict.FAIL
    assert "group 'sex=Other' has 5 rows, too few to compare" in f.reasons


def test_undefined_group_makes_a_pass_inconclusive():
    f = one(
        req(compare="max_difference", threshold=0.1, metric="true_positive_rate"),
        [
            result(
                ("sex=Male", 0.6),
                ("sex=Female", 0.58),
                ("sex=Other", None, GroupStatus.UNDEFINED, 40),
                metric="true_positive_rate",
            )
        ],
    )
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons == ("true positive rate is undefined for group 'sex=Other' (40 rows)",)


def test_excluded_groups_listed_but_ignored():
    f = one(
        req(),
        [
            result(
                ("race=White", 0.30),
                ("race=Black", 0.27),
                ("race=Other", 0.01, GroupStatus.EXCLUDED, 3),
            )
        ],
    )
    assert f.verdict is Verdict.PASS
    assert f.reasons == ("excluded from comparison: 'race=Other' (3 rows)",)


def test_one_comparable_group_is_inconclusive():
    f = one(req(), [result(("sex=Male", 0.3), ("sex=Female", 0.1, GroupStatus.SMALL, 4))])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons == (
        "fewer than 2 groups could be compared",
        "group 'sex=Female' has 4 rows, too few to compare",
    )
    assert f.summary == (
        "Selection rate for sex could not be judged: fewer than 2 groups could be compared."
    )


def test_reason_without_values_is_inconclusive_with_the_reason():
    r = result(
        ("sex=Male", None, GroupStatus.UNDEFINED),
        ("sex=Female", None, GroupStatus.UNDEFINED),
        reason="the model predicted no positives",
    )
    f = one(req(), [r])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons[0] == "the model predicted no positives"


def test_missing_metric_is_inconclusive():
    f = one(req(), [result(("sex=Male", 0.3), ("sex=Female", 0.3), metric="accuracy")])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons == ("auditor 'fairness' measured no 'selection_rate'; it measured accuracy",)


def test_missing_grouping_is_inconclusive():
    results = [result(("sex=Male", 0.3), ("sex=Female", 0.3))]
    findings = evaluate_requirement(req(group_by="all"), results, sensitive=("sex", "race"))
    assert [f.grouping for f in findings] == [("sex",), ("race",), ("sex", "race")]
    assert [f.verdict for f in findings] == [
        Verdict.PASS,
        Verdict.INCONCLUSIVE,
        Verdict.INCONCLUSIVE,
    ]
    assert findings[1].reasons == ("auditor 'fairness' did not measure 'selection_rate' for race",)


def test_a_group_by_column_that_is_not_sensitive_is_named_as_the_reason():
    results = [result(("sex=Male", 0.3), ("sex=Female", 0.3))]
    (finding,) = evaluate_requirement(req(group_by=["race"]), results, sensitive=("sex",))
    assert finding.verdict is Verdict.INCONCLUSIVE
    assert finding.reasons == (
        "auditor 'fairness' did not measure 'selection_rate' for race; 'race' is not among "
        "the audit's sensitive columns (sex): add it with --sensitive",
    )


def test_other_auditors_results_ignored():
    r = MetricResult(
        metric="selection_rate",
        auditor="other",
        grouping=SEX,
        value=None,
        groups=groups(("sex=Male", 0.3), ("sex=Female", 0.3)),
    )
    assert one(req(), [r]).verdict is Verdict.INCONCLUSIVE


def test_grouping_matched_regardless_of_column_order():
    r = result(("a", 0.3), ("b", 0.3), grouping=("race", "sex"))
    f = one(req(group_by="intersection"), [r], sensitive=("sex", "race"))
    assert f.verdict is Verdict.PASS


def test_no_sensitive_columns_is_inconclusive():
    f = one(req(), [result(("sex=Male", 0.3), ("sex=Female", 0.3))], sensitive=())
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons == (
        "no sensitive columns to group by; 'selection_rate' was measured for sex: "
        "name them in group_by",
    )


def test_metric_measured_per_rule_asks_for_group_by():
    results = [result(("r=1", 1.0), grouping=("ssn-dropped",)), result(grouping=("email-hmac",))]
    f = one(req(), results, sensitive=())
    assert f.verdict is Verdict.INCONCLUSIVE
    assert "measured for email-hmac, ssn-dropped: name them in group_by" in f.reasons[0]


# ------------------------------------------------------------------ other comparisons


def test_max_difference_summary():
    f = one(
        req(compare="max_difference", threshold=0.1, metric="true_positive_rate"),
        [
            result(
                ("race=White", 0.61),
                ("race=Black", 0.49),
                metric="true_positive_rate",
                grouping=("race",),
            )
        ],
        sensitive=("race",),
    )
    assert f.verdict is Verdict.FAIL
    assert f.measured == pytest.approx(0.12)
    assert f.summary == (
        "The largest difference in true positive rate between race groups is 0.12 "
        "(race=White 0.610 vs race=Black 0.490); the threshold is 0.10."
    )


def test_max_difference_exactly_at_threshold_passes():
    f = one(
        req(compare="max_difference", threshold=0.1),
        [result(("a", 0.8), ("b", 0.7))],
    )
    assert 0.8 - 0.7 > 0.1  # floating point lands just above
    assert f.verdict is Verdict.PASS


def test_scalar_at_most():
    r = MetricResult(
        metric="demographic_parity_difference",
        auditor="fairness",
        grouping=SEX,
        value=0.05,
    )
    f = one(req(compare="at_most", threshold=0.1, metric="demographic_parity_difference"), [r])
    assert f.verdict is Verdict.PASS
    assert f.measured == 0.05
    assert f.worst_group is None
    assert f.summary == (
        "Demographic parity difference for sex is 0.05; the threshold is at most 0.10."
    )
    r2 = MetricResult("demographic_parity_difference", "fairness", SEX, value=0.15)
    f2 = one(req(compare="at_most", threshold=0.1, metric="demographic_parity_difference"), [r2])
    assert f2.verdict is Verdict.FAIL


def test_scalar_at_least_ratio_metric():
    r = MetricResult("demographic_parity_ratio", "fairness", SEX, value=0.79)
    f = one(req(compare="at_least", threshold=0.8, metric="demographic_parity_ratio"), [r])
    assert f.verdict is Verdict.FAIL


def test_scalar_without_value_is_inconclusive():
    r = MetricResult("demographic_parity_ratio", "fairness", SEX, value=None, reason="no rows")
    f = one(req(compare="at_least", threshold=0.8, metric="demographic_parity_ratio"), [r])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons == ("no rows",)


def test_ratio_on_scalar_is_inconclusive():
    r = MetricResult("demographic_parity_ratio", "fairness", SEX, value=0.9)
    f = one(req(metric="demographic_parity_ratio"), [r])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert (
        f.reasons[0]
        == "ratio_to_max compares groups, but 'demographic_parity_ratio' has a single value"
    )


def test_whole_population_metric_judged_once():
    r = MetricResult("epsilon", "privacy", (), value=3.0)
    requirement = req(auditor="privacy", metric="epsilon", compare="at_most", threshold=1.0)
    findings = evaluate_requirement(requirement, [r], sensitive=("sex", "race"))
    assert len(findings) == 1
    assert findings[0].grouping == ()
    assert findings[0].verdict is Verdict.FAIL
    assert findings[0].summary == "Epsilon is 3; the threshold is at most 1."  # whole numbers


def test_grouped_at_most_checks_every_group():
    requirement = req(compare="at_most", threshold=0.1, metric="false_positive_rate")
    r = result(("sex=Male", 0.05), ("sex=Female", 0.12), metric="false_positive_rate")
    f = one(requirement, [r])
    assert f.verdict is Verdict.FAIL
    assert f.worst_group == "sex=Female"
    assert f.summary == (
        "The highest false positive rate among sex groups is 0.12 (sex=Female); "
        "the threshold is at most 0.10."
    )


def test_a_metric_with_groups_of_its_own_reads_of_any_group_in_whole_numbers():
    # a masking count per entity: no sensitive column names its groups, and cells are whole
    counts = MetricResult(
        metric="unmasked_pii_cells",
        auditor="masking",
        grouping=(),
        value=1275.0,
        groups=groups(("entity=EMAIL_ADDRESS", 25.0), ("entity=IBAN_CODE", 1250.0)),
    )
    requirement = req(auditor="masking", metric="unmasked_pii_cells", compare="at_most")
    f = one(requirement.model_copy(update={"threshold": 0.0, "group_by": None}), [counts], ())
    assert f.verdict is Verdict.FAIL
    assert f.summary == (
        "The highest unmasked PII cells of any group is 1,250 (entity=IBAN_CODE); "
        "the threshold is at most 0. Every group over the threshold: "
        "entity=IBAN_CODE 1,250, entity=EMAIL_ADDRESS 25."
    )
    spread = req(auditor="masking", metric="unmasked_pii_cells", compare="max_difference")
    f = one(spread.model_copy(update={"threshold": 10.0, "group_by": None}), [counts], ())
    assert f.summary.startswith(
        "The largest difference in unmasked PII cells between any two groups is 1,225 "
    )


def test_grouped_at_least_uses_lowest():
    requirement = req(compare="at_least", threshold=0.7, metric="accuracy")
    r = result(("sex=Male", 0.9), ("sex=Female", 0.7), metric="accuracy")
    f = one(requirement, [r])
    assert f.verdict is Verdict.PASS
    assert f.worst_group == "sex=Female"


# ------------------------------------------------------------------ group_by, policy


@pytest.mark.parametrize(
    ("group_by", "sensitive", "expected"),
    [
        ("each", ("sex", "race"), (("sex",), ("race",))),
        ("intersection", ("sex", "race"), (("sex", "race"),)),
        ("intersection", ("sex",), ()),  # one column has no combined groups
        ("all", ("sex", "race"), (("sex",), ("race",), ("sex", "race"))),
        ("all", ("sex",), (("sex",),)),
        ("all", (), ()),
        (("race", "age"), ("sex", "race", "age"), (("race", "age"),)),
    ],
)
def test_resolve_groupings(group_by, sensitive, expected):
    assert resolve_groupings(group_by, sensitive) == expected


def test_evaluate_policy_auditor_did_not_run():
    policy = Policy(
        name="p",
        version="1",
        requirements=[
            req(),
            req(id="priv", auditor="privacy", metric="epsilon", compare="at_most", threshold=1),
        ],
    )
    output = AuditorOutput(
        auditor="fairness",
        metrics=(result(("sex=Male", 0.3), ("sex=Female", 0.3)),),
        method="m",
    )
    findings = evaluate_policy(policy, [output], sensitive=["sex"])
    assert [(f.requirement_id, f.verdict) for f in findings] == [
        ("r", Verdict.PASS),
        ("priv", Verdict.INCONCLUSIVE),
    ]
    assert findings[1].reasons == ("auditor 'privacy' did not run",)
    assert findings[1].summary == "Epsilon could not be judged: auditor 'privacy' did not run."


def test_nyc_pack_findings_are_advisory():
    policy = load_policy("nyc-ll144").policy
    output = AuditorOutput(
        auditor="fairness",
        metrics=(
            result(("sex=Male", 0.3), ("sex=Female", 0.1), metric="ll144_rate"),
            result(("race=A", 0.3), ("race=B", 0.3), grouping=("race",), metric="ll144_rate"),
            result(
                ("sex=Male, race=A", 0.3),
                ("sex=Female, race=B", 0.3),
                grouping=("sex", "race"),
                metric="ll144_rate",
            ),
        ),
        method="m",
    )
    findings = [
        f
        for f in evaluate_policy(policy, [output], sensitive=["sex", "race"])
        if f.requirement_id.startswith("ll144-impact")
    ]
    assert [(f.grouping, f.verdict) for f in findings] == [
        (("sex",), Verdict.FAIL),
        (("race",), Verdict.PASS),
        (("sex", "race"), Verdict.PASS),
    ]
    assert not any(f.blocks for f in findings)


def test_tolerance_is_tiny():
    assert E.TOLERANCE <= 1e-9
    f = one(req(), [result(("a", 1.0), ("b", 0.8 - 1e-6))])
    assert f.verdict is Verdict.FAIL


def test_every_group_too_small_says_so_not_that_nothing_was_measured():
    small = GroupStatus.SMALL
    f = one(
        req(compare="at_most", threshold=0.1),
        [result(("sex=Female", 0.3, small, 4), ("sex=Male", 0.2, small, 6))],
    )
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons[0] == "no group could be compared"
    assert any("'sex=Female' has 4 rows, too few to compare" in r for r in f.reasons)
    assert not any("no value was measured" in r for r in f.reasons)


@pytest.mark.parametrize(
    ("metric", "worst", "other"),
    [
        ("accuracy", "sex=Female", "sex=Male"),
        ("true_positive_rate", "sex=Female", "sex=Male"),
        ("mean_absolute_error", "sex=Male", "sex=Female"),
        ("false_negative_rate", "sex=Male", "sex=Female"),
    ],
)
def test_the_worst_group_of_a_gap_is_the_worse_off_one(metric, worst, other):
    # the chart marks worst_group "(worst)": for an error it is the group with the higher one
    f = one(
        req(metric=metric, compare="max_difference", threshold=0.01),
        [result(("sex=Male", 0.9), ("sex=Female", 0.7), metric=metric)],
    )
    assert (f.worst_group, f.reference_group) == (worst, other)


# ------------------------------------------------------------------ groups past the limit


def test_every_group_past_an_at_least_bound_is_named():
    requirement = req(compare="at_least", threshold=0.7, metric="accuracy")
    r = result(
        ("race=A", 0.9), ("race=B", 0.65), ("race=C", 0.6), metric="accuracy", grouping=("race",)
    )
    f = one(requirement, [r], ("race",))
    assert f.verdict is Verdict.FAIL
    assert f.summary.endswith(" Every group under the threshold: race=C 0.60, race=B 0.65.")


def test_one_group_past_the_bound_is_not_listed_twice():
    requirement = req(compare="at_most", threshold=0.1, metric="false_positive_rate")
    r = result(("sex=Male", 0.05), ("sex=Female", 0.12), metric="false_positive_rate")
    assert "Every group" not in one(requirement, [r]).summary


# ------------------------------------------------------------------ several groups tested


def test_ratio_evidence_allows_for_several_groups_tested_against_one_reference():
    # Fisher one-sided p of 24/38 against 241/310 is 0.0407; with 20/31 (p 0.0794) and
    # 89/121 (p 0.2120) tested against the same reference, statsmodels' multipletests
    # (method="holm") gives 0.1220: not beyond chance at the 0.05 level
    r = result(
        ("g=ref", 241 / 310, GroupStatus.OK, 310),
        ("g=a", 24 / 38, GroupStatus.OK, 38),
        ("g=b", 20 / 31, GroupStatus.OK, 31),
        ("g=c", 89 / 121, GroupStatus.OK, 121),
        grouping=("g",),
    )
    f = one(req(), [r], ("g",))
    assert f.worst_group == "g=a"
    assert (
        "For g=a the difference is within what chance could explain: p = 0.122, Fisher's "
        "exact test (one-sided), Holm-adjusted for the 3 groups compared with g=ref; "
        "90% interval of the ratio 0.659 to 1.002 (the two-sided match of a one-sided test at "
        "0.05)."
    ) in f.summary


# ------------------------------------------------------------------ unknown rows


def _with_unknown(unknown_count, unknown_rate, metric="selection_rate"):
    unknown = GroupValue(
        group="sex=unknown",
        count=unknown_count,
        value=unknown_rate,
        status=GroupStatus.EXCLUDED,
        note="unknown category: reported, not compared",
    )
    r = result(
        ("sex=F", 0.5, GroupStatus.OK, 1000), ("sex=M", 0.45, GroupStatus.OK, 1000), metric=metric
    )
    return MetricResult(
        metric=r.metric,
        auditor=r.auditor,
        grouping=r.grouping,
        value=None,
        groups=(*r.groups, unknown),
    )


def test_a_pass_that_unknown_rows_could_overturn_is_inconclusive():
    # 1,900 unknown rows, half selected: the 950 misses with sex=M give 450/1950 = 0.231,
    # the 950 hits with sex=F give 1450/1950 = 0.744; their ratio is 0.31, under 0.80
    f = one(req(), [_with_unknown(1900, 0.5)])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.measured == pytest.approx(0.9)
    assert f.reasons[0] == (
        "1,900 rows of unknown sex were left out of the comparison and could change the "
        "verdict: placed in the groups in the way least favourable to this requirement, "
        "the ratio would be 0.31 against the threshold of 0.80"
    )


def test_a_pass_that_unknown_rows_cannot_overturn_stands_and_says_so():
    # 10 unknown rows, 5 selected: 450/1005 over 505/1005 = 0.891, still over 0.80
    f = one(req(), [_with_unknown(10, 0.5)])
    assert f.verdict is Verdict.PASS
    assert (
        "10 rows of unknown sex were left out of the comparison; placed in the groups in "
        "the way least favourable to this requirement, the ratio would be 0.89, which still "
        "meets the threshold"
    ) in f.reasons


def test_unknown_rows_of_a_rate_with_its_own_denominator_leave_a_pass_inconclusive():
    requirement = req(compare="max_difference", threshold=0.1, metric="true_positive_rate")
    f = one(requirement, [_with_unknown(10, 0.5, metric="true_positive_rate")])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons[0].startswith("10 rows of unknown sex were left out of the comparison and ")


def test_the_ll144_unknown_category_is_left_out_as_the_rule_says():
    requirement = req(metric="ll144_rate")
    f = one(requirement, [_with_unknown(1900, 0.5, metric="ll144_rate")])
    assert f.verdict is Verdict.PASS
    assert f.reasons == ("excluded from comparison: 'sex=unknown' (1900 rows)",)


def _significance_with_unknown(unknown_count):
    r = _with_unknown(unknown_count, 0.5)
    groups = (r.groups[0], dataclasses.replace(r.groups[1], value=0.48), r.groups[2])
    return dataclasses.replace(r, groups=groups)


SIGNIFICANCE = {"compare": "significance", "threshold": 0.05, "test": "fisher", "adjust": "holm"}


def test_a_significance_pass_that_unknown_rows_cannot_overturn_stands():
    # F 500/1000, M 480/1000, 10 unknown rows of which 5 selected.  The least favourable
    # placement: the 5 misses with M (480/1005), the 5 hits with F (505/1005).
    f = one(req(**SIGNIFICANCE), [_significance_with_unknown(10)])
    worst = fisher_exact([[480, 1005 - 480], [505, 1005 - 505]], alternative="less").pvalue
    assert worst > 0.05
    assert f.verdict is Verdict.PASS
    held = [r for r in f.reasons if r.startswith("10 rows of unknown sex")]
    assert held == [
        "10 rows of unknown sex were left out of the comparison; placed in the groups in the "
        f"way least favourable to this requirement, the smallest p-value would be {worst:.2f}, "
        "which still meets the threshold"
    ]


def test_a_significance_pass_that_unknown_rows_could_overturn_is_inconclusive():
    # 200 unknown rows, 100 selected: M 480/1100 against F 600/1100 is far beyond chance
    f = one(req(**SIGNIFICANCE), [_significance_with_unknown(200)])
    worst = fisher_exact([[480, 1100 - 480], [600, 1100 - 600]], alternative="less").pvalue
    assert worst < 0.05
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.reasons[0].startswith(
        "200 rows of unknown sex were left out of the comparison and could change the verdict: "
        "placed in the groups in the way least favourable to this requirement, the smallest "
        "p-value would be "
    )


# ------------------------------------------------------------------ intervals of set-aside groups


def _drops(small_low, small_high, small_value):
    big = GroupValue(group="sex=F", count=400, value=0.01, ci_low=0.0, ci_high=0.03)
    small = GroupValue(
        group="sex=M",
        count=40,
        value=small_value,
        ci_low=small_low,
        ci_high=small_high,
        status=GroupStatus.SMALL,
        note="the drop's interval is too wide",
    )
    return MetricResult(
        metric="accuracy_drop_by_group",
        auditor="privacy",
        grouping=SEX,
        value=None,
        groups=(big, small),
    )


def _at_most_drop():
    return req(
        auditor="privacy", metric="accuracy_drop_by_group", compare="at_most", threshold=0.05
    )


def test_a_set_aside_group_whose_whole_interval_is_past_the_limit_fails():
    # 40 rows are too few to pass on, but 0.09 to 0.31 is above 0.05 wherever the truth lies
    f = one(_at_most_drop(), [_drops(0.09, 0.31, 0.2)])
    assert f.verdict is Verdict.FAIL
    assert f.worst_group == "sex=M"
    assert "for sex=M 0.200 (interval 0.090 to 0.310, 40 rows) the whole interval is above" in (
        f.summary
    )


def test_a_set_aside_group_whose_interval_straddles_the_limit_leaves_it_open():
    f = one(_at_most_drop(), [_drops(-0.02, 0.2, 0.09)])
    assert f.verdict is Verdict.INCONCLUSIVE


def test_a_single_value_with_a_reservation_does_not_speak_of_groups():
    requirement = req(metric="attack_auc", auditor="privacy", compare="at_most", threshold=0.6)
    r = MetricResult("attack_auc", "privacy", (), 0.52, reason="the interval is too wide")
    f = one(requirement, [r])
    assert f.verdict is Verdict.INCONCLUSIVE
    assert f.summary.endswith(
        "It was measured with a reservation (see the reasons), so this is not a pass."
    )

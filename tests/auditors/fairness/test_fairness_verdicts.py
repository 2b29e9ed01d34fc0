"""Verdicts built on the fairness auditor: significance, the combined rule, scoped exclusions,
summary metrics that left a group out, and findings that name every group below the benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from audit import run_audit
from audit.core.findings import Verdict
from audit.policy.evaluate import evaluate_requirement
from audit.policy.schema import Requirement


def _rows(sizes_and_rates: dict[str, tuple[int, float]]) -> pd.DataFrame:
    groups, decisions = [], []
    for name, (size, rate) in sizes_and_rates.items():
        selected = round(size * rate)
        groups += [name] * size
        decisions += [1] * selected + [0] * (size - selected)
    return pd.DataFrame({"race": groups, "y": decisions, "decision": decisions})


def _requirement(**fields) -> Requirement:
    base = {
        "id": "r",
        "title": "t",
        "citation": "c",
        "auditor": "fairness",
        "metric": "selection_rate",
        "group_by": "each",
    }
    return Requirement(**{**base, **fields})


def _measure(run_audit_fixture, frame):
    y = frame["y"].to_numpy()
    return run_audit_fixture(frame[["race"]], y, y, ["race"]).metrics


def test_significance_fails_on_a_difference_larger_than_chance(run_audit):
    frame = _rows({"A": (400, 0.30), "B": (300, 0.45)})
    requirement = _requirement(compare="significance", alpha=0.05)
    (finding,) = evaluate_requirement(requirement, _measure(run_audit, frame), sensitive=["race"])
    expected = fisher_exact([[120, 280], [135, 165]], alternative="less").pvalue
    assert finding.verdict is Verdict.FAIL
    assert finding.measured == pytest.approx(expected, abs=1e-12)
    assert "larger than chance would explain" not in finding.summary  # that is the table's
    assert "lower than race=B's by more than chance would explain" in finding.summary
    assert "Fisher's exact test (one-sided)" in finding.summary


def test_a_p_value_just_under_the_level_is_never_shown_as_the_level(run_audit):
    # German Credit's men under 25 against those over, under a logistic model: 46 of 65
    # against 503 of 625; scipy's one-sided Fisher p is 0.0497, which three decimals
    # would show as "p = 0.050" beside "larger than chance would explain at the 0.05 level"
    frame = _rows({"A": (65, 46 / 65), "B": (625, 503 / 625)})
    expected = fisher_exact([[46, 19], [503, 122]], alternative="less").pvalue
    assert 0.0495 < expected < 0.05
    metrics = _measure(run_audit, frame)
    (significance,) = evaluate_requirement(
        _requirement(compare="significance", alpha=0.05), metrics, sensitive=["race"]
    )
    assert significance.verdict is Verdict.FAIL
    assert f"smallest p = {expected:.4f} (race=A)" in significance.summary
    (ratio,) = evaluate_requirement(
        _requirement(compare="ratio_to_max", threshold=0.8), metrics, sensitive=["race"]
    )
    assert f"larger than chance would explain: p = {expected:.4f}" in ratio.summary


def test_the_combined_rule_flags_only_significant_shortfalls(run_audit):
    frame = _rows({"A": (40, 0.30), "B": (40, 0.45)})  # ratio 0.67, Fisher p about 0.12
    metrics = _measure(run_audit, frame)
    plain = _requirement(compare="ratio_to_max", threshold=0.8)
    combined = _requirement(compare="ratio_to_max", threshold=0.8, alpha=0.05)
    (ratio_only,) = evaluate_requirement(plain, metrics, sensitive=["race"])
    (both,) = evaluate_requirement(combined, metrics, sensitive=["race"])
    assert ratio_only.verdict is Verdict.FAIL
    assert both.verdict is Verdict.PASS
    assert "no group is flagged" in both.summary
    assert both.measured == pytest.approx(ratio_only.measured, abs=1e-12)


def test_every_group_below_the_threshold_is_named(run_audit):
    frame = _rows({"A": (300, 0.50), "B": (300, 0.35), "C": (300, 0.30), "D": (300, 0.45)})
    requirement = _requirement(compare="ratio_to_max", threshold=0.8)
    (finding,) = evaluate_requirement(requirement, _measure(run_audit, frame), sensitive=["race"])
    assert "race=C 0.600, race=B 0.700" in finding.summary
    assert "race=D" not in finding.summary.split("under the threshold:")[1]


def test_ll144_exclusion_does_not_change_the_four_fifths_verdict(tmp_path):
    # a group under 2% of the rows with an impact ratio of 0.24 (issue #20)
    frame = _rows({"A": (3000, 0.50), "B": (2000, 0.48), "C": (100, 0.12)})
    policy = tmp_path / "combined.yaml"
    policy.write_text(
        'name: combined\nversion: "1"\nextends: [four-fifths, nyc-ll144]\n', encoding="utf-8"
    )
    result = run_audit(
        model="column:decision",
        data=frame,
        policy=policy,
        target="y",
        sensitive=["race"],
        features=["decision"],
        positive_label=1,
    )
    four_fifths = next(
        f for f in result.findings if f.requirement_id == "four-fifths-selection-rate"
    )
    assert four_fifths.verdict is Verdict.FAIL
    assert four_fifths.worst_group == "race=C"
    assert four_fifths.measured == pytest.approx(0.24, abs=1e-9)
    ll144 = next(f for f in result.findings if f.requirement_id == "ll144-impact-ratio-by-category")
    assert any("race=C" in reason for reason in ll144.reasons)  # LL144 excludes it, and says so


def test_a_summary_metric_that_left_a_group_out_is_not_a_pass(run_audit):
    # issue #21.5: A 500 @0.50, B 500 @0.48, C 10 @0.0
    frame = _rows({"A": (500, 0.50), "B": (500, 0.48), "C": (10, 0.0)})
    truth = np.arange(len(frame)) % 2  # both classes in every group: every rate defined
    metrics = run_audit(frame[["race"]], truth, frame["decision"].to_numpy(), ["race"]).metrics
    for metric, compare, threshold in (
        ("demographic_parity_difference", "at_most", 0.1),
        ("demographic_parity_ratio", "at_least", 0.8),
        ("equalized_odds_difference", "at_most", 0.1),
        ("equalized_odds_ratio", "at_least", 0.8),
    ):
        requirement = _requirement(metric=metric, compare=compare, threshold=threshold)
        (finding,) = evaluate_requirement(requirement, metrics, sensitive=["race"])
        assert finding.verdict is Verdict.INCONCLUSIVE, metric
        assert any("race=C" in reason for reason in finding.reasons), metric


def test_a_summary_metric_over_every_group_still_passes(run_audit):
    frame = _rows({"A": (500, 0.50), "B": (500, 0.48)})
    requirement = _requirement(
        metric="demographic_parity_difference", compare="at_most", threshold=0.1
    )
    (finding,) = evaluate_requirement(requirement, _measure(run_audit, frame), sensitive=["race"])
    assert finding.verdict is Verdict.PASS
    assert np.isclose(finding.measured, 0.02)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"metric": "accuracy", "compare": "ratio_to_max", "threshold": 0.8, "alpha": 0.05},
            "significance tests need counts of selections",
        ),
        (
            {"compare": "at_most", "threshold": 0.1, "alpha": 0.05},
            "alpha applies to compare: ratio_to_max or significance only",
        ),
        (
            {"compare": "significance", "threshold": 1.5},
            "a significance threshold is the level alpha",
        ),
        (
            {"compare": "significance", "threshold": 0.05, "alpha": 0.01},
            "give alpha or threshold, not both",
        ),
    ],
)
def test_significance_settings_are_checked(fields, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        _requirement(**fields)


def test_significance_takes_alpha_as_its_threshold():
    requirement = _requirement(compare="significance", alpha=0.01)
    assert requirement.threshold == 0.01

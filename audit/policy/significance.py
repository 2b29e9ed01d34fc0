"""Significance in verdicts: a group's lower selection rate against chance.

Two rules use it (see :class:`~audit.policy.schema.Requirement`):

- ``compare: significance``: FAIL when any compared group's selection rate is lower
  than the reference group's (the highest) by more than chance would explain, i.e.
  its p-value is under ``alpha``;
- ``compare: ratio_to_max`` with ``alpha``, the combined rule practitioners use:
  a group below the ratio threshold fails only when its difference is also
  significant.

A group's selections are its rate times its size (the metric is a share of the
group's rows), so the tests need no more than the measured values and counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.core.measurements import GroupValue
from audit.core.readings import p_value_text
from audit.core.wording import humanize
from audit.policy.schema import SIGNIFICANCE_METRICS, Requirement
from audit.stats.adverse_impact import TEST_NAMES, ReferenceTests, against_reference

__all__ = [
    "DEFAULT_ALPHA",
    "SignificanceOutcome",
    "combined_rule",
    "least_favourable_p",
    "ratio_evidence",
    "selections",
    "significance_rule",
]

DEFAULT_ALPHA = 0.05
"""The level at which a ratio finding reads its p-value when the requirement sets none."""


@dataclass(frozen=True)
class SignificanceOutcome:
    """What a significance rule found."""

    passed: bool
    measured: float
    """The smallest p-value (adjusted when asked)."""
    sentence: str
    worst: str | None


def selections(groups: Sequence[GroupValue]) -> list[int]:
    """Each group's selections: its rate times its size (the metric is a share of its rows)."""
    return [round((g.value or 0.0) * g.count) for g in groups]


def _test_words(req: Requirement, tests: ReferenceTests) -> str:
    words = TEST_NAMES[req.test] + (" (two-sided)" if req.test == "z" else " (one-sided)")
    if tests.tested > 1:
        words += f"; {tests.tested} groups were tested against the same reference"
        words += ", Holm-adjusted" if req.adjust == "holm" else ", not adjusted for that"
    return words


def _tests(req: Requirement, groups: Sequence[GroupValue], top: GroupValue) -> ReferenceTests:
    selected = selections(groups)
    return against_reference(
        selected,
        [g.count for g in groups],
        groups.index(top),
        test=req.test,
        adjust=req.adjust,
    )


def _alpha(req: Requirement) -> float:
    return req.alpha if req.alpha is not None else req.threshold


def significance_rule(
    req: Requirement, groups: Sequence[GroupValue], top: GroupValue
) -> SignificanceOutcome:
    """Judge ``compare: significance`` over the compared ``groups`` (``top`` the reference)."""
    tests = _tests(req, groups, top)
    alpha = _alpha(req)
    lower = [
        (p, g)
        for p, g in zip(tests.p_values, groups, strict=True)
        if p is not None and (g.value or 0.0) < (top.value or 0.0)
    ]
    if not lower:
        return SignificanceOutcome(
            True, 1.0, f"No compared group's rate is lower than {top.group}'s.", None
        )
    smallest, worst = min(lower, key=lambda pair: pair[0])
    significant = [g.group for p, g in lower if p < alpha]
    words = _test_words(req, tests)
    metric = humanize(req.metric)
    if significant:
        subject = (
            f"The {metric} of {significant[0]} is"
            if len(significant) == 1
            else f"The {metric}s of {', '.join(significant)} are"
        )
        sentence = (
            f"{subject} lower than {top.group}'s by more than chance would explain at the "
            f"{alpha:g} level: smallest {p_value_text(smallest, alpha)} ({worst.group}), {words}."
        )
    else:
        sentence = (
            f"No group's lower {metric} is larger than chance would explain at the "
            f"{alpha:g} level: smallest {p_value_text(smallest, alpha)} ({worst.group}, against "
            f"{top.group}), {words}."
        )
    return SignificanceOutcome(not significant, smallest, sentence, worst.group)


def least_favourable_p(
    req: Requirement, groups: Sequence[GroupValue], hits: int, misses: int
) -> float | None:
    """The smallest p-value ``significance_rule`` could find with rows of unknown group added.

    The unknown rows (``hits`` selected, ``misses`` not) may belong to any compared group.
    Adding misses to a group lowers its rate and adding hits raises one, each making a
    lower group's test more extreme, so no placement gives a smaller p-value than some
    group ``L`` with every miss tested against some group ``H`` with every hit.  The
    smallest of those raw p-values, times the number of groups tested under Holm's
    adjustment (its first step), bounds the rule's smallest p-value from below: when it is
    not under alpha, no placement of the unknown rows makes a difference significant.
    ``None`` when the metric gives no counts to test.
    """
    if req.metric not in SIGNIFICANCE_METRICS or len(groups) < 2:
        return None
    selected = selections(groups)
    smallest = 1.0
    for low, group in enumerate(groups):
        for high, reference in enumerate(groups):
            lowered = selected[low] / (group.count + misses)
            raised = (selected[high] + hits) / (reference.count + hits)
            if low == high or lowered >= raised:  # the rule tests only lower groups
                continue
            tests = against_reference(
                [selected[low], selected[high] + hits],
                [group.count + misses, reference.count + hits],
                1,
                test=req.test,
            )
            p_value = tests.p_values[0]
            if p_value is not None:
                smallest = min(smallest, p_value)
    tested = len(groups) - 1
    return min(1.0, smallest * tested) if req.adjust == "holm" else smallest


def combined_rule(
    req: Requirement,
    groups: Sequence[GroupValue],
    top: GroupValue,
    below: Sequence[GroupValue],
) -> tuple[bool, str]:
    """The combined rule: of the groups ``below`` the ratio threshold, which differ significantly.

    Returns whether the requirement passes and a sentence to add to the finding.
    """
    tests = _tests(req, groups, top)
    alpha = _alpha(req)
    p_of = {g.group: p for p, g in zip(tests.p_values, groups, strict=True) if p is not None}
    words = _test_words(req, tests)
    if not below:
        return True, ""
    parts = []
    failing = []
    for g in below:
        p = p_of[g.group]
        reading = "larger than chance would explain" if p < alpha else "within chance"
        parts.append(f"{g.group}: {reading}, {p_value_text(p, alpha)}")
        if p < alpha:
            failing.append(g.group)
    sentence = f" Against {top.group}: " + "; ".join(parts) + f" ({words}, alpha {alpha:g})."
    if not failing:
        sentence += (
            " Under the combined rule (a ratio under the threshold and a significant "
            "difference) no group is flagged."
        )
    return not failing, sentence


def ratio_evidence(
    req: Requirement, groups: Sequence[GroupValue], top: GroupValue, bottom: GroupValue
) -> str:
    """Words on the lowest ratio's p-value and interval, for a ratio finding of a rate.

    Where several groups were compared with the reference, the p-value is Holm-adjusted
    for them: the lowest of several unadjusted p-values would read as a difference beyond
    chance more often than the stated level allows.  Empty when the metric is not a share
    of the group's rows (no counts to test).
    """
    if req.metric not in SIGNIFICANCE_METRICS or bottom is top or not top.value:
        return ""
    # A one-sided test at alpha excludes a ratio of 1 exactly when the two-sided interval
    # at 1 - 2 alpha does: that interval is the one shown beside its p-value.
    one_sided = req.test != "z"
    level = 1.0 - (2 if one_sided else 1) * DEFAULT_ALPHA
    tests = against_reference(
        selections(groups),
        [g.count for g in groups],
        list(groups).index(top),
        test=req.test,
        adjust="holm",
        confidence_level=level,
    )
    at = list(groups).index(bottom)
    comparison, p_value = tests.comparisons[at], tests.p_values[at]
    if comparison is None or p_value is None:
        return ""
    reading = (
        "larger than chance would explain"
        if p_value < DEFAULT_ALPHA
        else "within what chance could explain"
    )
    words = TEST_NAMES[req.test] + (" (two-sided)" if req.test == "z" else " (one-sided)")
    if tests.tested > 1:
        words += f", Holm-adjusted for the {tests.tested} groups compared with {top.group}"
    interval = ""
    if comparison.ratio_low is not None and comparison.ratio_high is not None:
        interval = (
            f"; {level:.0%} interval of the ratio {comparison.ratio_low:.3f} to "
            f"{comparison.ratio_high:.3f}"
        )
        if one_sided:
            interval += f" (the two-sided match of a one-sided test at {DEFAULT_ALPHA:g})"
    shown = p_value_text(p_value, DEFAULT_ALPHA)
    return f" For {bottom.group} the difference is {reading}: {shown}, {words}{interval}."

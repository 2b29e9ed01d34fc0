"""Verdicts: a requirement compared with what the auditors measured.

The rule throughout: never a PASS built on missing data.  A grouping that was
not measured, a metric with no value, fewer than two comparable groups, or a
passing comparison that had to leave small or undefined groups out gives
INCONCLUSIVE.  A failing comparison stays FAIL whatever was left out, because
the failure among the groups that were compared is real.  Groups excluded by a
stated rule (e.g. NYC LL144's under-2% categories) are listed, and do not affect
the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.core.findings import Finding, Verdict
from audit.core.groups import UNKNOWN_NOTE
from audit.core.measurements import AuditorOutput, GroupStatus, GroupValue, MetricResult
from audit.core.readings import decimals_apart, whole_numbers
from audit.core.wording import HIGHER_IS_WORSE, humanize, sentence_case
from audit.policy.schema import Comparison, GroupBy, Policy, Requirement
from audit.policy.significance import combined_rule, ratio_evidence, significance_rule
from audit.policy.unknown_rows import least_favourable

__all__ = ["TOLERANCE", "evaluate_policy", "evaluate_requirement", "resolve_groupings"]

TOLERANCE = 1e-12
"""Slack in every comparison, so that a ratio of exactly 0.8 passes a 0.8 threshold."""

ERR_DID_NOT_RUN = "auditor {auditor!r} did not run"
ERR_NOT_MEASURED = "auditor {auditor!r} measured no {metric!r}"
ERR_NOT_MEASURED_FOR = "auditor {auditor!r} did not measure {metric!r} for {grouping}"
ERR_NOT_SENSITIVE = (
    "; {columns} {verb} not among the audit's sensitive columns ({sensitive}): add {pronoun} "
    "with --sensitive"
)
ERR_NO_SENSITIVE = "no sensitive columns to group by"
NOTE_NOT_APPLICABLE = (
    "the audit has one sensitive column ({column!r}), so there are no combined groups to "
    "compare; the requirement does not apply, and gates nothing"
)
ERR_ONE_COLUMN = (
    "the audit has one sensitive column ({column!r}), so the combined groups the cited text "
    "asks for cannot be formed: add the other sensitive columns with --sensitive"
)
ERR_NAME_A_GROUPING = "; {metric!r} was measured for {measured}: name them in group_by"
ERR_NO_VALUE = "no value was measured"
ERR_NO_INTERVAL = "{metric} has no confidence interval for {groups}, so it is not established"
ERR_TOO_FEW_GROUPS = "fewer than {need} groups could be compared"
ERR_NO_GROUP = "no group could be compared"
ERR_NEEDS_GROUPS = "{compare} compares groups, but {metric!r} has a single value"
ERR_MAX_ZERO = "the highest {metric} is 0 in every compared group, so the ratio is undefined"
ERR_NEGATIVE = "{metric} has negative values, so the ratio is undefined"
NOTE_SMALL = "group {group!r} has {rows}, too few to compare"
NOTE_UNDEFINED = "{metric} is undefined for group {group!r} ({count} rows)"
NOTE_EXCLUDED = "excluded from comparison: {group!r} ({count} rows)"
NOTE_NOT_PASS = " Not every group could be compared, so this is not a pass."
NOTE_RESERVED = " It was measured with a reservation (see the reasons), so this is not a pass."
NOTE_UNKNOWN_HELD = (
    "{rows:,} rows of unknown {label} were left out of the comparison; placed in the groups "
    "in the way least favourable to this requirement, the {figure} would be {shown}, which "
    "still meets {limit_name}"
)
ERR_UNKNOWN_CHANGES = (
    "{rows:,} rows of unknown {label} were left out of the comparison and could change the "
    "verdict: placed in the groups in the way least favourable to this requirement, the "
    "{figure} would be {shown} against {limit_name} of {limit}"
)
ERR_UNKNOWN_UNBOUNDED = (
    "{rows:,} rows of unknown {label} were left out of the comparison and may change the "
    "verdict: the audit bounds their effect for selection rates and accuracy (and the "
    "significance of selection rates), not for {what}"
)


_TIMES = " \N{MULTIPLICATION SIGN} "
_PAIRWISE = frozenset({Comparison.RATIO_TO_MAX, Comparison.MAX_DIFFERENCE, Comparison.SIGNIFICANCE})
"""Comparisons of groups with one another, which need two groups."""


def resolve_groupings(group_by: GroupBy, sensitive: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Turn a requirement's ``group_by`` into the groupings it checks.

    Parameters
    ----------
    group_by
        ``"each"``: every sensitive column alone; ``"intersection"``: all sensitive
        columns combined (none when there are fewer than two: one column alone has no
        combined groups); ``"all"``: both; a sequence of column names: those columns
        combined.
    sensitive
        The audit's sensitive columns, in order.

    Examples
    --------
    >>> resolve_groupings("all", ["sex", "race"])
    (('sex',), ('race',), ('sex', 'race'))
    >>> resolve_groupings("intersection", ["sex"])
    ()
    """
    each = tuple((column,) for column in sensitive)
    whole = (tuple(sensitive),) if len(sensitive) > 1 else ()
    if group_by == "each":
        return each
    if group_by == "intersection":
        return whole
    if group_by == "all":
        return each + whole
    return (tuple(group_by),)


def evaluate_requirement(
    requirement: Requirement, results: Sequence[MetricResult], *, sensitive: Sequence[str]
) -> list[Finding]:
    """Judge one requirement on the measurements, one finding per grouping.

    Parameters
    ----------
    requirement
        The requirement.
    results
        Measurements; those of the requirement's auditor and metric are used.
        A result with an empty ``grouping`` is a whole-population metric, judged
        once whatever ``group_by`` says.
    sensitive
        The audit's sensitive columns, resolving ``group_by``.

    Returns
    -------
    list of Finding
        One per grouping, never empty.
    """
    mine = [
        r for r in results if r.metric == requirement.metric and r.auditor == requirement.auditor
    ]
    overall = next((r for r in mine if not r.grouping), None)
    if overall is not None:
        return [_judge(requirement, overall, ())]
    if requirement.group_by == "intersection" and len(sensitive) == 1:
        return [_no_combinations(requirement, sensitive[0])]
    groupings = resolve_groupings(requirement.group_by, sensitive)
    if not groupings:
        reason = ERR_NO_SENSITIVE
        if mine:  # e.g. a masking metric measured per rule: the policy must name one
            measured = ", ".join(sorted({_label(r.grouping) for r in mine}))
            reason += ERR_NAME_A_GROUPING.format(metric=requirement.metric, measured=measured)
        return [_inconclusive(requirement, (), reason)]
    not_measured = ERR_NOT_MEASURED.format(auditor=requirement.auditor, metric=requirement.metric)
    others = sorted({r.metric for r in results if r.auditor == requirement.auditor})
    if others:  # a numeric target audited as a regression measures errors, not rates
        not_measured += f"; it measured {', '.join(others)}"
    findings = []
    for grouping in groupings:
        result = _match(mine, grouping)
        if result is not None:
            findings.append(_judge(requirement, result, grouping))
        elif not mine:
            findings.append(_inconclusive(requirement, grouping, not_measured))
        else:
            reason = ERR_NOT_MEASURED_FOR.format(
                auditor=requirement.auditor, metric=requirement.metric, grouping=_label(grouping)
            )
            findings.append(
                _inconclusive(
                    requirement, grouping, reason + _not_sensitive(grouping, mine, sensitive)
                )
            )
    return findings


def _no_combinations(requirement: Requirement, column: str) -> Finding:
    """The finding on combined groups asked of an audit with one sensitive column.

    One column has no combined groups, so repeating its own comparison would report a
    result the audit does not have.  Whether the requirement then applies is the
    policy's to say (:attr:`Requirement.if_single_column`): a policy's own extension to
    combined groups does not, and never blocks; a cited text that asks for combined
    groups (NYC LL144's intersectional categories) still does, and the finding blocks
    as its severity says.  Either way it is INCONCLUSIVE, never a PASS.
    """
    applies = requirement.if_single_column == "inconclusive"
    reason = (ERR_ONE_COLUMN if applies else NOTE_NOT_APPLICABLE).format(column=column)
    if applies:
        summary = (
            f"{sentence_case(_metric(requirement))} of combined groups could not be judged: "
            f"{reason}."
        )
    else:
        summary = f"Not applicable: {reason}."
    return _make_finding(
        requirement,
        (),
        verdict=Verdict.INCONCLUSIVE,
        measured=None,
        summary=summary,
        reasons=(reason,),
        applies=applies,
    )


def _not_sensitive(
    grouping: tuple[str, ...], measured: Sequence[MetricResult], sensitive: Sequence[str]
) -> str:
    """Words naming the columns of ``grouping`` that are not sensitive, where that is why.

    Only for an auditor that groups by sensitive columns: a masking rule's id in
    ``group_by`` is no column.
    """
    by_columns = any(set(r.grouping) <= set(sensitive) for r in measured)
    outside = [c for c in grouping if c not in sensitive]
    if not by_columns or not outside:
        return ""
    return ERR_NOT_SENSITIVE.format(
        columns=", ".join(repr(c) for c in outside),
        verb="is" if len(outside) == 1 else "are",
        sensitive=", ".join(sensitive) or "none",
        pronoun="it" if len(outside) == 1 else "them",
    )


def evaluate_policy(
    policy: Policy,
    outputs: Sequence[AuditorOutput],
    *,
    sensitive: Sequence[str],
) -> tuple[Finding, ...]:
    """Judge every requirement of ``policy``, in order.

    A requirement whose auditor produced no output, or failed (raised), gets one
    INCONCLUSIVE finding whose reason says so.
    """
    by_auditor = {o.auditor: o for o in outputs}
    findings: list[Finding] = []
    for requirement in policy.requirements:
        output = by_auditor.get(requirement.auditor)
        if output is None:
            reason = ERR_DID_NOT_RUN.format(auditor=requirement.auditor)
            findings.append(_inconclusive(requirement, (), reason))
        elif output.failure is not None:
            findings.append(_inconclusive(requirement, (), output.failure))
        else:
            findings.extend(evaluate_requirement(requirement, output.metrics, sensitive=sensitive))
    return tuple(findings)


# ---------------------------------------------------------------- judging


@dataclass(frozen=True)
class _Outcome:
    measured: float
    passed: bool
    sentence: str
    worst: str | None = None
    reference: str | None = None


def _match(results: Sequence[MetricResult], grouping: tuple[str, ...]) -> MetricResult | None:
    exact = next((r for r in results if r.grouping == grouping), None)
    if exact is not None:
        return exact
    return next((r for r in results if sorted(r.grouping) == sorted(grouping)), None)


def _judge(req: Requirement, result: MetricResult, grouping: tuple[str, ...]) -> Finding:
    reasons = [result.reason] if result.reason else []
    if not result.groups:
        if result.value is None:
            return _inconclusive(req, grouping, *(reasons or [ERR_NO_VALUE]))
        if req.compare in (Comparison.RATIO_TO_MAX, Comparison.MAX_DIFFERENCE):
            reason = ERR_NEEDS_GROUPS.format(compare=req.compare.value, metric=req.metric)
            return _inconclusive(req, grouping, reason, *reasons)
        if req.compare is Comparison.ESTABLISHED:  # a whole-population figure: no interval
            outcome = _established(req, result.value)
        else:
            outcome = _bound(req, result.value, grouping)
        # a value with a reason was measured over part of the population (e.g. a
        # disparity that had to leave a small group out): it may fail, never pass
        verdict = Verdict.INCONCLUSIVE if outcome.passed and reasons else _verdict(outcome.passed)
        return _finding(req, grouping, verdict, outcome, reasons, not_pass=NOTE_RESERVED)

    comparable = result.comparable_groups()
    set_aside = [_set_aside_note(req, g) for g in result.groups if _set_aside(g)]
    excluded = [
        NOTE_EXCLUDED.format(group=g.group, count=g.count)
        for g in result.groups
        if g.status is GroupStatus.EXCLUDED
    ]
    established = _established_failures(req, result.groups)
    if established:
        return _finding(
            req,
            grouping,
            Verdict.FAIL,
            _established_outcome(req, established, grouping),
            [*reasons, *set_aside, *excluded],
        )
    need = 2 if req.compare in _PAIRWISE else 1
    if len(comparable) < need:
        reason = ERR_TOO_FEW_GROUPS.format(need=need) if need > 1 else ERR_NO_GROUP
        return _inconclusive(req, grouping, *reasons, reason, *set_aside, *excluded)
    if req.compare is Comparison.ESTABLISHED:
        outcome_or_reason = _established_groups(req, comparable, grouping, every=not set_aside)
    else:
        outcome_or_reason = _compare_groups(req, comparable, grouping)
    if isinstance(outcome_or_reason, str):
        return _inconclusive(req, grouping, outcome_or_reason, *reasons, *set_aside, *excluded)
    outcome = outcome_or_reason
    unknown = _unknown_groups(req, result)
    if outcome.passed and unknown:
        held, note = _unknown_effect(req, comparable, unknown, grouping)
        if not held:
            return _finding(
                req,
                grouping,
                Verdict.INCONCLUSIVE,
                outcome,
                [note, *set_aside, *reasons, *excluded],
            )
        reasons = [*reasons, note]
    if outcome.passed and set_aside:
        return _finding(
            req, grouping, Verdict.INCONCLUSIVE, outcome, [*set_aside, *reasons, *excluded]
        )
    return _finding(
        req, grouping, _verdict(outcome.passed), outcome, [*reasons, *set_aside, *excluded]
    )


def _set_aside(g: GroupValue) -> bool:
    if g.status in (GroupStatus.SMALL, GroupStatus.UNDEFINED):
        return True
    return g.status is GroupStatus.OK and g.value is None


def _established_failures(req: Requirement, groups: Sequence[GroupValue]) -> list[GroupValue]:
    """Groups set aside as too imprecise to compare whose whole interval is past the limit.

    Too few rows (or too wide an interval) keep a group from passing on its estimate; they
    do not keep it from failing when even the most favourable end of its interval is past
    an ``at_most`` or ``at_least`` limit.
    """
    if req.compare not in (Comparison.AT_MOST, Comparison.AT_LEAST):
        return []
    at_most = req.compare is Comparison.AT_MOST

    def past(g: GroupValue) -> bool:
        if g.status is not GroupStatus.SMALL or g.ci_low is None or g.ci_high is None:
            return False
        if at_most:
            return g.ci_low > req.threshold + TOLERANCE
        return g.ci_high < req.threshold - TOLERANCE

    return [g for g in groups if past(g)]


def _established_outcome(
    req: Requirement, failing: Sequence[GroupValue], grouping: tuple[str, ...]
) -> _Outcome:
    """The sentence on groups that fail by their whole interval, worst first."""
    higher = req.compare is Comparison.AT_MOST
    ordered = sorted(failing, key=_value, reverse=higher)
    worst = ordered[0]
    side = "above" if higher else "below"
    listed = "; ".join(
        f"{g.group} {_value(g):.3f} (interval {g.ci_low:.3f} to {g.ci_high:.3f}, {g.count} rows)"
        for g in ordered
    )
    kind = f"{_label(grouping)} " if grouping else ""
    sentence = (
        f"Not every {kind}group's {_metric(req)} could be compared, but for {listed} the whole "
        f"interval is {side} {_limit_name(req)} of {req.threshold:g}: a failure too few rows "
        "cannot explain."
    )
    return _Outcome(_value(worst), False, sentence, worst.group, None)


def _set_aside_note(req: Requirement, g: GroupValue) -> str:
    if g.status is GroupStatus.SMALL:
        rows = f"{g.count:,} row{'' if g.count == 1 else 's'}"
        note = NOTE_SMALL.format(group=g.group, rows=rows)
    else:
        note = NOTE_UNDEFINED.format(metric=_metric(req), group=g.group, count=g.count)
    return f"{note}: {g.note}" if g.note else note


def _compare_groups(
    req: Requirement, groups: Sequence[GroupValue], grouping: tuple[str, ...]
) -> _Outcome | str:
    values = {g.group: _value(g) for g in groups}
    top = max(groups, key=_value)
    bottom = min((g for g in groups if g is not top), key=_value, default=top)
    t = req.threshold
    if req.compare is Comparison.SIGNIFICANCE:
        found = significance_rule(req, groups, top)
        return _Outcome(found.measured, found.passed, found.sentence, found.worst, top.group)
    if req.compare is Comparison.RATIO_TO_MAX:
        if any(v < 0 for v in values.values()):
            return ERR_NEGATIVE.format(metric=_metric(req))
        if values[top.group] <= 0:
            return ERR_MAX_ZERO.format(metric=_metric(req))
        ratio = _value(bottom) / _value(top)
        passed = ratio >= t - TOLERANCE
        shown, limit = _pair(ratio, t, passed)
        sentence = (
            f"{sentence_case(_metric(req))} of {bottom.group} is {shown} of {top.group}'s "
            f"({_num(_value(bottom))} vs {_num(_value(top))}); {_limit_name(req)} is {limit}."
        )
        below = sorted(
            (g for g in groups if g is not top and _value(g) / _value(top) < t - TOLERANCE),
            key=_value,
        )
        if len(below) > 1:
            listed = ", ".join(f"{g.group} {_value(g) / _value(top):.3f}" for g in below)
            sentence += f" Every group under {_limit_name(req)}: {listed}."
        if req.alpha is not None:
            passed, added = combined_rule(req, groups, top, below)
            sentence += added
        else:
            sentence += ratio_evidence(req, groups, top, bottom)
        return _Outcome(ratio, passed, sentence, bottom.group, top.group)
    if req.compare is Comparison.MAX_DIFFERENCE:
        difference = _value(top) - _value(bottom)
        passed = difference <= t + TOLERANCE
        shown, limit = _pair(difference, t, passed)
        sentence = (
            f"The largest difference in {_metric(req)} {_which(grouping, 'between', pair=True)} is "
            f"{shown} ({top.group} {_num(_value(top))} vs {bottom.group} "
            f"{_num(_value(bottom))}); {_limit_name(req)} is {limit}."
        )
        # the worse end of the gap is the lower value, or the higher error
        worse, better = (top, bottom) if req.metric in HIGHER_IS_WORSE else (bottom, top)
        return _Outcome(difference, passed, sentence, worse.group, better.group)
    worst = top if req.compare is Comparison.AT_MOST else min(groups, key=_value)
    passed = _within(req, _value(worst))
    shown, limit = _pair(_value(worst), t, passed)
    extreme = "highest" if req.compare is Comparison.AT_MOST else "lowest"
    sentence = (
        f"The {extreme} {_metric(req)} {_which(grouping, 'among')} is {shown} "
        f"({worst.group}); {_limit_name(req)} is {_bound_word(req)} {limit}."
    )
    beyond = sorted(
        (g for g in groups if not _within(req, _value(g))),
        key=_value,
        reverse=req.compare is Comparison.AT_MOST,
    )
    if len(beyond) > 1:  # the worst group alone would hide the others past the limit
        side = "over" if req.compare is Comparison.AT_MOST else "under"
        listed = ", ".join(f"{g.group} {_pair(_value(g), t, False)[0]}" for g in beyond)
        sentence += f" Every group {side} {_limit_name(req)}: {listed}."
    return _Outcome(_value(worst), passed, sentence, worst.group, None)


def _established_groups(
    req: Requirement, groups: Sequence[GroupValue], grouping: tuple[str, ...], *, every: bool
) -> _Outcome | str:
    """Whether each compared group's figure has its interval, and the sentence on them.

    ``measured`` is the number of groups whose figure was established; a group with a
    value but no interval is not established (INCONCLUSIVE, never FAIL: the figure may
    exist, the audit could not establish it).
    """
    missing = [g.group for g in groups if g.ci_low is None or g.ci_high is None]
    if missing:
        return ERR_NO_INTERVAL.format(metric=_metric(req), groups=", ".join(missing))
    listed = "; ".join(
        f"{g.group} {_num(_value(g))} (interval {g.ci_low:.3f} to {g.ci_high:.3f}, "
        f"{g.count:,} rows)"
        for g in groups
    )
    which = "every" if every else "these"
    kind = f"{_label(grouping)} " if grouping else ""
    sentence = (
        f"{sentence_case(_metric(req))} was established, with its confidence interval, "
        f"for {which} {kind}group{'' if every else 's'}: {listed}."
    )
    return _Outcome(float(len(groups)), True, sentence)


def _established(req: Requirement, value: float) -> _Outcome:
    """The sentence on a whole-population figure that was established."""
    sentence = f"{sentence_case(_metric(req))} of the whole population was established: "
    return _Outcome(1.0, True, f"{sentence}{_num(value)}.")


def _unknown_groups(req: Requirement, result: MetricResult) -> tuple[GroupValue, ...]:
    """The groups left out of ``result``'s comparison for a missing sensitive value.

    NYC LL144's own rate is exempt: 6 RCNY § 5-301 leaves the unknown category out of the
    calculations, and counts it in the summary instead.
    """
    if req.metric == "ll144_rate" or req.compare is Comparison.ESTABLISHED:
        return ()
    return tuple(
        g
        for g in result.groups
        if g.status is GroupStatus.EXCLUDED and (g.note or "").startswith(UNKNOWN_NOTE)
    )


def _unknown_effect(
    req: Requirement,
    groups: Sequence[GroupValue],
    unknown: Sequence[GroupValue],
    grouping: tuple[str, ...],
) -> tuple[bool, str]:
    """Whether a pass holds wherever the rows of unknown group belong, and the words on it."""
    rows = sum(g.count for g in unknown)
    label = _label(grouping)
    figure = least_favourable(req, groups, unknown)
    if figure is None:
        what = f"the {_metric(req)}"
        if req.compare is Comparison.SIGNIFICANCE:
            what = f"the significance of the {_metric(req)}"
        return False, ERR_UNKNOWN_UNBOUNDED.format(rows=rows, label=label, what=what)
    passed = _figure_passes(req, figure)
    shown, limit = _pair(figure, req.threshold, passed)
    words = {
        "rows": rows,
        "label": label,
        "figure": _figure_name(req),
        "shown": shown,
        "limit_name": _limit_name(req),
        "limit": limit,
    }
    return passed, (NOTE_UNKNOWN_HELD if passed else ERR_UNKNOWN_CHANGES).format(**words)


def _figure_passes(req: Requirement, figure: float) -> bool:
    """Whether a figure meets the requirement (a difference from above, others from below)."""
    if req.compare is Comparison.MAX_DIFFERENCE:
        return figure <= req.threshold + TOLERANCE
    return _within(req, figure)


def _figure_name(req: Requirement) -> str:
    if req.compare is Comparison.SIGNIFICANCE:
        return "smallest p-value"
    if req.compare is Comparison.RATIO_TO_MAX:
        return "ratio"
    if req.compare is Comparison.MAX_DIFFERENCE:
        return "largest difference"
    extreme = "highest" if req.compare is Comparison.AT_MOST else "lowest"
    return f"{extreme} {_metric(req)}"


def _bound(req: Requirement, value: float, grouping: tuple[str, ...]) -> _Outcome:
    passed = _within(req, value)
    shown, limit = _pair(value, req.threshold, passed)
    where = f" for {_label(grouping)}" if grouping else ""
    sentence = (
        f"{sentence_case(_metric(req))}{where} is {shown}; "
        f"{_limit_name(req)} is {_bound_word(req)} {limit}."
    )
    return _Outcome(value, passed, sentence)


def _within(req: Requirement, value: float) -> bool:
    if req.compare is Comparison.AT_MOST:
        return value <= req.threshold + TOLERANCE
    return value >= req.threshold - TOLERANCE


def _limit_name(req: Requirement) -> str:
    """What a sentence calls the figure compared with: a benchmark is not a threshold.

    Where the cited text sets no threshold (``threshold_source: benchmark``), calling the
    figure "the threshold" would put a legal line in the report that the text does not
    draw.
    """
    return "the benchmark" if req.threshold_source == "benchmark" else "the threshold"


def _bound_word(req: Requirement) -> str:
    return "at most" if req.compare is Comparison.AT_MOST else "at least"


def _value(g: GroupValue) -> float:
    return g.value if g.value is not None else float("nan")


def _verdict(passed: bool) -> Verdict:
    return Verdict.PASS if passed else Verdict.FAIL


def _make_finding(
    req: Requirement,
    grouping: tuple[str, ...],
    *,
    verdict: Verdict,
    measured: float | None,
    summary: str,
    reasons: Sequence[str],
    worst: str | None = None,
    reference: str | None = None,
    applies: bool = True,
) -> Finding:
    """A finding on ``req``: the requirement's own fields plus what was found."""
    return Finding(
        requirement_id=req.id,
        title=req.title,
        citation=req.citation,
        auditor=req.auditor,
        metric=req.metric,
        comparison=req.compare.value,
        threshold=req.threshold,
        severity=req.severity,
        verdict=verdict,
        measured=measured,
        grouping=grouping,
        summary=summary,
        worst_group=worst,
        reference_group=reference,
        reasons=tuple(reasons),
        applies=applies,
    )


def _finding(
    req: Requirement,
    grouping: tuple[str, ...],
    verdict: Verdict,
    outcome: _Outcome,
    reasons: Sequence[str],
    *,
    not_pass: str = NOTE_NOT_PASS,
) -> Finding:
    summary = outcome.sentence + (not_pass if verdict is Verdict.INCONCLUSIVE else "")
    return _make_finding(
        req,
        grouping,
        verdict=verdict,
        measured=outcome.measured,
        summary=summary,
        reasons=reasons,
        worst=outcome.worst,
        reference=outcome.reference,
    )


def _inconclusive(req: Requirement, grouping: tuple[str, ...], *reasons: str) -> Finding:
    where = f" for {_label(grouping)}" if grouping else ""
    summary = f"{sentence_case(_metric(req))}{where} could not be judged: {reasons[0]}."
    return _make_finding(
        req,
        grouping,
        verdict=Verdict.INCONCLUSIVE,
        measured=None,
        summary=summary,
        reasons=reasons,
    )


# ---------------------------------------------------------------- wording


def _metric(req: Requirement) -> str:
    return humanize(req.metric)


def _which(grouping: tuple[str, ...], word: str, pair: bool = False) -> str:
    """Which groups a sentence speaks of: ``among sex groups``.

    A metric's own groups (no sensitive columns: a masking metric per entity) read
    ``of any group``, or ``between any two groups`` for a ``pair``.
    """
    if grouping:
        return f"{word} {_label(grouping)} groups"
    return f"{word} any two groups" if pair else "of any group"


def _label(grouping: tuple[str, ...]) -> str:
    return _TIMES.join(grouping) if grouping else "the whole population"


def _num(value: float) -> str:
    """Render a measured value: three decimals, or one for large values."""
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _pair(measured: float, threshold: float, passed: bool) -> tuple[str, str]:
    """Render the measured value and threshold so that rounding never hides a failure."""
    digits = 2
    while digits < 6 and abs(round(threshold, digits) - threshold) > TOLERANCE:
        digits += 1
    if whole_numbers(measured, threshold):
        return f"{measured:,.0f}", f"{threshold:,.0f}"  # counts: 25 cells, not 25.00
    if not passed:
        digits = decimals_apart(measured, threshold, digits)
    return f"{measured:.{digits}f}", f"{threshold:.{digits}f}"

"""Counterfactual measurements as metrics and evidence tables for the report."""

from __future__ import annotations

from audit.auditors.counterfactual.design import PairedDesign
from audit.auditors.counterfactual.measure import CounterfactualMeasurements
from audit.core.measurements import EvidenceTable, GroupValue, MetricResult
from audit.core.protocols import MetricRange

__all__ = ["AUDITOR", "METRICS", "METRIC_RANGES", "metric_results", "evidence_tables"]

AUDITOR = "counterfactual"
METRICS = {
    "counterfactual_selection_rate": (
        "Share of the base rows selected when they carry each assigned group's cue; compare "
        "with ratio_to_max for the four-fifths rule on assigned groups."
    ),
    "flip_rate": "Share of base rows whose decision changes when only the group cue changes.",
    "paired_test_p_value": (
        "p-value of McNemar's exact test (two groups) or Cochran's Q (more) on the paired "
        "decisions: small values mean the cue changes decisions more than chance explains."
    ),
    "mean_score_difference": (
        "Mean paired difference of each group's score from the reference group's score."
    ),
}
METRIC_RANGES: dict[str, MetricRange] = {
    "counterfactual_selection_rate": (0.0, 1.0),
    "flip_rate": (0.0, 1.0),
    "paired_test_p_value": (0.0, 1.0),
}
"""The values the shares and the p-value can take (a score's scale is the model's own)."""


def metric_results(m: CounterfactualMeasurements, design: PairedDesign) -> tuple[MetricResult, ...]:
    """The auditor's metrics, grouped by the assigned attribute."""
    grouping = (design.attribute,)
    label = design.attribute
    level = m.confidence_level
    results = [
        MetricResult(
            metric="counterfactual_selection_rate",
            auditor=AUDITOR,
            grouping=grouping,
            value=sum(r.selected for r in m.rates) / sum(r.rows for r in m.rates),
            groups=tuple(
                GroupValue(f"{label}={r.group}", r.rows, r.rate, r.ci_low, r.ci_high)
                for r in m.rates
            ),
            description=METRICS["counterfactual_selection_rate"],
            confidence_level=level,
        ),
        MetricResult(
            metric="flip_rate",
            auditor=AUDITOR,
            grouping=grouping,
            value=m.flip_rate,
            description=METRICS["flip_rate"],
        ),
        MetricResult(
            metric="paired_test_p_value",
            auditor=AUDITOR,
            grouping=grouping,
            value=m.test.p_value,
            description=f"{METRICS['paired_test_p_value']} Test used: {m.test.name}.",
        ),
    ]
    if m.score_differences:
        worst = max(m.score_differences, key=lambda d: abs(d.mean))
        results.append(
            MetricResult(
                metric="mean_score_difference",
                auditor=AUDITOR,
                grouping=grouping,
                value=abs(worst.mean),
                groups=tuple(
                    GroupValue(f"{label}={d.group}", m.base_rows, d.mean, d.ci_low, d.ci_high)
                    for d in m.score_differences
                ),
                description=METRICS["mean_score_difference"]
                + " The value is the largest absolute mean difference.",
                confidence_level=level,
            )
        )
    else:
        results.append(
            MetricResult(
                metric="mean_score_difference",
                auditor=AUDITOR,
                grouping=grouping,
                value=None,
                description=METRICS["mean_score_difference"],
                reason="the model returned no scores",
            )
        )
    return tuple(results)


def evidence_tables(
    m: CounterfactualMeasurements, design: PairedDesign, *, max_examples: int
) -> tuple[EvidenceTable, ...]:
    """Selection rates by assigned group, the paired test, flips by direction, flipped examples."""
    level = f"{100 * m.confidence_level:g}%"
    top = max(r.rate for r in m.rates)
    rates = EvidenceTable(
        title=f"Counterfactual selection rates by assigned {design.attribute}",
        columns=(
            "assigned group",
            "base rows",
            "selected",
            "selection rate",
            f"{level} interval (Wilson)",
            "ratio to highest",
        ),
        rows=tuple(
            (
                r.group,
                r.rows,
                r.selected,
                r.rate,
                f"{r.ci_low:.3f} – {r.ci_high:.3f}",
                r.rate / top if top > 0 else None,
            )
            for r in m.rates
        ),
        caption=(
            f"Each of the {m.base_rows} base rows was scored once per assigned group, changing "
            "only the group cue; the first group is the reference."
        ),
    )
    test = EvidenceTable(
        title="Paired comparison of decisions",
        columns=(
            "test",
            "statistic",
            "p-value",
            "base rows with differing decisions",
            "flip rate",
            f"{level} interval (Wilson)",
        ),
        rows=(
            (
                m.test.name,
                m.test.statistic,
                m.test.p_value,
                m.test.discordant,
                m.flip_rate,
                f"{m.flip_ci[0]:.3f} – {m.flip_ci[1]:.3f}",
            ),
        ),
        caption=(
            "A small p-value means the decisions differ between the assigned groups more than "
            "chance would explain for the same applicants."
        ),
    )
    reference = m.groups[0]
    directions = EvidenceTable(
        title="Changed decisions by direction",
        columns=(
            "assigned group",
            f"selected as {reference} only",
            "share of base rows",
            "selected as this group only",
            "share of base rows",
        ),
        rows=tuple(
            (
                d.group,
                d.reference_only,
                d.reference_only / d.rows,
                d.group_only,
                d.group_only / d.rows,
            )
            for d in m.directions
        ),
        caption=(
            f"Base rows whose decision as {reference} (the reference) differs from their "
            "decision as each other group, counted in each direction: flips that go mostly one "
            "way point to a bias against one group; flips in both directions in about equal "
            "numbers look like noise."
            + (
                f" {m.test.name} compares the two counts; its statistic is the smaller one."
                if len(m.groups) == 2
                else ""
            )
        ),
    )
    tables = [rates, test, directions]
    if m.score_differences:
        tables.append(
            EvidenceTable(
                title="Mean paired score difference from the reference group",
                columns=("assigned group", "mean difference", f"{level} interval (paired t)"),
                rows=tuple(
                    (d.group, d.mean, f"{d.ci_low:.4f} – {d.ci_high:.4f}")
                    for d in m.score_differences
                ),
            )
        )
    examples = m.flipped_rows[:max_examples]
    if examples:
        cues = sorted(design.cue_values)
        columns = (
            "base row",
            *(f"decision as {g}" for g in m.groups),
            *(f"{c} cue ({g})" for c in cues for g in m.groups),
        )
        rows = []
        for i, row_decisions in zip(examples, m.flipped_decisions, strict=False):
            decisions = tuple("selected" if d else "not selected" for d in row_decisions)
            cue_cells = tuple(
                design.cue_values[c][j][i] for c in cues for j in range(len(m.groups))
            )
            rows.append((f"#{i + 1}", *decisions, *cue_cells))
        tables.append(
            EvidenceTable(
                title="Examples of decisions that changed with the group cue",
                columns=columns,
                rows=tuple(rows),
                caption=(
                    f"The first {len(examples)} of {m.flips} base rows whose decision changed. "
                    "Only the assigned cues are shown; the applicants' other values are not."
                ),
            )
        )
    return tuple(tables)

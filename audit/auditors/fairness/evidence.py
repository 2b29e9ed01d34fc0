"""The fairness auditor's evidence: its measurements as metric results, tables and warnings.

Nothing here measures; every number comes from :mod:`audit.auditors.fairness.measure`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from audit.auditors._groupings import planned_groupings
from audit.auditors.fairness._present import (
    AUDITOR,
    Cell,
    Part,
    columns_label,
    group_value,
    join,
    number,
)
from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.counts import FN, FP, RATES, TP, Comparison
from audit.auditors.fairness.describe import (
    DISPARITIES,
    LIMITATIONS,
    REGRESSION_METRICS,
    descriptions,
    method_text,
)
from audit.auditors.fairness.evidence_ll144 import ll144_unmeasured
from audit.auditors.fairness.evidence_tests import significance_table
from audit.auditors.fairness.ll144 import ll144_groupings
from audit.auditors.fairness.measure import (
    BinaryMeasurement,
    RateEstimate,
    RegressionMeasurement,
)
from audit.core.context import ColumnRoles, Task
from audit.core.measurements import AuditorOutput, EvidenceTable, GroupStatus, MetricResult

__all__ = [
    "MANY_NUMBERS",
    "binary_part",
    "output",
    "regression_part",
    "unmeasured",
    "values_part",
]

MANY_NUMBERS = 20
"""Distinct numbers above which a sensitive column reads as a measurement (an age, an
income), whose values an audit should bin, not compare one by one."""

FloatArray = npt.NDArray[np.float64]


def binary_part(m: BinaryMeasurement, settings: FairnessConfig) -> Part:
    """Metric results, tables and warnings of one grouping of a binary task."""
    part = Part()
    for rate in RATES:
        part.metrics.append(_rate_result(m, m.rates[rate.name], settings))
    part.metrics.extend(_disparity_results(m))
    part.tables.extend(_binary_tables(m))
    significance = significance_table(m, settings)
    if significance is not None:
        part.tables.append(significance)
    compared = int(m.comparable.sum())
    if m.selection.compared < 2:
        part.warnings.append(
            f"{columns_label(m.columns)}: only {m.selection.compared} of "
            f"{len(m.labels)} groups can be compared, so no disparity is measured"
        )
    part.summary = (
        columns_label(m.columns),
        len(m.labels),
        compared,
        int(m.sizes.sum()),
        *(_find(part.metrics, name) for name in DISPARITIES),
    )
    return part


def _find(metrics: Sequence[MetricResult], name: str) -> float | None:
    return next(m.value for m in metrics if m.metric == name)


def _rate_result(
    m: BinaryMeasurement, estimate: RateEstimate, settings: FairnessConfig
) -> MetricResult:
    rate = estimate.rate
    intervals = zip(estimate.low.tolist(), estimate.high.tolist(), strict=True)
    groups = tuple(
        group_value(label, int(size), float(value), interval, status, rate.undefined_note)
        for label, size, value, interval, status in zip(
            m.labels, m.sizes.tolist(), estimate.values.tolist(), intervals, m.statuses, strict=True
        )
    )
    overall = number(estimate.overall)
    reason = None
    if overall is None:
        reason = rate.undefined_note.replace("in this group", "in the data") + "; rate undefined"
    compared = sum(1 for g in groups if g.status is GroupStatus.OK)
    return MetricResult(
        metric=rate.name,
        auditor=AUDITOR,
        grouping=m.columns,
        value=overall,
        groups=groups,
        description=(
            f"{rate.description} Value: whole population; {compared} of {len(groups)} "
            "groups comparable."
        ),
        reason=reason,
        confidence_level=settings.confidence_level if _has_intervals(settings) else None,
    )


def _has_intervals(settings: FairnessConfig) -> bool:
    return settings.rate_interval != "bootstrap" or settings.bootstrap > 0


def _fewer_than_two(what: str, comparison: Comparison, groups: int) -> str:
    return (
        f"fewer than two groups have a comparable {what} ({comparison.compared} of {groups}); "
        "see the groups' notes"
    )


_EO_RATES = ("true_positive_rate", "false_positive_rate")


def _left_out(m: BinaryMeasurement, rates: Sequence[str]) -> str | None:
    """Which groups a summary metric had to leave out (small, or its rate undefined).

    A summary metric is one number, so this note is how evaluation learns that it
    covers only part of the population (it then never passes).  Groups excluded by
    a stated rule are not listed: they do not affect verdicts.
    """
    notes = []
    for g, (status, note) in enumerate(m.statuses):
        if status is GroupStatus.SMALL:
            notes.append(f"{m.labels[g]} ({note})")
        elif status is GroupStatus.OK and any(np.isnan(m.rates[r].values[g]) for r in rates):
            notes.append(f"{m.labels[g]} (rate undefined)")
    if not notes:
        return None
    return "measured over the compared groups only; left out: " + "; ".join(notes)


def _disparity_results(m: BinaryMeasurement) -> list[MetricResult]:
    """Demographic parity and equalized odds, difference and ratio, for one grouping."""
    selection, tpr, fpr = m.selection, m.tpr, m.fpr
    groups = len(m.labels)
    results: list[MetricResult] = []

    def add(metric: str, value: float | None, reason: str | None, compared: str) -> None:
        rates = ("selection_rate",) if metric.startswith("demographic") else _EO_RATES
        partial = _left_out(m, rates)
        results.append(
            MetricResult(
                metric=metric,
                auditor=AUDITOR,
                grouping=m.columns,
                value=value,
                description=f"{DISPARITIES[metric]} Compared: {compared}.",
                reason=reason if value is None else partial,
            )
        )

    dp_compared = f"{selection.compared} of {groups} groups"
    dp_reason = _fewer_than_two("selection rate", selection, groups)
    add("demographic_parity_difference", selection.difference, dp_reason, dp_compared)
    if selection.compared >= 2 and selection.ratio is None:
        dp_reason = "every comparable group has a selection rate of 0; the ratio is undefined"
    add("demographic_parity_ratio", selection.ratio, dp_reason, dp_compared)

    eo_compared = (
        f"true positive rate over {tpr.compared} of {groups} groups, "
        f"false positive rate over {fpr.compared} of {groups} groups"
    )
    eo_reason: str | None = None
    if tpr.compared < 2:
        eo_reason = _fewer_than_two("true positive rate", tpr, groups)
    elif fpr.compared < 2:
        eo_reason = _fewer_than_two("false positive rate", fpr, groups)
    difference = None
    if tpr.difference is not None and fpr.difference is not None:
        difference = max(tpr.difference, fpr.difference)
    add("equalized_odds_difference", difference, eo_reason, eo_compared)
    ratio = None
    if tpr.ratio is not None and fpr.ratio is not None:
        ratio = min(tpr.ratio, fpr.ratio)
    elif eo_reason is None:
        which = "true positive" if tpr.ratio is None else "false positive"
        eo_reason = f"every comparable group has a {which} rate of 0; the ratio is undefined"
    add("equalized_odds_ratio", ratio, eo_reason, eo_compared)
    return results


def _binary_tables(m: BinaryMeasurement) -> list[EvidenceTable]:
    label = columns_label(m.columns)
    counts, statuses, comparable = m.cells, m.statuses, m.comparable
    values: Mapping[str, FloatArray] = {name: r.values for name, r in m.rates.items()}
    sizes = m.sizes
    total = int(sizes.sum())
    selection = values["selection_rate"]
    chosen = selection[comparable & ~np.isnan(selection)]
    top = float(chosen.max()) if len(chosen) else math.nan
    selection_rows: list[tuple[Cell, ...]] = []
    error_rows: list[tuple[Cell, ...]] = []
    for g, group in enumerate(m.labels):
        status, note = statuses[g]
        impact = None
        if comparable[g] and top > 0 and not math.isnan(selection[g]):
            impact = float(selection[g]) / top
        selection_rows.append(
            (
                group,
                int(sizes[g]),
                int(sizes[g]) / total,
                int(counts[g, FP] + counts[g, TP]),
                number(selection[g]),
                impact,
                status.value,
                note,
            )
        )
        undefined = [
            rate.undefined_note
            for rate in RATES
            if math.isnan(values[rate.name][g]) and rate.name != "selection_rate"
        ]
        error_rows.append(
            (
                group,
                int(sizes[g]),
                int(counts[g, FN] + counts[g, TP]),
                *(number(values[rate.name][g]) for rate in RATES[1:]),
                status.value,
                join(note, *dict.fromkeys(undefined)),
            )
        )
    return [
        EvidenceTable(
            title=f"Selection rates by {label}",
            columns=(
                "group",
                "rows",
                "share of rows",
                "positive decisions",
                "selection rate",
                "impact ratio",
                "status",
                "note",
            ),
            rows=tuple(selection_rows),
            caption=(
                "Impact ratio: the group's selection rate over the highest selection rate "
                "among comparable groups; blank for groups that are not compared."
            ),
        ),
        EvidenceTable(
            title=f"Error rates by {label}",
            columns=(
                "group",
                "rows",
                "actual positives",
                *(rate.name.replace("_", " ") for rate in RATES[1:]),
                "status",
                "note",
            ),
            rows=tuple(error_rows),
            caption="Blank cells: the rate is undefined in the group (its denominator is 0).",
        ),
    ]


def regression_part(m: RegressionMeasurement, settings: FairnessConfig) -> Part:
    """Metric results, the error table and warnings of one grouping of a regression task."""
    part = Part()
    n_groups = len(m.labels)
    compared = sum(1 for status, _ in m.statuses if status is GroupStatus.OK)
    for metric, (values, low, high, overall) in m.errors.items():
        groups = tuple(
            group_value(label, int(size), float(value), (lo, hi), status, "no rows in this group")
            for label, size, value, lo, hi, status in zip(
                m.labels,
                m.sizes.tolist(),
                values.tolist(),
                low.tolist(),
                high.tolist(),
                m.statuses,
                strict=True,
            )
        )
        part.metrics.append(
            MetricResult(
                metric=metric,
                auditor=AUDITOR,
                grouping=m.columns,
                value=overall,
                groups=groups,
                description=(
                    f"{REGRESSION_METRICS[metric]} Value: whole population; {compared} of "
                    f"{n_groups} groups comparable."
                ),
                confidence_level=settings.confidence_level if settings.bootstrap else None,
            )
        )
    total = int(m.sizes.sum())
    mae = m.errors["mean_absolute_error"]
    rmse = m.errors["root_mean_squared_error"]
    rows = tuple(
        (
            label,
            int(m.sizes[g]),
            int(m.sizes[g]) / total,
            number(mae[0][g]),
            number(rmse[0][g]),
            m.statuses[g][0].value,
            m.statuses[g][1],
        )
        for g, label in enumerate(m.labels)
    )
    label = columns_label(m.columns)
    part.tables.append(
        EvidenceTable(
            title=f"Prediction errors by {label}",
            columns=(
                "group",
                "rows",
                "share of rows",
                "mean absolute error",
                "root mean squared error",
                "status",
                "note",
            ),
            rows=rows,
        )
    )
    if compared < 2:
        part.warnings.append(f"{label}: only {compared} of {n_groups} groups can be compared")
    part.summary = (label, n_groups, compared, total, mae[3], rmse[3])
    return part


def _summary_table(task: Task, parts: Sequence[Part]) -> EvidenceTable:
    if task is Task.REGRESSION:
        columns: tuple[str, ...] = (
            "grouping",
            "groups",
            "groups compared",
            "rows",
            "mean absolute error",
            "root mean squared error",
        )
    else:
        columns = (
            "grouping",
            "groups",
            "groups compared",
            "rows",
            *(name.replace("_", " ") for name in DISPARITIES),
        )
    return EvidenceTable(
        title="Fairness summary",
        columns=columns,
        rows=tuple(part.summary for part in parts),
        caption="Blank cells: fewer than two groups could be compared.",
    )


def values_part(values: Mapping[str, Collection[Any]]) -> Part:
    """Warnings on sensitive columns whose distinct values (``values``) make doubtful groups.

    Each value of a sensitive column is a group of its own: ages 24 and 35 would be
    compared as two groups, which is rarely what a policy means by an age group; and
    ``"M"``, ``"m"`` and ``"M "`` are three groups, which is rarely what the data meant.
    """
    part = Part()
    for column, held in values.items():
        found = [v for v in held if v is not None]
        if len(found) > MANY_NUMBERS and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in found
        ):
            part.warnings.append(
                f"sensitive column {column!r} holds {len(found)} distinct numbers, each "
                "compared as a group of its own; to compare ranges, bin it before the audit "
                "(for age, e.g. under 40 and 40 or over: the ADEA protects people aged 40 "
                "or over, 29 U.S.C. § 631(a))"
            )
        spellings = _spellings(found)
        if spellings:
            shown = "; ".join(", ".join(repr(v) for v in same) for same in spellings[:3])
            part.warnings.append(
                f"sensitive column {column!r} holds values that differ only in case or "
                f"surrounding spaces ({shown}), each compared as a group of its own; if "
                "they are one group, clean the column before the audit"
            )
    return part


def _spellings(values: Collection[Any]) -> list[list[str]]:
    """The text values that are one word up to case and surrounding spaces, by word."""
    by_word: dict[str, list[str]] = {}
    for value in values:
        if isinstance(value, str):
            by_word.setdefault(value.strip().casefold(), []).append(value)
    return [sorted(same) for same in by_word.values() if len(same) > 1]


def _missing_value_warnings(
    measured: Sequence[BinaryMeasurement | RegressionMeasurement], rows: int
) -> list[str]:
    warnings = []
    for grouping in measured:
        if len(grouping.columns) != 1 or not grouping.unknown.any():
            continue
        unknown_rows = int(grouping.sizes[grouping.unknown].sum())
        column = grouping.columns[0]
        if len(grouping.labels) == 1:
            warnings.append(
                f"sensitive column {column!r} has no values: every row is in group "
                f"'{grouping.labels[0]}'"
            )
        else:
            # named as the group is: 'unknown (missing)' beside a real value 'unknown'
            group = next(
                label
                for label, unknown in zip(grouping.labels, grouping.unknown, strict=True)
                if unknown
            )
            warnings.append(
                f"sensitive column {column!r} is missing for {unknown_rows:,} of "
                f"{rows:,} rows; they form the group '{group}'"
            )
    return warnings


def output(
    measured: Sequence[BinaryMeasurement] | Sequence[RegressionMeasurement],
    rows: int,
    settings: FairnessConfig,
    task: Task,
    seed: int,
    *,
    extra: Sequence[Part] = (),
) -> AuditorOutput:
    """The auditor's output: a summary table, then each grouping's results and tables.

    ``extra`` parts (LL144's) follow the groupings' results, tables and warnings.
    """
    parts = [
        binary_part(m, settings)
        if isinstance(m, BinaryMeasurement)
        else regression_part(m, settings)
        for m in measured
    ]
    summary = _summary_table(task, parts)
    parts.extend(extra)
    warnings = [w for part in parts for w in part.warnings]
    warnings.extend(_missing_value_warnings(measured, rows))
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=tuple(m for part in parts for m in part.metrics),
        method=method_text(settings, task, seed),
        tables=(summary, *(t for part in parts for t in part.tables)),
        limitations=LIMITATIONS,
        warnings=tuple(warnings),
        config=settings.model_dump(mode="json"),
    )


def unmeasured(
    roles: ColumnRoles, task: Task, settings: FairnessConfig, problem: str, seed: int
) -> AuditorOutput:
    """Every metric of the task, for every planned grouping, without a value."""
    names = (
        list(REGRESSION_METRICS)
        if task is Task.REGRESSION
        else [rate.name for rate in RATES] + list(DISPARITIES)
    )
    described = descriptions()
    # without sensitive columns the data as a whole is the one grouping
    planned = planned_groupings(
        roles.sensitive, intersectional=settings.intersectional, extra=settings.groupings
    ) or [()]
    metrics = tuple(
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=grouping,
            value=None,
            description=described[name],
            reason=problem,
        )
        for grouping in planned
        for name in names
    )
    if settings.ll144 is not None:
        planned_ll144 = ll144_groupings(settings.ll144, roles.sensitive)
        metrics += tuple(ll144_unmeasured(planned_ll144, problem).metrics)
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=metrics,
        method=method_text(settings, task, seed),
        limitations=LIMITATIONS,
        warnings=(f"fairness could not be measured: {problem}",),
        config=settings.model_dump(mode="json"),
    )

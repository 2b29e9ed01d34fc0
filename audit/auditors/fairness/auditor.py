"""The fairness auditor: per-group metrics, disparities between groups, and their uncertainty."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from audit.auditors._groupings import planned_groupings
from audit.auditors._settings import settings_as
from audit.auditors.fairness.bootstrap import (
    MAX_UNDEFINED_SHARE,
    percentile_interval,
    resample_counts,
    resample_regression_errors,
)
from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.counts import (
    FN,
    FP,
    RATES,
    TP,
    Comparison,
    Rate,
    compare_groups,
    rate_values,
)
from audit.auditors.fairness.tally import FairnessTally, GroupedCounts, tally_outcomes
from audit.core.context import ColumnRoles, ProgressFactory, Task, no_progress
from audit.core.groups import Grouping, SizedGroups, group_statuses, groupings_for
from audit.core.measurements import (
    AuditorOutput,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
)
from audit.errors import DataError

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["FairnessAuditor"]

FloatArray = npt.NDArray[np.float64]
Cell = str | int | float | None
_G = TypeVar("_G", Grouping, GroupedCounts)

AUDITOR = "fairness"

ERR_REGRESSION_CHUNKS = (
    "fairness of a regression model needs every row's error in memory, so it cannot be "
    "counted chunk by chunk; use the in-memory engine (--engine pandas)"
)

DISPARITIES: Mapping[str, str] = {
    "demographic_parity_difference": (
        "Largest minus smallest selection rate among the comparable groups "
        "(fairlearn's demographic_parity_difference)."
    ),
    "demographic_parity_ratio": (
        "Smallest over largest selection rate among the comparable groups "
        "(fairlearn's demographic_parity_ratio; the four-fifths rule's impact ratio)."
    ),
    "equalized_odds_difference": (
        "The larger of the true positive rate and false positive rate differences between "
        "comparable groups (fairlearn's equalized_odds_difference)."
    ),
    "equalized_odds_ratio": (
        "The smaller of the true positive rate and false positive rate min/max ratios between "
        "comparable groups (fairlearn's equalized_odds_ratio)."
    ),
}
"""Scalar metrics comparing the groups of one grouping (binary tasks)."""

REGRESSION_METRICS: Mapping[str, str] = {
    "mean_absolute_error": "Mean absolute difference between prediction and ground truth.",
    "root_mean_squared_error": "Square root of the mean squared prediction error.",
}
"""Per-group metrics of regression tasks."""

LIMITATIONS = (
    "Group metrics are observational: they show how decisions differ between groups in "
    "this data, not why, and say nothing about causes or intent.",
    "Estimates for small groups are uncertain; read them with their confidence intervals. "
    "Groups under the minimum size are reported but never compared.",
    "Intersectional groups multiply: with several sensitive columns many combinations are "
    "small, and combinations absent from the data are not reported at all.",
    "Fairness criteria conflict: when base rates differ between groups, equal selection "
    "rates (demographic parity), equal error rates (equalized odds) and calibration cannot "
    "all hold at once; which one matters is a policy decision.",
    "The metrics describe the model's decisions on this data only; another population, "
    "threshold or time period can give different results.",
    "Bootstrap intervals cover sampling variation of the rows in hand, not errors in the "
    "ground truth or in the recorded sensitive attributes.",
)


@dataclass
class _Part:
    """What one grouping contributes to the output."""

    metrics: list[MetricResult] = field(default_factory=list)
    tables: list[EvidenceTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: tuple[Cell, ...] = ()


def _float(value: float | np.floating[Any]) -> float | None:
    """Return ``value`` as a float, or ``None`` for NaN."""
    number = float(value)
    return None if math.isnan(number) else number


def _join(*notes: str | None) -> str | None:
    text = "; ".join(note for note in notes if note)
    return text or None


def _group_value(
    label: str,
    count: int,
    value: float,
    interval: tuple[float, float],
    status: tuple[GroupStatus, str | None],
    undefined_note: str,
) -> GroupValue:
    """One group's value, with its interval, and a status saying whether it is compared."""
    group_status, note = status
    defined = not math.isnan(value)
    if not defined:
        if group_status is GroupStatus.OK:
            group_status = GroupStatus.UNDEFINED
        note = _join(note, undefined_note)
    low, high = (_float(interval[0]), _float(interval[1])) if defined else (None, None)
    if low is None or high is None:
        low = high = None
    return GroupValue(
        group=label,
        count=count,
        value=_float(value),
        ci_low=low,
        ci_high=high,
        status=group_status,
        note=note,
    )


def _columns_label(columns: Sequence[str]) -> str:
    return " \N{MULTIPLICATION SIGN} ".join(columns)


def _list_columns(columns: Sequence[Any], limit: int = 20) -> str:
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def _outcome_problem(name: str, values: Any, rows: int, task: Task) -> str | None:
    """Why an outcome array cannot be used, or ``None`` when it can."""
    if values is None:
        return f"{name} is missing"
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != rows:
        return f"{name} has shape {array.shape} for {rows} rows of data"
    if array.dtype == bool:
        return None
    if not np.issubdtype(array.dtype, np.number):
        return f"{name} is not numeric (dtype {array.dtype})"
    integers = np.issubdtype(array.dtype, np.integer)
    if not integers and not np.isfinite(array).all():
        return f"{name} has {int((~np.isfinite(array)).sum())} missing or infinite values"
    # integers within [0, 1] are 0/1 (two passes); anything else is listed (a sort)
    within = integers and (len(array) == 0 or (array.min() >= 0 and array.max() <= 1))
    if task is Task.BINARY and not within:
        odd = np.setdiff1d(np.unique(array), [0, 1])
        if len(odd):
            shown = ", ".join(str(v) for v in odd[:5].tolist())
            return f"{name} holds values other than 0 and 1 ({shown})"
    return None


def _input_problem(context: AuditContext) -> str | None:
    """Why the context cannot be measured at all, or ``None``."""
    data = context.data
    sensitive = context.roles.sensitive
    if not sensitive:
        return "no sensitive columns were named, so there are no groups to compare"
    missing = [column for column in sensitive if column not in data.columns]
    if missing:
        named = ", ".join(repr(column) for column in missing)
        return f"sensitive column(s) {named} not in the data; its columns are: " + _list_columns(
            list(data.columns)
        )
    if len(data) == 0:
        return "the data has no rows"
    outcomes = context.outcomes
    for name, values in (("y_true", outcomes.y_true), ("y_pred", outcomes.y_pred)):
        problem = _outcome_problem(name, values, len(data), outcomes.task)
        if problem:
            return problem
    return None


class FairnessAuditor:
    """Group fairness of a model's decisions, measured with Fairlearn's definitions.

    For every sensitive column, and for the intersection of all of them, the
    auditor reports per-group selection, accuracy and error rates (binary tasks)
    or mean absolute and root mean squared errors (regression), each with a
    stratified bootstrap confidence interval; and, for binary tasks, the
    demographic parity and equalized odds differences and ratios over the groups
    that may be compared.

    Examples
    --------
    >>> auditor = FairnessAuditor()
    >>> auditor.name, "demographic_parity_ratio" in auditor.metrics()
    ('fairness', True)
    """

    name: ClassVar[str] = AUDITOR
    Config: ClassVar[type[BaseModel]] = FairnessConfig

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return _descriptions()

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Measure the fairness of ``context``'s outcomes across its sensitive groups.

        Parameters
        ----------
        context:
            Data, column roles and outcomes; the model itself is not called.
        config:
            A :class:`FairnessConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metric results per grouping, evidence tables, method and limitations.
            Bad data never raises: unmeasurable values carry a reason.
        """
        settings = settings_as(config, FairnessConfig)
        if context.outcomes.task is Task.REGRESSION:
            problem = _input_problem(context)
            if problem is not None:
                return _unmeasured(context.roles, Task.REGRESSION, settings, problem, context.seed)
            return _regression_output(context, settings)
        return self.finish(
            self.tally(context, settings),
            settings,
            roles=context.roles,
            seed=context.seed,
            progress=context.progress,
        )

    def tally(self, context: AuditContext, config: BaseModel) -> FairnessTally:
        """Count the confusion cells of each group in ``context``'s rows (binary tasks).

        Tallies of separate chunks of one table merge (:meth:`FairnessTally.merge`),
        and :meth:`finish` turns the merged tally into the same output as :meth:`run`
        on the whole table.
        """
        settings = settings_as(config, FairnessConfig)
        if context.outcomes.task is Task.REGRESSION:
            raise DataError(ERR_REGRESSION_CHUNKS)
        problem = _input_problem(context)
        if problem is not None:
            return FairnessTally(groupings=[], rows=len(context.data), problem=problem)
        return tally_outcomes(
            context.data,
            context.roles.sensitive,
            context.outcomes.y_true,
            context.outcomes.y_pred,
            intersectional=settings.intersectional,
        )

    def finish(
        self,
        tally: FairnessTally,
        config: BaseModel,
        *,
        roles: ColumnRoles,
        seed: int,
        progress: ProgressFactory = no_progress,
    ) -> AuditorOutput:
        """Turn a (merged) tally into per-group rates, disparities and their intervals.

        Parameters
        ----------
        tally:
            Confusion counts of every group, from :meth:`tally` over one or more chunks.
        config:
            A :class:`FairnessConfig` (or a model with the same fields).
        roles:
            The columns' roles (the sensitive columns name the groupings).
        seed:
            Seed of the bootstrap resamples.
        progress:
            Factory of progress bars.
        """
        settings = settings_as(config, FairnessConfig)
        if tally.problem is not None:
            return _unmeasured(roles, Task.BINARY, settings, tally.problem, seed)
        grouped = tally.grouped_counts()

        def measure(groups: GroupedCounts, rng: np.random.Generator) -> _Part:
            return _binary_part(groups, _statuses(groups, settings), settings, rng)

        parts = _measure_each(grouped, measure, seed=seed, progress=progress)
        return _output(parts, grouped, tally.rows, settings, Task.BINARY, seed)


def _descriptions() -> dict[str, str]:
    return {
        **{rate.name: rate.description for rate in RATES},
        **DISPARITIES,
        **REGRESSION_METRICS,
    }


def _statuses(
    groups: SizedGroups, settings: FairnessConfig
) -> list[tuple[GroupStatus, str | None]]:
    return group_statuses(
        groups,
        min_group_size=settings.min_group_size,
        exclude_below_share=settings.exclude_below_share,
        exclude_unknown=settings.unknown_group == "exclude",
    )


def _regression_output(context: AuditContext, settings: FairnessConfig) -> AuditorOutput:
    """Per-group errors of a regression model (rows are needed: no tally)."""
    groupings = groupings_for(
        context.data, context.roles.sensitive, intersectional=settings.intersectional
    )

    def measure(grouping: Grouping, rng: np.random.Generator) -> _Part:
        return _regression_part(context, grouping, _statuses(grouping, settings), settings, rng)

    parts = _measure_each(groupings, measure, seed=context.seed, progress=context.progress)
    return _output(parts, groupings, len(context.data), settings, Task.REGRESSION, context.seed)


def _measure_each(
    groupings: Sequence[_G],
    measure: Callable[[_G, np.random.Generator], _Part],
    *,
    seed: int,
    progress: ProgressFactory,
) -> list[_Part]:
    """Measure each grouping with its own random stream, spawned from the audit's seed."""
    seeds = np.random.SeedSequence(abs(int(seed))).spawn(len(groupings))
    bar = progress("fairness: groups and confidence intervals", len(groupings))
    parts: list[_Part] = []
    try:
        for grouping, grouping_seed in zip(groupings, seeds, strict=True):
            parts.append(measure(grouping, np.random.default_rng(grouping_seed)))
            bar.update(1)
    finally:
        bar.close()
    return parts


def _output(
    parts: Sequence[_Part],
    groupings: Sequence[Grouping | GroupedCounts],
    rows: int,
    settings: FairnessConfig,
    task: Task,
    seed: int,
) -> AuditorOutput:
    warnings = [w for part in parts for w in part.warnings]
    warnings.extend(_missing_value_warnings(groupings, rows))
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=tuple(m for part in parts for m in part.metrics),
        method=_method(settings, task, seed),
        tables=(_summary_table(task, parts), *(t for part in parts for t in part.tables)),
        limitations=LIMITATIONS,
        warnings=tuple(warnings),
        config=settings.model_dump(mode="json"),
    )


def _unmeasured(
    roles: ColumnRoles, task: Task, settings: FairnessConfig, problem: str, seed: int
) -> AuditorOutput:
    """Every metric of the task, for every planned grouping, without a value."""
    names = (
        list(REGRESSION_METRICS)
        if task is Task.REGRESSION
        else [rate.name for rate in RATES] + list(DISPARITIES)
    )
    descriptions = _descriptions()
    # without sensitive columns the data as a whole is the one grouping
    planned = planned_groupings(roles.sensitive, intersectional=settings.intersectional) or [()]
    metrics = tuple(
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=grouping,
            value=None,
            description=descriptions[name],
            reason=problem,
        )
        for grouping in planned
        for name in names
    )
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=metrics,
        method=_method(settings, task, seed),
        limitations=LIMITATIONS,
        warnings=(f"fairness could not be measured: {problem}",),
        config=settings.model_dump(mode="json"),
    )


def _intervals(
    estimates: FloatArray | None, groups: int, level: float
) -> list[tuple[float, float]]:
    if estimates is None:
        return [(math.nan, math.nan)] * groups
    low, high = percentile_interval(estimates, level)
    return list(zip(low.tolist(), high.tolist(), strict=True))


def _binary_part(
    grouping: GroupedCounts,
    statuses: list[tuple[GroupStatus, str | None]],
    settings: FairnessConfig,
    rng: np.random.Generator,
) -> _Part:
    """Rates per group, disparities between groups, and their tables, for one grouping."""
    counts = grouping.cells
    sizes = counts.sum(axis=1)
    level = settings.confidence_level
    resampled = resample_counts(counts, settings.bootstrap, rng) if settings.bootstrap else None
    comparable = np.array([status is GroupStatus.OK for status, _ in statuses], dtype=bool)

    part = _Part()
    values: dict[str, FloatArray] = {}
    for rate in RATES:
        values[rate.name] = rate_values(counts, rate)
        boot = rate_values(resampled, rate) if resampled is not None else None
        intervals = _intervals(boot, grouping.n_groups, level)
        part.metrics.append(
            _rate_result(grouping, rate, counts, values[rate.name], intervals, statuses, settings)
        )

    selection = compare_groups(values["selection_rate"], comparable)
    tpr = compare_groups(values["true_positive_rate"], comparable)
    fpr = compare_groups(values["false_positive_rate"], comparable)
    part.metrics.extend(_disparity_results(grouping, selection, tpr, fpr))
    part.tables.extend(_binary_tables(grouping, counts, values, statuses, comparable))
    total = int(sizes.sum())
    compared = int(comparable.sum())
    if selection.compared < 2:
        part.warnings.append(
            f"{_columns_label(grouping.columns)}: only {selection.compared} of "
            f"{grouping.n_groups} groups can be compared, so no disparity is measured"
        )
    dp_diff = _find(part.metrics, "demographic_parity_difference")
    dp_ratio = _find(part.metrics, "demographic_parity_ratio")
    eo_diff = _find(part.metrics, "equalized_odds_difference")
    eo_ratio = _find(part.metrics, "equalized_odds_ratio")
    part.summary = (
        _columns_label(grouping.columns),
        grouping.n_groups,
        compared,
        total,
        dp_diff,
        dp_ratio,
        eo_diff,
        eo_ratio,
    )
    return part


def _find(metrics: Sequence[MetricResult], name: str) -> float | None:
    return next(m.value for m in metrics if m.metric == name)


def _rate_result(
    grouping: GroupedCounts,
    rate: Rate,
    counts: npt.NDArray[np.int64],
    values: FloatArray,
    intervals: list[tuple[float, float]],
    statuses: list[tuple[GroupStatus, str | None]],
    settings: FairnessConfig,
) -> MetricResult:
    sizes = counts.sum(axis=1).tolist()
    groups = tuple(
        _group_value(label, int(size), float(value), interval, status, rate.undefined_note)
        for label, size, value, interval, status in zip(
            grouping.labels, sizes, values.tolist(), intervals, statuses, strict=True
        )
    )
    overall = _float(float(rate_values(counts.sum(axis=0), rate)))
    reason = None
    if overall is None:
        reason = rate.undefined_note.replace("in this group", "in the data") + "; rate undefined"
    compared = sum(1 for g in groups if g.status is GroupStatus.OK)
    return MetricResult(
        metric=rate.name,
        auditor=AUDITOR,
        grouping=grouping.columns,
        value=overall,
        groups=groups,
        description=(
            f"{rate.description} Value: whole population; {compared} of {len(groups)} "
            "groups comparable."
        ),
        reason=reason,
        confidence_level=settings.confidence_level if settings.bootstrap else None,
    )


def _fewer_than_two(what: str, comparison: Comparison, groups: int) -> str:
    return (
        f"fewer than two groups have a comparable {what} ({comparison.compared} of {groups}); "
        "see the groups' notes"
    )


def _disparity_results(
    grouping: GroupedCounts, selection: Comparison, tpr: Comparison, fpr: Comparison
) -> list[MetricResult]:
    """Demographic parity and equalized odds, difference and ratio, for one grouping."""
    groups = grouping.n_groups
    results: list[MetricResult] = []

    def add(metric: str, value: float | None, reason: str | None, compared: str) -> None:
        results.append(
            MetricResult(
                metric=metric,
                auditor=AUDITOR,
                grouping=grouping.columns,
                value=value,
                description=f"{DISPARITIES[metric]} Compared: {compared}.",
                reason=None if value is not None else reason,
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


def _binary_tables(
    grouping: GroupedCounts,
    counts: npt.NDArray[np.int64],
    values: Mapping[str, FloatArray],
    statuses: list[tuple[GroupStatus, str | None]],
    comparable: npt.NDArray[np.bool_],
) -> list[EvidenceTable]:
    label = _columns_label(grouping.columns)
    sizes = counts.sum(axis=1)
    total = int(sizes.sum())
    selection = values["selection_rate"]
    chosen = selection[comparable & ~np.isnan(selection)]
    top = float(chosen.max()) if len(chosen) else math.nan
    selection_rows: list[tuple[Cell, ...]] = []
    error_rows: list[tuple[Cell, ...]] = []
    for g, group in enumerate(grouping.labels):
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
                _float(selection[g]),
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
                *(_float(values[rate.name][g]) for rate in RATES[1:]),
                status.value,
                _join(note, *dict.fromkeys(undefined)),
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


def _regression_part(
    context: AuditContext,
    grouping: Grouping,
    statuses: list[tuple[GroupStatus, str | None]],
    settings: FairnessConfig,
    rng: np.random.Generator,
) -> _Part:
    """Mean absolute and root mean squared error per group, for one grouping."""
    y_true = np.asarray(context.outcomes.y_true, dtype=np.float64)
    y_pred = np.asarray(context.outcomes.y_pred, dtype=np.float64)
    errors = y_pred - y_true
    codes, n_groups = grouping.codes, grouping.n_groups
    sizes = grouping.counts()
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.bincount(codes, weights=np.abs(errors), minlength=n_groups) / sizes
        rmse = np.sqrt(np.bincount(codes, weights=np.square(errors), minlength=n_groups) / sizes)
    overall = {
        "mean_absolute_error": float(np.mean(np.abs(errors))),
        "root_mean_squared_error": float(np.sqrt(np.mean(np.square(errors)))),
    }
    boot_mae: FloatArray | None = None
    boot_rmse: FloatArray | None = None
    if settings.bootstrap:
        boot_mae, boot_rmse = resample_regression_errors(
            errors, codes, n_groups, settings.bootstrap, rng
        )
    part = _Part()
    per_metric = {
        "mean_absolute_error": (mae, boot_mae),
        "root_mean_squared_error": (rmse, boot_rmse),
    }
    compared = sum(1 for status, _ in statuses if status is GroupStatus.OK)
    for metric, (values, boot) in per_metric.items():
        intervals = _intervals(boot, n_groups, settings.confidence_level)
        groups = tuple(
            _group_value(label, int(size), float(value), interval, status, "no rows in this group")
            for label, size, value, interval, status in zip(
                grouping.labels, sizes.tolist(), values.tolist(), intervals, statuses, strict=True
            )
        )
        part.metrics.append(
            MetricResult(
                metric=metric,
                auditor=AUDITOR,
                grouping=grouping.columns,
                value=overall[metric],
                groups=groups,
                description=(
                    f"{REGRESSION_METRICS[metric]} Value: whole population; {compared} of "
                    f"{n_groups} groups comparable."
                ),
                confidence_level=settings.confidence_level if settings.bootstrap else None,
            )
        )
    total = int(sizes.sum())
    rows = tuple(
        (
            label,
            int(sizes[g]),
            int(sizes[g]) / total,
            _float(mae[g]),
            _float(rmse[g]),
            statuses[g][0].value,
            statuses[g][1],
        )
        for g, label in enumerate(grouping.labels)
    )
    label = _columns_label(grouping.columns)
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
    part.summary = (
        label,
        n_groups,
        compared,
        total,
        overall["mean_absolute_error"],
        overall["root_mean_squared_error"],
    )
    return part


def _summary_table(task: Task, parts: Sequence[_Part]) -> EvidenceTable:
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


def _missing_value_warnings(groupings: Sequence[Grouping | GroupedCounts], rows: int) -> list[str]:
    warnings = []
    for grouping in groupings:
        if len(grouping.columns) != 1 or not grouping.unknown.any():
            continue
        unknown_rows = int(grouping.counts()[grouping.unknown].sum())
        column = grouping.columns[0]
        if grouping.n_groups == 1:
            warnings.append(
                f"sensitive column {column!r} has no values: every row is in group "
                f"'{grouping.labels[0]}'"
            )
        else:
            warnings.append(
                f"sensitive column {column!r} is missing for {unknown_rows} of "
                f"{rows} rows; they form the group '{column}=unknown'"
            )
    return warnings


def _method(settings: FairnessConfig, task: Task, seed: int) -> str:
    if task is Task.REGRESSION:
        metrics = "mean absolute error and root mean squared error"
        resampling = "rows are drawn with replacement within each group"
    else:
        metrics = (
            "selection rate, accuracy, true and false positive rates, false negative rate "
            "and precision, computed from each group's confusion counts (one vectorised pass "
            "over all rows)"
        )
        resampling = (
            "each group's confusion counts are redrawn from a multinomial distribution over "
            "its own cell proportions, which is the same as redrawing the group's rows with "
            "replacement"
        )
    parts = [
        "Groups are the values of each sensitive column, and "
        + (
            "the combinations of all sensitive columns (intersectional groups)"
            if settings.intersectional
            else "not their combinations"
        )
        + "; a missing value (empty, NaN or None) forms the group 'unknown'"
        + (", which is reported but not compared." if settings.unknown_group == "exclude" else ".")
        + f" Groups with fewer than {settings.min_group_size} rows are reported as small and "
        "never compared"
        + (
            f"; groups holding under {100 * settings.exclude_below_share:g}% of the rows are "
            "excluded from comparisons."
            if settings.exclude_below_share > 0
            else "."
        ),
        f"Per group the auditor measures {metrics}. The whole-population value is the same "
        "metric over all rows.",
    ]
    if task is Task.BINARY:
        parts.append(
            "Disparities follow Fairlearn's definitions over the comparable groups only: "
            "demographic parity difference and ratio are the largest minus the smallest, and "
            "the smallest over the largest, selection rate; equalized odds difference is the "
            "larger of the true and false positive rate differences, and its ratio the smaller "
            "of their min/max ratios. A rate whose denominator is 0 in a group is undefined "
            "there and that group is left out of its comparison. The test suite checks these "
            "numbers against fairlearn's MetricFrame and disparity functions."
        )
    else:
        parts.append(
            "The per-group errors equal those of fairlearn's MetricFrame with scikit-learn's "
            "error functions, which the test suite checks."
        )
    if settings.bootstrap:
        parts.append(
            f"Confidence intervals are {100 * settings.confidence_level:g}% percentile intervals "
            f"from {settings.bootstrap} stratified bootstrap resamples (seed {seed}): "
            f"{resampling}. Resamples in which a metric is undefined are dropped; when more "
            f"than {MAX_UNDEFINED_SHARE:.0%} are, no interval is given."
        )
    else:
        parts.append("No confidence intervals were computed (bootstrap = 0).")
    return " ".join(parts)

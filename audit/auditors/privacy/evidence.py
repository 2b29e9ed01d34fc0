"""The privacy auditor's evidence: its measurement as metric results, tables and charts.

Nothing here measures; every number comes from :mod:`audit.auditors.privacy.measure`.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.auditors._groupings import planned_groupings
from audit.auditors.privacy.charts import utility_charts
from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.describe import (
    AUDITOR,
    ERR_AUDITED_SEEN,
    ERR_FEW_ATTACK_ROWS,
    ERR_NO_SCORES,
    ERR_OTHER_TASK,
    ERR_SMALL_HOLDOUT,
    ERR_UNTRAINED_REFERENCE,
    ERR_WIDE_INTERVAL,
    GROUPED,
    LIMITATIONS,
    METRICS,
    SCALARS,
    method_text,
)
from audit.auditors.privacy.drop_intervals import Interval
from audit.auditors.privacy.measure import DropIntervals, PrivacyMeasurement, UtilityByGrouping
from audit.auditors.privacy.membership_inference import AttackResult
from audit.auditors.privacy.persistence import METADATA_FILE, STATE_FILE
from audit.auditors.privacy.utility import (
    BINARY_MEASURES,
    REGRESSION_MEASURES,
    Measure,
    lost,
)
from audit.core.context import Task
from audit.core.measurements import (
    AuditorOutput,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
)

__all__ = ["measured_output", "unmeasured_output"]

Cell = str | int | float | None


def _fmt(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _digits(value: float | None) -> str | None:
    """``value`` with 12 significant digits: enough to recompute epsilon from the report."""
    return None if value is None else f"{value:.12g}"


def _grouping_label(columns: tuple[str, ...]) -> str:
    return " \u00d7 ".join(columns) if columns else "overall"


RETRAIN = "retrain_"
"""Prefix of the metrics of the audited model against the non-private reference."""

_HOLDOUT_NOTES: dict[bool | None, str] = {
    True: "The holdout holds no row the audited model was trained on (membership_column).",
    None: "The audited model's training rows are not known (no membership_column): the "
    "holdout may hold some, and its utility may then be optimistic.",
    False: "Almost every sampled row is a training row of the audited model, so its utility "
    "is not shown.",
}


def _other_task(task: Task) -> tuple[tuple[Measure, ...], str]:
    """The measures of the other task, and the name of the task they are for."""
    if task is Task.REGRESSION:
        return BINARY_MEASURES, "binary"
    return REGRESSION_MEASURES, "regression"


def _scalar(name: str, value: float | None, reason: str | None = None) -> MetricResult:
    """A scalar whose ``reason`` says why it has no value (dropped when it has one)."""
    return _with_reason(name, value, reason if value is None else None)


HELD_TO_WIDTH = frozenset({"accuracy", "auc"})
"""Measures whose drop is a fraction, held to ``max_interval_width``."""


def _too_wide(interval: Interval | None, settings: PrivacyConfig) -> str | None:
    """Why a figure with ``interval`` may not pass: wider than allowed; else ``None``."""
    maximum = settings.max_interval_width
    if interval is None or maximum is None:
        return None
    low, high = interval
    if high - low <= maximum:
        return None
    return ERR_WIDE_INTERVAL.format(
        level=f"{settings.confidence_level:.0%}",
        low=low,
        high=high,
        width=high - low,
        maximum=maximum,
    )


def _drop_reason(
    measure: Measure, interval: Interval | None, settings: PrivacyConfig
) -> str | None:
    """Why a drop may not pass (its interval is too wide), for the fractions held to it."""
    return _too_wide(interval, settings) if measure.key in HELD_TO_WIDTH else None


def _untrained_reference(found: PrivacyMeasurement, measure: Measure) -> str | None:
    """Why ``measure``'s drop means nothing: the reference beat no trivial model; else ``None``.

    A reference no more accurate on its own training rows than always deciding their most
    common class (accuracy), or ranking them no better than chance (AUC), has nothing DP
    could take away, so a drop of 0 would read as
    "DP is free" when neither model learned.
    """
    value = found.reference_fit.get(measure.key)
    if measure.key == "accuracy":
        baseline, floor = found.majority_share, "always deciding the most common class"
    elif measure.key == "auc":
        baseline, floor = 0.5, "chance"
    else:
        return None
    if value is None or baseline is None or value > baseline:
        return None
    return ERR_UNTRAINED_REFERENCE.format(
        measure=measure.title,
        value=value,
        floor=floor,
        baseline=baseline,
        steps=found.reference_report.steps,
    )


def _small_holdout(found: PrivacyMeasurement, settings: PrivacyConfig) -> str | None:
    """Why the overall drops are not judged: a holdout under ``min_group_size``; else ``None``.

    A group under ``min_group_size`` is never judged; the whole holdout is held to the same
    rule, as it can be a handful of rows when ``membership_column`` leaves few non-members.
    """
    if found.holdout_rows >= settings.min_group_size:
        return None
    return ERR_SMALL_HOLDOUT.format(rows=found.holdout_rows, minimum=settings.min_group_size)


def _attack_metrics(
    prefix: str, result: AttackResult | str, settings: PrivacyConfig
) -> list[MetricResult]:
    """AUC and advantage of one attack; without a value when it was not run or is too small."""
    if isinstance(result, str):
        reason: str | None = result
    elif min(result.members, result.non_members) < settings.min_group_size:
        reason = ERR_FEW_ATTACK_ROWS.format(
            members=result.members, others=result.non_members, minimum=settings.min_group_size
        )
    else:
        return [
            _with_reason(
                f"{prefix}attack_auc", result.auc, _too_wide(_pair(result.auc_ci), settings)
            ),
            _with_reason(
                f"{prefix}attack_advantage",
                result.advantage,
                _too_wide(_pair(result.advantage_ci), settings),
            ),
        ]
    return [
        _scalar(f"{prefix}attack_auc", None, reason=reason),
        _scalar(f"{prefix}attack_advantage", None, reason=reason),
    ]


def _pair(bounds: tuple[float | None, float | None]) -> Interval | None:
    low, high = bounds
    return None if low is None or high is None else (low, high)


def _with_reason(name: str, value: float | None, reason: str | None) -> MetricResult:
    """A scalar that keeps ``reason`` beside its value: the policy lets it fail, never pass."""
    return MetricResult(
        metric=name,
        auditor=AUDITOR,
        grouping=(),
        value=value,
        description=METRICS[name],
        reason=reason,
    )


def unmeasured_output(
    settings: PrivacyConfig, sensitive: Sequence[str], problem: str
) -> AuditorOutput:
    """Every metric, for every planned grouping, without a value, and ``problem`` as reason."""
    metrics = [
        MetricResult(
            metric=name, auditor=AUDITOR, grouping=(), value=None, description=text, reason=problem
        )
        for name, text in SCALARS.items()
    ]
    metrics.extend(
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=grouping,
            value=None,
            description=text,
            reason=problem,
        )
        for grouping in planned_groupings(tuple(sensitive))
        for name, text in GROUPED.items()
    )
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=tuple(metrics),
        method=method_text(settings),
        limitations=LIMITATIONS,
        warnings=(f"privacy could not be measured: {problem}",),
        config=settings.model_dump(mode="json"),
    )


def measured_output(
    found: PrivacyMeasurement, settings: PrivacyConfig, sensitive: Sequence[str]
) -> AuditorOutput:
    """The auditor's output for a measurement: metrics, tables, charts, method, limits."""
    report = found.report
    metrics: list[MetricResult] = [
        _scalar("epsilon", report.epsilon),
        _scalar("delta", report.delta),
    ]
    reference = found.reference[()][0].values
    small = _small_holdout(found, settings)
    for measure in found.measures:
        value = lost(measure, reference[measure.key], found.dp[()][0].values[measure.key])
        if small is not None:
            metrics.append(_scalar(measure.metric, None, small))
            continue
        untrained = _untrained_reference(found, measure)
        if value is None or untrained is not None:
            reason = untrained or f"{measure.title} undefined overall"
            metrics.append(_scalar(measure.metric, None, reason))
            continue
        interval = found.drop_intervals[()][0][measure.key]
        metrics.append(
            _with_reason(measure.metric, value, _drop_reason(measure, interval, settings))
        )
    others, wanted = _other_task(found.task)
    metrics.extend(
        _scalar(m.metric, None, reason=_other_reason(m.metric, wanted, found.task)) for m in others
    )
    metrics.extend(_retrain(found, settings))
    metrics.extend(
        _scalar(RETRAIN + m.metric, None, _other_reason(RETRAIN + m.metric, wanted, found.task))
        for m in others
    )
    metrics.extend(_attack_metrics("", found.attack, settings))
    metrics.extend(_attack_metrics("dp_", found.dp_attack, settings))
    metrics.extend(_grouped(found, settings, sensitive))
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=tuple(metrics),
        method=method_text(
            settings,
            regression=found.regression,
            stand_in=found.stand_in,
            mode=report.grad_sample_mode,
            device=report.device,
        ),
        tables=(
            training_table(found),
            utility_table(found, settings),
            sweep_table(found),
            attack_table(found, settings),
            saved_table(found),
        ),
        charts=utility_charts(found, settings),
        limitations=LIMITATIONS,
        warnings=found.warnings,
        config=settings.model_dump(mode="json"),
    )


# ---------------------------------------------------------------------- metrics


def _other_reason(metric: str, wanted: str, task: Task) -> str:
    return ERR_OTHER_TASK.format(metric=metric, wanted=wanted, task=task)


def _retrain(found: PrivacyMeasurement, settings: PrivacyConfig) -> list[MetricResult]:
    """The audited model against the non-private reference: the change of model, not DP."""
    results: list[MetricResult] = []
    reference = found.reference[()][0].values
    small = _small_holdout(found, settings)
    for measure in found.measures:
        name = RETRAIN + measure.metric
        if found.audited is None or small is not None:
            reason = small or ERR_AUDITED_SEEN.format(column=settings.membership_column)
            results.append(_scalar(name, None, reason))
            continue
        audited = found.audited[()][0].values
        value = lost(measure, audited[measure.key], reference[measure.key])
        reason = f"{measure.title} undefined overall"
        if measure.key == "auc" and audited["auc"] is None:
            reason = ERR_NO_SCORES
        results.append(_scalar(name, value, reason))
    return results


def _grouped(
    found: PrivacyMeasurement, settings: PrivacyConfig, sensitive: Sequence[str]
) -> list[MetricResult]:
    results: list[MetricResult] = []
    others, wanted = _other_task(found.task)
    for columns in planned_groupings(tuple(sensitive)):
        for measure in found.measures:
            untrained = _untrained_reference(found, measure)
            if untrained is not None:
                results.append(_unmeasured_grouped(measure.grouped_metric, columns, untrained))
                continue
            results.append(
                _grouped_one(
                    measure, columns, (found.reference, found.dp), found.drop_intervals, settings
                )
            )
        results.extend(
            MetricResult(
                metric=m.grouped_metric,
                auditor=AUDITOR,
                grouping=columns,
                value=None,
                description=METRICS[m.grouped_metric],
                reason=_other_reason(m.grouped_metric, wanted, found.task),
            )
            for m in others
        )
    return results


def _unmeasured_grouped(name: str, columns: tuple[str, ...], reason: str) -> MetricResult:
    return MetricResult(
        metric=name,
        auditor=AUDITOR,
        grouping=columns,
        value=None,
        description=METRICS[name],
        reason=reason,
    )


def _grouped_one(
    measure: Measure,
    columns: tuple[str, ...],
    utilities: tuple[UtilityByGrouping, UtilityByGrouping],
    intervals: DropIntervals,
    settings: PrivacyConfig,
) -> MetricResult:
    name = measure.grouped_metric
    before, after = utilities
    if columns not in before:
        return _unmeasured_grouped(name, columns, "no rows of these groups in the holdout")
    groups = []
    for orig, dpu, bounds in zip(before[columns], after[columns], intervals[columns], strict=True):
        value = lost(measure, orig.values[measure.key], dpu.values[measure.key])
        interval = bounds[measure.key]
        wide = _drop_reason(measure, interval, settings)
        status, note = GroupStatus.OK, None
        if orig.count < settings.min_group_size:
            status = GroupStatus.SMALL
            note = f"fewer than {settings.min_group_size} holdout rows"
        elif value is None:
            status = GroupStatus.UNDEFINED
            note = f"{measure.title} undefined in this group"
        elif wide is not None:
            status, note = GroupStatus.SMALL, f"the drop's {wide}"
        low, high = (None, None) if interval is None or value is None else interval
        groups.append(
            GroupValue(
                group=orig.label,
                count=orig.count,
                value=value,
                ci_low=low,
                ci_high=high,
                status=status,
                note=note,
            )
        )
    overall = lost(measure, before[()][0].values[measure.key], after[()][0].values[measure.key])
    return MetricResult(
        metric=name,
        auditor=AUDITOR,
        grouping=columns,
        value=overall,
        groups=tuple(groups),
        description=METRICS[name],
        reason=None if overall is not None else f"{measure.title} undefined overall",
        confidence_level=settings.confidence_level,
    )


# ---------------------------------------------------------------------- tables


def training_table(found: PrivacyMeasurement) -> EvidenceTable:
    """How the DP model was trained."""
    r = found.report
    model = (
        "stand-in " + str(found.architecture.get("model"))
        if found.stand_in
        else "audited network, fresh weights (" + str(found.architecture["class"]) + ")"
    )
    rows: list[tuple[Cell, Cell]] = [
        ("task", str(found.task)),
        ("DP model", model),
        ("target epsilon", r.target_epsilon),
        ("epsilon spent", _fmt(r.epsilon)),
        ("delta", r.delta),
        ("1 / training rows (delta should be well below it)", _digits(1 / found.training_rows)),
        ("accountant", r.accountant),
        ("noise multiplier \u03c3", _digits(r.noise_multiplier)),
        ("max grad norm (clipping)", r.max_grad_norm),
        ("sample rate q (Poisson, 1 / batches per epoch)", _digits(r.sample_rate)),
        ("batch_size (batches per epoch: ceil(training rows / batch_size))", r.batch_size),
        ("expected batch size (q \u00d7 training rows)", _fmt(found.expected_batch_size, 2)),
        ("epochs", r.epochs),
        ("steps", r.steps),
        ("per-sample gradients (grad_sample_mode)", r.grad_sample_mode),
        ("device", r.device),
        ("training rows / holdout rows", f"{found.training_rows} / {found.holdout_rows}"),
        ("training throughput (rows/s)", _fmt(r.samples_per_second, 1)),
    ]
    if found.scaling is not None:
        rows.append(
            ("target standardised (mean, scale)", f"{found.scaling[0]:.6g}, {found.scaling[1]:.6g}")
        )
    return EvidenceTable(
        title="DP training",
        columns=("setting", "value"),
        rows=tuple(rows),
        caption="How the DP model was trained; epsilon spent is read from the accountant, "
        "and recomputed by it from \u03c3, q and the steps.",
    )


def utility_table(found: PrivacyMeasurement, settings: PrivacyConfig) -> EvidenceTable:
    """Holdout utility of the audited model, the non-private reference and the DP model."""
    rows: list[tuple[Cell, ...]] = []
    level = f"{settings.confidence_level:.0%}"
    for columns, references in found.reference.items():
        audited = None if found.audited is None else found.audited.get(columns)
        pairs = zip(references, found.dp[columns], found.drop_intervals[columns], strict=True)
        for index, (ref, dpu, bounds) in enumerate(pairs):
            orig = None if audited is None else audited[index]
            cells: list[Cell] = [_grouping_label(columns), ref.label, ref.count]
            for m in found.measures:
                a = None if orig is None else orig.values[m.key]
                r, d = ref.values[m.key], dpu.values[m.key]
                cost = lost(m, r, d)
                shown = None if cost is None else _ci(bounds[m.key] or (None, None))
                cells.extend((_fmt(a), _fmt(r), _fmt(d), _fmt(lost(m, a, r)), _fmt(cost), shown))
            rows.append(tuple(cells))
    headers: list[str] = ["grouping", "group", "rows"]
    for m in found.measures:
        headers.extend(
            (
                f"{m.title} (audited)",
                f"{m.title} (non-private)",
                f"{m.title} (DP)",
                f"{m.lost_title}: audited to non-private",
                f"{m.lost_title}: cost of DP",
                f"{m.lost_title}: cost of DP, {level} CI",
            )
        )
    lost_word = "an increase in error" if found.regression else "a positive drop"
    return EvidenceTable(
        title="Utility on the holdout: audited model, non-private reference and DP model "
        f"(\u03b5={settings.target_epsilon:g})",
        columns=tuple(headers),
        rows=tuple(rows),
        caption=f"The cost of DP (judged) is the non-private reference against the DP model, "
        f"both of the same class and trained on the same split; it shows as {lost_word}. "
        "Audited to non-private is the change of model class and training rows, not DP. "
        "The cost's interval pairs the two models on the same rows (accuracy: Newcombe's "
        "paired interval; the others: paired bootstrap). "
        + _HOLDOUT_NOTES[found.holdout_unseen]
        + (" Errors are in the target's units." if found.regression else ""),
    )


def sweep_table(found: PrivacyMeasurement) -> EvidenceTable:
    """Utility per group of every model of the epsilon sweep."""
    rows: list[tuple[Cell, ...]] = []
    for point in found.sweep:
        r = point.report
        for columns, utilities in point.utility.items():
            for u in utilities:
                rows.append(
                    (
                        point.label,
                        _fmt(r.epsilon),
                        _fmt(r.noise_multiplier),
                        _grouping_label(columns),
                        u.label,
                        u.count,
                        *(_fmt(u.values[m.key]) for m in found.measures),
                    )
                )
    return EvidenceTable(
        title="Epsilon sweep: utility per group against epsilon",
        columns=(
            "target",
            "epsilon spent",
            "noise multiplier",
            "grouping",
            "group",
            "rows",
            *(m.title for m in found.measures),
        ),
        rows=tuple(rows),
        caption="The same model and data trained at each target epsilon, and without DP.",
    )


def _ci(bounds: tuple[float | None, float | None]) -> str | None:
    low, high = bounds
    return None if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def attack_table(found: PrivacyMeasurement, settings: PrivacyConfig) -> EvidenceTable:
    """The membership attack on the audited model (or why not) and on the DP model."""
    level = f"{settings.confidence_level:.0%}"
    original, dp = found.attack, found.dp_attack
    rows: list[tuple[Cell, ...]] = []
    if isinstance(original, str):
        rows.append(("audited model", None, None, None, None, None, None, original))
    else:
        rows.append(_attack_row("audited model", original, settings, audited=True))
    rows.append(_attack_row("DP model", dp, settings, audited=False))
    return EvidenceTable(
        title="Membership inference (loss threshold, Yeom et al. 2018)",
        columns=(
            "model",
            "members",
            "non-members",
            "attack AUC",
            f"AUC {level} CI",
            "advantage",
            f"advantage {level} CI",
            "note",
        ),
        rows=tuple(rows),
        caption="AUC 0.5 and advantage 0 mean the attacker does no better than chance. "
        "The advantage is cross-fitted (each half's threshold chosen on the other half), so "
        "without leakage it is 0 on average and can be slightly negative. "
        + (
            "The loss is the squared error of the predicted value."
            if found.regression
            else "The loss is the cross-entropy of the positive-class score."
        ),
    )


def _attack_row(
    model: str, result: AttackResult, settings: PrivacyConfig, *, audited: bool
) -> tuple[Cell, ...]:
    note = (
        f"members: rows where {settings.membership_column!r} is true"
        if audited
        else "members: the training split; non-members: the holdout"
    )
    return (
        model,
        result.members,
        result.non_members,
        _fmt(result.auc),
        _ci(result.auc_ci),
        _fmt(result.advantage),
        _ci(result.advantage_ci),
        note,
    )


def saved_table(found: PrivacyMeasurement) -> EvidenceTable:
    """Where the DP model was saved and how to load it."""
    saved = found.saved
    rows: tuple[tuple[Cell, Cell], ...] = (
        ("folder", saved or "not saved"),
        ("files", f"{STATE_FILE}, {METADATA_FILE}" if saved else None),
        (
            "load with",
            "audit.auditors.privacy.load_dp_model(folder)"
            + ("" if found.stand_in else " with module= and encode=")
            if saved
            else None,
        ),
    )
    return EvidenceTable(
        title="Saved DP model",
        columns=("item", "value"),
        rows=rows,
        caption="State dict and metadata (epsilon, delta, accountant, data SHA-256, columns).",
    )

"""The fairness auditor's numbers: per-group rates, their intervals and the disparities.

Everything here returns plain numbers (dataclasses of NumPy arrays); nothing builds a
report object.  :mod:`audit.auditors.fairness.evidence` turns these numbers into
metric results and evidence tables.  NaN marks an undefined value or a missing
interval bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.counts import (
    FP,
    RATES,
    TP,
    Comparison,
    Rate,
    compare_groups,
    rate_parts,
    rate_values,
)
from audit.auditors.fairness.tally import GroupedCounts
from audit.core.context import ProgressFactory
from audit.core.groups import Grouping, SizedGroups, group_statuses
from audit.core.measurements import GroupStatus
from audit.stats.bootstrap import percentile_interval, resample_counts, resample_regression_errors
from audit.stats.multiple import holm_adjust
from audit.stats.proportions import proportion_interval
from audit.stats.two_groups import GroupComparison, compare_with_reference

__all__ = [
    "BinaryMeasurement",
    "RateEstimate",
    "RegressionMeasurement",
    "Status",
    "measure_binary",
    "measure_each",
    "measure_regression",
    "statuses_for",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Status = tuple[GroupStatus, str | None]
_G = TypeVar("_G", Grouping, GroupedCounts)
_M = TypeVar("_M")


@dataclass(frozen=True, eq=False)
class RateEstimate:
    """One rate in every group of a grouping.

    Attributes
    ----------
    rate:
        The rate's definition.
    values:
        Per group; NaN where the rate's denominator is 0.
    low, high:
        Per group, the bootstrap interval's bounds; NaN where none was computed.
    overall:
        The rate over all rows; NaN when undefined.
    """

    rate: Rate
    values: FloatArray
    low: FloatArray
    high: FloatArray
    overall: float


@dataclass(frozen=True, eq=False)
class BinaryMeasurement:
    """What the fairness auditor measures over one grouping of a binary task.

    Attributes
    ----------
    columns, labels:
        The grouping's sensitive columns, and each group's display label.
    unknown:
        Per group, whether it is the missing-value group.
    cells:
        Shape ``(groups, 4)``: confusion counts (see :data:`~.counts.CELLS`).
    statuses:
        Per group, whether it is compared and why not.
    rates:
        Every rate of :data:`~.counts.RATES`, by name.
    selection, tpr, fpr:
        The selection, true positive and false positive rates compared across the
        comparable groups (fairlearn's between-groups difference and ratio).
    reference:
        Index of the reference group: the highest selection rate among the comparable
        groups (the first such group on a tie); ``None`` when no group is comparable.
    versus:
        Per group, its selections tested against the reference group's; ``None`` for
        the reference itself, excluded groups and empty groups.
    holm:
        Per group, the Holm-adjusted one-sided Fisher p-value over every group tested
        against the reference in this grouping; NaN where untested.
    """

    columns: tuple[str, ...]
    labels: tuple[str, ...]
    unknown: BoolArray
    cells: IntArray
    statuses: tuple[Status, ...]
    rates: Mapping[str, RateEstimate]
    selection: Comparison
    tpr: Comparison
    fpr: Comparison
    reference: int | None
    versus: tuple[GroupComparison | None, ...]
    holm: FloatArray

    @property
    def sizes(self) -> IntArray:
        """Rows per group."""
        return np.asarray(self.cells.sum(axis=1), dtype=np.int64)

    @property
    def comparable(self) -> BoolArray:
        """Per group, whether its status lets it be compared."""
        return np.array([status is GroupStatus.OK for status, _ in self.statuses], dtype=bool)


@dataclass(frozen=True, eq=False)
class RegressionMeasurement:
    """Per-group errors of a regression model over one grouping.

    Attributes
    ----------
    columns, labels, unknown, statuses:
        As in :class:`BinaryMeasurement`.
    sizes:
        Rows per group.
    errors:
        ``"mean_absolute_error"`` and ``"root_mean_squared_error"``: per-group values
        (NaN for empty groups), with interval bounds and the whole-population value.
    """

    columns: tuple[str, ...]
    labels: tuple[str, ...]
    unknown: BoolArray
    sizes: IntArray
    statuses: tuple[Status, ...]
    errors: Mapping[str, tuple[FloatArray, FloatArray, FloatArray, float]]


def statuses_for(groups: SizedGroups, settings: FairnessConfig) -> tuple[Status, ...]:
    """Whether each group is compared, by the settings' size, share and unknown rules."""
    return tuple(
        group_statuses(
            groups,
            min_group_size=settings.min_group_size,
            exclude_below_share=settings.exclude_below_share,
            exclude_unknown=settings.unknown_group == "exclude",
        )
    )


def _bounds(
    estimates: FloatArray | None, groups: int, level: float
) -> tuple[FloatArray, FloatArray]:
    if estimates is None:
        return np.full(groups, np.nan), np.full(groups, np.nan)
    return percentile_interval(estimates, level)


def measure_binary(
    grouping: GroupedCounts, settings: FairnessConfig, rng: np.random.Generator
) -> BinaryMeasurement:
    """Rates per group with bootstrap intervals, and the disparities, for one grouping.

    Examples
    --------
    >>> cells = np.array([[40, 10, 5, 45], [60, 5, 20, 15]])
    >>> counts = GroupedCounts(("sex",), ("sex=F", "sex=M"), np.zeros(2, bool), cells)
    >>> m = measure_binary(counts, FairnessConfig(bootstrap=0), np.random.default_rng(0))
    >>> m.rates["selection_rate"].values.tolist(), m.selection.ratio
    ([0.55, 0.2], 0.36363636363636365)
    """
    counts = grouping.cells
    statuses = statuses_for(grouping, settings)
    level = settings.confidence_level
    bootstrapped = settings.rate_interval == "bootstrap" and settings.bootstrap > 0
    resampled = resample_counts(counts, settings.bootstrap, rng) if bootstrapped else None
    comparable = np.array([status is GroupStatus.OK for status, _ in statuses], dtype=bool)
    rates: dict[str, RateEstimate] = {}
    for rate in RATES:
        values = rate_values(counts, rate)
        if settings.rate_interval == "bootstrap":
            boot = rate_values(resampled, rate) if resampled is not None else None
            low, high = _bounds(boot, grouping.n_groups, level)
        else:
            low, high = proportion_interval(
                *rate_parts(counts, rate), confidence_level=level, method=settings.rate_interval
            )
        overall = float(rate_values(counts.sum(axis=0), rate))
        rates[rate.name] = RateEstimate(rate, values, low, high, overall)
    selection = rates["selection_rate"].values
    reference, versus, holm = _versus_reference(counts, selection, statuses, comparable, level)
    return BinaryMeasurement(
        columns=grouping.columns,
        labels=grouping.labels,
        unknown=grouping.unknown,
        cells=counts,
        statuses=statuses,
        rates=rates,
        selection=compare_groups(rates["selection_rate"].values, comparable),
        tpr=compare_groups(rates["true_positive_rate"].values, comparable),
        fpr=compare_groups(rates["false_positive_rate"].values, comparable),
        reference=reference,
        versus=versus,
        holm=holm,
    )


def _versus_reference(
    counts: IntArray,
    selection: FloatArray,
    statuses: Sequence[Status],
    comparable: BoolArray,
    level: float,
) -> tuple[int | None, tuple[GroupComparison | None, ...], FloatArray]:
    """Every group that is not excluded, tested against the highest-rate comparable group."""
    candidates = np.flatnonzero(comparable & ~np.isnan(selection))
    holm = np.full(len(selection), np.nan)
    if len(candidates) == 0:
        return None, (None,) * len(selection), holm
    reference = int(candidates[np.argmax(selection[candidates])])
    selected = counts[:, FP] + counts[:, TP]
    sizes = counts.sum(axis=1)
    versus: list[GroupComparison | None] = []
    for g, (status, _) in enumerate(statuses):
        if g == reference or status is GroupStatus.EXCLUDED or sizes[g] == 0:
            versus.append(None)
            continue
        versus.append(
            compare_with_reference(
                int(selected[g]),
                int(sizes[g]),
                int(selected[reference]),
                int(sizes[reference]),
                confidence_level=level,
            )
        )
    tested = [g for g, v in enumerate(versus) if v is not None]
    if tested:
        fisher = [v.fisher_p_value for v in versus if v is not None]
        holm[tested] = holm_adjust(fisher)
    return reference, tuple(versus), holm


def measure_regression(
    grouping: Grouping,
    y_true: FloatArray,
    y_pred: FloatArray,
    settings: FairnessConfig,
    rng: np.random.Generator,
) -> RegressionMeasurement:
    """Mean absolute and root mean squared error per group, with bootstrap intervals."""
    errors = y_pred - y_true
    codes, n_groups = grouping.codes, grouping.n_groups
    sizes = grouping.counts()
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.bincount(codes, weights=np.abs(errors), minlength=n_groups) / sizes
        rmse = np.sqrt(np.bincount(codes, weights=np.square(errors), minlength=n_groups) / sizes)
    boot_mae: FloatArray | None = None
    boot_rmse: FloatArray | None = None
    if settings.bootstrap:
        boot_mae, boot_rmse = resample_regression_errors(
            errors, codes, n_groups, settings.bootstrap, rng
        )
    level = settings.confidence_level
    measured = {
        "mean_absolute_error": (mae, boot_mae, float(np.mean(np.abs(errors)))),
        "root_mean_squared_error": (rmse, boot_rmse, float(np.sqrt(np.mean(np.square(errors))))),
    }
    return RegressionMeasurement(
        columns=grouping.columns,
        labels=grouping.labels,
        unknown=grouping.unknown,
        sizes=sizes,
        statuses=statuses_for(grouping, settings),
        errors={
            name: (values, *_bounds(boot, n_groups, level), overall)
            for name, (values, boot, overall) in measured.items()
        },
    )


def measure_each(
    groupings: Sequence[_G],
    measure: Callable[[_G, np.random.Generator], _M],
    *,
    seed: int,
    progress: ProgressFactory,
) -> list[_M]:
    """Measure each grouping with its own random stream, spawned from the audit's seed."""
    seeds = np.random.SeedSequence(abs(int(seed))).spawn(len(groupings))
    bar = progress("fairness: groups and confidence intervals", len(groupings))
    measured: list[_M] = []
    try:
        for grouping, grouping_seed in zip(groupings, seeds, strict=True):
            measured.append(measure(grouping, np.random.default_rng(grouping_seed)))
            bar.update(1)
    finally:
        bar.close()
    return measured

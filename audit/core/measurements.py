"""What auditors measure: metric values per group, evidence tables, and their output.

Auditors produce these; the policy evaluator compares them with thresholds, and
the reports render them.  Every number a report shows lives in one of these objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AuditorOutput",
    "BarChart",
    "Chart",
    "EvidenceTable",
    "GroupStatus",
    "GroupValue",
    "LineChart",
    "LineSeries",
    "MetricResult",
    "grouping_label",
]


class GroupStatus(StrEnum):
    """Whether a group's value may enter a comparison between groups."""

    OK = "ok"
    """Large enough and defined: compared."""
    SMALL = "small"
    """Fewer rows than the auditor's minimum: reported, never compared."""
    EXCLUDED = "excluded"
    """Left out of comparisons by a stated rule (e.g. NYC LL144's under-2% categories)."""
    UNDEFINED = "undefined"
    """The metric is undefined in this group (e.g. a true positive rate with no positives)."""


@dataclass(frozen=True)
class GroupValue:
    """One group's value of one metric."""

    group: str
    """Display label, e.g. ``"sex=Female"`` or ``"sex=Female, race=Black"``."""
    count: int
    """Rows in the group."""
    value: float | None
    """The metric's value; ``None`` when undefined."""
    ci_low: float | None = None
    """Lower bound of the bootstrap confidence interval, if computed."""
    ci_high: float | None = None
    """Upper bound of the bootstrap confidence interval, if computed."""
    status: GroupStatus = GroupStatus.OK
    note: str | None = None
    """Why the status is not ``ok``."""

    def __post_init__(self) -> None:
        if self.value is not None and math.isnan(self.value):
            raise ValueError(f"group {self.group!r}: a value may be None but never NaN.")


def grouping_label(grouping: Sequence[str]) -> str:
    """``"sex × race"`` for display; ``"overall"`` for the whole population.

    Examples
    --------
    >>> grouping_label(("sex", "race")), grouping_label(())
    ('sex × race', 'overall')
    """
    return " × ".join(grouping) if grouping else "overall"


@dataclass(frozen=True)
class MetricResult:
    """One metric measured over one grouping of the population.

    ``grouping`` names the sensitive columns whose combinations form the groups
    (one column, or several for intersectional groups); it is empty for a metric
    of the whole population, such as a privacy budget.
    """

    metric: str
    auditor: str
    grouping: tuple[str, ...]
    value: float | None
    """Whole-population (or scalar) value; ``None`` when it could not be measured."""
    groups: tuple[GroupValue, ...] = ()
    description: str = ""
    reason: str | None = None
    """Why ``value`` (or every group value) is missing."""
    confidence_level: float | None = None
    """Level of the groups' confidence intervals, e.g. 0.95."""

    @property
    def grouping_label(self) -> str:
        """``"sex × race"`` for display; ``"overall"`` for an ungrouped metric."""
        return grouping_label(self.grouping)

    def comparable_groups(self) -> tuple[GroupValue, ...]:
        """Groups that may enter a comparison: status ``ok`` and a defined value."""
        return tuple(g for g in self.groups if g.status is GroupStatus.OK and g.value is not None)


@dataclass(frozen=True)
class EvidenceTable:
    """A table of evidence for the report, with its caption; cells are str, int, float or None."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int | float | None, ...], ...]
    caption: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: a row has {len(row)} cells for "
                    f"{len(self.columns)} columns."
                )


@dataclass(frozen=True)
class BarChart:
    """Numbers an auditor wants drawn as horizontal bars, e.g. attribution per column.

    The chart carries every number it shows; reports draw it and compute nothing.

    Attributes
    ----------
    title:
        Heading of the figure.
    labels:
        One label per bar, top to bottom.
    values:
        One finite value per bar.
    low, high:
        Optional ranges drawn as whiskers (e.g. the spread across methods); empty, or
        one bound (or ``None``) per bar.
    highlighted:
        Labels of the bars drawn in the accent colour, e.g. sensitive columns.
    highlight_label:
        What the accent colour means, for the legend.
    value_label:
        What the values are, for the axis and the accessible description.
    caption:
        One sentence on how to read the chart.
    """

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    low: tuple[float | None, ...] = ()
    high: tuple[float | None, ...] = ()
    highlighted: tuple[str, ...] = ()
    highlight_label: str = ""
    value_label: str = ""
    caption: str = ""

    def __post_init__(self) -> None:
        if len(self.values) != len(self.labels):
            raise ValueError(
                f"chart {self.title!r}: {len(self.values)} values for {len(self.labels)} labels."
            )
        for name, bounds in (("low", self.low), ("high", self.high)):
            if bounds and len(bounds) != len(self.labels):
                raise ValueError(
                    f"chart {self.title!r}: {len(bounds)} {name} bounds for "
                    f"{len(self.labels)} labels."
                )
        numbers = [*self.values, *(b for b in (*self.low, *self.high) if b is not None)]
        if any(not math.isfinite(n) for n in numbers):
            raise ValueError(f"chart {self.title!r}: values and bounds must be finite.")


@dataclass(frozen=True)
class LineSeries:
    """One line of a :class:`LineChart`: a name and one value (or gap) per x position."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class LineChart:
    """Numbers an auditor wants drawn as lines over ordered positions (a trade-off curve).

    For example accuracy per group against epsilon.

    The chart carries every number it shows; reports draw it and compute nothing.

    Attributes
    ----------
    title:
        Heading of the figure.
    x_labels:
        The ordered positions along the x axis, e.g. ``("ε=0.5", "ε=1", "non-private")``.
    series:
        The lines, each with one value per position (``None`` leaves a gap).
    x_label, y_label:
        What the axes show.
    caption:
        One sentence on how to read the chart.
    """

    title: str
    x_labels: tuple[str, ...]
    series: tuple[LineSeries, ...]
    x_label: str = ""
    y_label: str = ""
    caption: str = ""

    def __post_init__(self) -> None:
        for line in self.series:
            if len(line.values) != len(self.x_labels):
                raise ValueError(
                    f"chart {self.title!r}: series {line.name!r} has {len(line.values)} values "
                    f"for {len(self.x_labels)} positions."
                )
            if any(v is not None and not math.isfinite(v) for v in line.values):
                raise ValueError(f"chart {self.title!r}: values must be finite or None.")


Chart = BarChart | LineChart
"""Any chart an auditor may attach to its output."""


@dataclass(frozen=True)
class AuditorOutput:
    """Everything one auditor measured in one audit."""

    auditor: str
    metrics: tuple[MetricResult, ...]
    method: str
    """How the measurements were made, in prose for the report."""
    tables: tuple[EvidenceTable, ...] = ()
    limitations: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    """The settings the auditor ran with, JSON-safe."""
    charts: tuple[Chart, ...] = ()
    """Charts of numbers that are not per-group metrics (attribution per column, trade-offs)."""
    failure: str | None = None
    """Why the auditor stopped before measuring (it raised); its requirements are then
    INCONCLUSIVE with this reason, never PASS."""

    def find(self, metric: str) -> tuple[MetricResult, ...]:
        """All results of ``metric``, one per grouping."""
        return tuple(m for m in self.metrics if m.metric == metric)

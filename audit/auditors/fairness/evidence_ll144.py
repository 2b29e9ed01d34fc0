"""NYC LL144's evidence: the ``ll144_rate`` metric and the law's category tables.

The numbers come from :mod:`.ll144`.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.auditors.fairness._present import (
    AUDITOR,
    Cell,
    Part,
    columns_label,
    group_value,
    number,
)
from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.describe import descriptions
from audit.auditors.fairness.ll144 import LL144Measurement
from audit.core.measurements import EvidenceTable, GroupStatus, MetricResult

__all__ = ["LL144_PREFIX", "ll144_part", "ll144_unmeasured"]


LL144_PREFIX = "LL144 "
"""Titles of LL144's tables: 'LL144 selection rates by sex', 'LL144 scoring rates by race'."""


def ll144_part(m: LL144Measurement, reason: str, settings: FairnessConfig) -> Part:
    """The ``ll144_rate`` metric and LL144's table of one breakdown."""
    part = Part()
    label = columns_label(m.columns)
    ratios = m.impact_ratios
    groups = []
    rows: list[tuple[Cell, ...]] = []
    total = int(m.sizes.sum())
    for g, name in enumerate(m.labels):
        status, note = m.statuses[g]
        groups.append(
            group_value(
                name,
                int(m.sizes[g]),
                float(m.rates[g]),
                (float(m.low[g]), float(m.high[g])),
                (status, note),
                "no rows in this category",
            )
        )
        versus = m.versus[g]
        shown = "small sample" if m.small[g] and status is GroupStatus.OK else status.value
        rows.append(
            (
                name,
                int(m.sizes[g]),
                int(m.sizes[g]) / total if total else None,
                int(m.positives[g]),
                number(m.rates[g]),
                ratios[g],
                None if versus is None else versus.ratio_low,
                None if versus is None else versus.ratio_high,
                shown,
                note,
            )
        )
    overall = float(m.positives.sum()) / total if total else None
    part.metrics.append(
        MetricResult(
            metric="ll144_rate",
            auditor=AUDITOR,
            grouping=m.columns,
            value=overall,
            groups=tuple(groups),
            description=f"{descriptions()['ll144_rate']} Here: {reason}.",
            confidence_level=settings.confidence_level,
        )
    )
    scoring = m.form == "scoring"
    reference = "" if m.reference is None else f" Reference category: {m.labels[m.reference]}."
    median = f" Median score of the full sample: {m.median:.6g}." if m.median is not None else ""
    level = f"{100 * settings.confidence_level:g}%"
    part.tables.append(
        EvidenceTable(
            title=f"{LL144_PREFIX}{m.form} rates by {label}",
            columns=(
                "group",
                "rows",
                "share of rows",
                "scored above the median" if scoring else "selected",
                "scoring rate" if scoring else "selection rate",
                "impact ratio",
                f"impact ratio {level} low",
                f"impact ratio {level} high",
                "status",
                "note",
            ),
            rows=tuple(rows),
            caption=(
                f"NYC LL144 ({reason}). Impact ratio: the category's rate over the highest "
                "rate among the categories not excluded (6 RCNY § 5-300); categories under "
                f"{100 * m_share(settings):g}% of the data are excluded (§ 5-301) and the "
                "unknown category is counted and left out. Small samples are compared and "
                f"flagged; read them with their interval.{reference}{median}"
            ),
        )
    )
    return part


def m_share(settings: FairnessConfig) -> float:
    """The LL144 exclusion share in force."""
    return settings.ll144.exclude_below_share if settings.ll144 is not None else 0.0


def ll144_unmeasured(groupings: Sequence[tuple[str, ...]], reason: str) -> Part:
    """The ``ll144_rate`` metric without a value, for each planned breakdown."""
    part = Part()
    for grouping in groupings:
        part.metrics.append(
            MetricResult(
                metric="ll144_rate",
                auditor=AUDITOR,
                grouping=grouping,
                value=None,
                description=descriptions()["ll144_rate"],
                reason=reason,
            )
        )
    part.warnings.append(f"NYC LL144 rates could not be measured: {reason}")
    return part

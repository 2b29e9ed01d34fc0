"""Shared by the fairness evidence modules: one grouping's part of the output, and wording.

How a group's value, a number, a p-value and a grouping's columns are written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.auditors.fairness.measure import Status
from audit.core.measurements import EvidenceTable, GroupStatus, GroupValue, MetricResult

__all__ = ["AUDITOR", "Cell", "Part", "columns_label", "group_value", "join", "number"]

Cell = str | int | float | None

AUDITOR = "fairness"


@dataclass
class Part:
    """What one grouping contributes to the output."""

    metrics: list[MetricResult] = field(default_factory=list)
    tables: list[EvidenceTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: tuple[Cell, ...] = ()


def number(value: float | np.floating[Any]) -> float | None:
    """Return ``value`` as a float, or ``None`` for NaN."""
    number = float(value)
    return None if math.isnan(number) else number


def join(*notes: str | None) -> str | None:
    text = "; ".join(note for note in notes if note)
    return text or None


def group_value(
    label: str,
    count: int,
    value: float,
    interval: tuple[float, float],
    status: Status,
    undefined_note: str,
) -> GroupValue:
    """One group's value, with its interval, and a status saying whether it is compared."""
    group_status, note = status
    defined = not math.isnan(value)
    if not defined:
        if group_status is GroupStatus.OK:
            group_status = GroupStatus.UNDEFINED
        note = join(note, undefined_note)
    low, high = (number(interval[0]), number(interval[1])) if defined else (None, None)
    if low is None or high is None:
        low = high = None
    return GroupValue(
        group=label,
        count=count,
        value=number(value),
        ci_low=low,
        ci_high=high,
        status=group_status,
        note=note,
    )


def columns_label(columns: Sequence[str]) -> str:
    return " \N{MULTIPLICATION SIGN} ".join(columns)

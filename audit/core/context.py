"""What an auditor is given: the data, the roles of its columns, the model and its outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from audit.core.protocols import ModelAdapter

__all__ = ["AuditContext", "ColumnRoles", "Outcomes", "ProgressFactory", "Task"]


class Task(StrEnum):
    """The kind of decision the model makes."""

    BINARY = "binary"
    REGRESSION = "regression"


@dataclass(frozen=True)
class ColumnRoles:
    """Which data columns play which part in the audit."""

    target: str
    sensitive: tuple[str, ...]
    features: tuple[str, ...]
    """Columns handed to the model (unless its adapter reads its own columns)."""
    positive_label: Any = None
    """The target value that means the favourable decision (binary tasks)."""
    threshold: float | None = None
    """Score at or above which a prediction counts as positive."""
    task: Task = Task.BINARY


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Ground truth and the model's decisions, aligned row by row with the data.

    For a binary task ``y_true`` and ``y_pred`` are 0/1 integer arrays (1 = the positive
    label); for regression they are floats.  ``y_score`` is the positive-class score
    when the model gives one.
    """

    task: Task
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None = None


class ProgressBar:
    """Minimal progress interface: ``update(n)`` then ``close()``."""

    def update(self, n: int = 1) -> Any:
        return None

    def close(self) -> None:
        return None


ProgressFactory = Callable[[str, int], ProgressBar]
"""Makes a progress bar from a description and a total number of steps."""


def no_progress(description: str, total: int) -> ProgressBar:
    """A progress factory that shows nothing."""
    return ProgressBar()


@dataclass(frozen=True, eq=False)
class AuditContext:
    """Everything an auditor may read; auditors must not modify it."""

    data: pd.DataFrame
    roles: ColumnRoles
    outcomes: Outcomes
    model: ModelAdapter
    seed: int = 0
    progress: ProgressFactory = no_progress

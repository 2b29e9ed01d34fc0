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


ERR_NO_MODEL = (
    "this is a data-only audit (no model was given), so it has no {what}; only auditors "
    "that declare needs_model = False run in a data-only audit"
)


class AuditContext:
    """Everything an auditor may read; auditors must not modify it.

    A *data-only* audit (every auditor of the policy declares the class attribute
    ``needs_model = False``) has data but no roles or outcomes: :attr:`has_outcomes` is
    ``False`` and reading them raises ``RuntimeError``.  It may still carry a model that
    scored nothing, for the auditors to reach (a masking policy's probes sent to the
    audited model): :attr:`has_model` says whether it does.

    Parameters
    ----------
    data : pandas.DataFrame
        The audited rows.
    roles, outcomes, model : optional
        The columns' roles, the ground truth and decisions, and the model: all three, or
        the model alone (data-only, the rows unscored), or none.
    seed : int
        Seed of every random step.
    progress : ProgressFactory
        Factory of progress bars for long steps.
    prediction_cache : str, optional
        Folder of the prediction cache (``--cache-dir``), for auditors that score rows of
        their own through :func:`audit.scoring.score_batches`; ``None``: no cache.
    """

    __slots__ = (
        "_model",
        "_outcomes",
        "_roles",
        "data",
        "prediction_cache",
        "progress",
        "seed",
    )

    data: pd.DataFrame
    seed: int
    progress: ProgressFactory
    prediction_cache: str | None
    _roles: ColumnRoles | None
    _outcomes: Outcomes | None
    _model: ModelAdapter | None

    def __init__(
        self,
        *,
        data: pd.DataFrame,
        roles: ColumnRoles | None = None,
        outcomes: Outcomes | None = None,
        model: ModelAdapter | None = None,
        seed: int = 0,
        progress: ProgressFactory = no_progress,
        prediction_cache: str | None = None,
    ) -> None:
        if (roles is None) != (outcomes is None) or (roles is not None and model is None):
            raise ValueError(
                "give roles, outcomes and model together, the model alone, or none of them."
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "_roles", roles)
        object.__setattr__(self, "_outcomes", outcomes)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "progress", progress)
        object.__setattr__(self, "prediction_cache", prediction_cache)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"AuditContext is read-only; cannot set {name!r}")

    @property
    def has_model(self) -> bool:
        """Whether the audit has a model (which scored the rows only with :attr:`has_outcomes`)."""
        return self._model is not None

    @property
    def has_outcomes(self) -> bool:
        """Whether the rows were scored: the audit has column roles and outcomes."""
        return self._outcomes is not None

    @property
    def roles(self) -> ColumnRoles:
        """Which data columns play which part (not in a data-only audit)."""
        if self._roles is None:
            raise RuntimeError(ERR_NO_MODEL.format(what="column roles"))
        return self._roles

    @property
    def outcomes(self) -> Outcomes:
        """Ground truth and the model's decisions, row by row (not in a data-only audit)."""
        if self._outcomes is None:
            raise RuntimeError(ERR_NO_MODEL.format(what="outcomes"))
        return self._outcomes

    @property
    def model(self) -> ModelAdapter:
        """The audited model (not in a data-only audit)."""
        if self._model is None:
            raise RuntimeError(ERR_NO_MODEL.format(what="model"))
        return self._model

"""Why the privacy auditor cannot measure an audit's input, or ``None`` when it can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from audit.auditors.privacy.config import PrivacyConfig
from audit.core.context import Task

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["input_problem", "listed"]


def listed(columns: Sequence[Any], limit: int = 20) -> str:
    """Column names joined by commas, the first ``limit`` of them.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    'a, b, ... (3 in all)'
    """
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def input_problem(context: AuditContext, settings: PrivacyConfig) -> str | None:
    """Why ``context`` cannot be measured with ``settings``; ``None`` when it can."""
    data = context.data
    outcomes = context.outcomes
    if outcomes.task not in (Task.BINARY, Task.REGRESSION):
        return f"the privacy auditor measures binary and regression tasks; this is {outcomes.task}"
    if len(data) < 20:
        return f"the data has {len(data)} rows; DP retraining needs at least 20"
    columns = list(context.model.input_columns or context.roles.features)
    named = [*columns, *context.roles.sensitive]
    if settings.membership_column is not None:
        named.append(settings.membership_column)
    missing = [c for c in named if c not in data.columns]
    if missing:
        return f"column(s) {listed(missing)} not in the data; its columns are: " + listed(
            list(data.columns)
        )
    if not columns:
        return "the model reads no columns, so there is nothing to train on"
    if settings.membership_column is not None:
        problem = _membership_problem(data[settings.membership_column], settings.membership_column)
        if problem is not None:
            return problem
    y_true = np.asarray(outcomes.y_true)
    if y_true.shape != (len(data),):
        return f"y_true has shape {y_true.shape} for {len(data)} rows"
    if outcomes.task is Task.REGRESSION:
        return _regression_problem(y_true, np.asarray(outcomes.y_pred))
    if not np.isin(y_true, [0, 1]).all():
        return "y_true holds values other than 0 and 1"
    if len(np.unique(y_true)) < 2:
        return "the target has a single class, so there is nothing to learn"
    return None


def _is_flag(value: Any) -> bool:
    """Whether ``value`` reads unambiguously as true or false: a boolean, or the number 0 or 1."""
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, int | float | np.integer | np.floating) and value in (0, 1)


def _membership_problem(values: pd.Series, column: str) -> str | None:
    """Why ``values`` cannot mark the audited model's training rows; ``None`` when they can."""
    bad = [v for v in pd.unique(values.dropna()) if not _is_flag(v)]
    if bad:
        return (
            f"membership column {column!r} must hold true/false (or 1/0) values; it holds "
            + listed([repr(v) for v in bad], limit=5)
        )
    return None


def _regression_problem(y_true: np.ndarray, y_pred: np.ndarray) -> str | None:
    try:
        values = y_true.astype(np.float64)
        predicted = y_pred.astype(np.float64)
    except (TypeError, ValueError):
        return "the regression target or predictions are not numbers"
    if predicted.shape != values.shape:
        return f"y_pred has shape {predicted.shape} for {len(values)} rows"
    bad = int((~np.isfinite(values)).sum())
    if bad:
        return f"the regression target has {bad} missing or infinite values"
    bad = int((~np.isfinite(predicted)).sum())
    if bad:
        return f"the model's predictions have {bad} missing or infinite values"
    if np.ptp(values) == 0:
        return "the regression target is constant, so there is nothing to learn"
    return None

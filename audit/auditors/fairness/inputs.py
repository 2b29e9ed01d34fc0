"""Whether the data and outcomes handed to the fairness auditor can be measured at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from audit.core.context import Task

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["input_problem", "outcome_problem"]


def _list_columns(columns: Sequence[Any], limit: int = 20) -> str:
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def outcome_problem(name: str, values: Any, rows: int, task: Task) -> str | None:
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


def input_problem(context: AuditContext) -> str | None:
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
        problem = outcome_problem(name, values, len(data), outcomes.task)
        if problem:
            return problem
    return None

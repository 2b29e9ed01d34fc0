"""Holdout utility of the audited and the DP model, overall and per group.

Binary tasks are measured by accuracy and ROC AUC, regression tasks by mean absolute
error and root mean squared error.  Each measure knows which direction is better, so the
utility *lost* to DP is always "DP worse than audited" and positive when DP costs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from audit.core.groups import Grouping

__all__ = [
    "BINARY_MEASURES",
    "REGRESSION_MEASURES",
    "Measure",
    "Utility",
    "accuracy",
    "auc",
    "group_rows",
    "lost",
    "mean_absolute_error",
    "regression_by_group",
    "root_mean_squared_error",
    "utility_by_group",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Measure:
    """One utility measure and the policy metric of what DP costs in it.

    Attributes
    ----------
    key:
        Key of the value in :attr:`Utility.values`.
    title:
        How tables and charts name it.
    metric:
        Name of the whole-population metric of the utility lost; the per-group metric is
        this name with ``_by_group``.
    higher_is_better:
        Accuracy and AUC: the loss is audited minus DP; errors: DP minus audited.
    """

    key: str
    title: str
    metric: str
    higher_is_better: bool

    @property
    def grouped_metric(self) -> str:
        """Name of the per-group metric."""
        return f"{self.metric}_by_group"

    @property
    def lost_title(self) -> str:
        """Column title of the utility lost."""
        return f"{self.title} drop" if self.higher_is_better else f"{self.title} increase"


BINARY_MEASURES: tuple[Measure, ...] = (
    Measure("accuracy", "accuracy", "accuracy_drop", higher_is_better=True),
    Measure("auc", "AUC", "auc_drop", higher_is_better=True),
)
REGRESSION_MEASURES: tuple[Measure, ...] = (
    Measure("mae", "MAE", "mae_increase", higher_is_better=False),
    Measure("rmse", "RMSE", "rmse_increase", higher_is_better=False),
)


@dataclass(frozen=True)
class Utility:
    """One model's measures on one set of rows (``None`` where undefined)."""

    label: str
    count: int
    values: Mapping[str, float | None]


def lost(measure: Measure, before: float | None, after: float | None) -> float | None:
    """Utility lost from ``before`` (audited) to ``after`` (DP); positive when DP is worse.

    Examples
    --------
    >>> lost(BINARY_MEASURES[0], 0.85, 0.80), lost(REGRESSION_MEASURES[0], 7.0, 7.5)
    (0.04999999999999993, 0.5)
    """
    if before is None or after is None:
        return None
    value = before - after if measure.higher_is_better else after - before
    return None if math.isnan(value) else value


def accuracy(y_true: IntArray, y_pred: IntArray) -> float | None:
    """Share of correct decisions; ``None`` on no rows.

    Examples
    --------
    >>> accuracy(np.array([1, 0, 1]), np.array([1, 1, 1]))
    0.6666666666666666
    """
    return float(np.mean(y_true == y_pred)) if len(y_true) else None


def auc(y_true: IntArray, score: FloatArray | None) -> float | None:
    """ROC AUC of ``score``; ``None`` without scores or when one class is absent.

    Examples
    --------
    >>> auc(np.array([0, 1]), np.array([0.2, 0.9])), auc(np.array([1, 1]), np.array([0.2, 0.9]))
    (1.0, None)
    """
    if score is None or len(np.unique(y_true)) < 2:
        return None
    return float(roc_auc_score(y_true, score))


def mean_absolute_error(y_true: FloatArray, y_pred: FloatArray) -> float | None:
    """Mean of ``|y_pred - y_true|``; ``None`` on no rows.

    Examples
    --------
    >>> mean_absolute_error(np.array([1.0, 2.0]), np.array([2.0, 0.0]))
    1.5
    """
    return float(np.mean(np.abs(y_pred - y_true))) if len(y_true) else None


def root_mean_squared_error(y_true: FloatArray, y_pred: FloatArray) -> float | None:
    """Square root of the mean of ``(y_pred - y_true) ** 2``; ``None`` on no rows.

    Examples
    --------
    >>> root_mean_squared_error(np.array([0.0, 0.0]), np.array([3.0, 4.0]))
    3.5355339059327378
    """
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2))) if len(y_true) else None


def group_rows(n: int, grouping: Grouping | None) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """Each group's label and rows among ``n``; without a grouping, ``overall``: all rows."""
    if grouping is None:
        return [("overall", np.ones(n, dtype=bool))]
    return [(label, grouping.codes == code) for code, label in enumerate(grouping.labels)]


def utility_by_group(
    y_true: IntArray,
    y_pred: IntArray,
    score: FloatArray | None,
    grouping: Grouping | None,
) -> list[Utility]:
    """Accuracy and AUC per group of ``grouping``; without one, over all rows (``overall``)."""
    return [
        Utility(
            label,
            int(rows.sum()),
            {
                "accuracy": accuracy(y_true[rows], y_pred[rows]),
                "auc": auc(y_true[rows], None if score is None else score[rows]),
            },
        )
        for label, rows in group_rows(len(y_true), grouping)
    ]


def regression_by_group(
    y_true: FloatArray, y_pred: FloatArray, grouping: Grouping | None
) -> list[Utility]:
    """MAE and RMSE per group of ``grouping``; without one, over all rows (``overall``)."""
    return [
        Utility(
            label,
            int(rows.sum()),
            {
                "mae": mean_absolute_error(y_true[rows], y_pred[rows]),
                "rmse": root_mean_squared_error(y_true[rows], y_pred[rows]),
            },
        )
        for label, rows in group_rows(len(y_true), grouping)
    ]

"""Holdout utility of the audited and the DP model: accuracy and AUC, overall and per group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from audit.core.groups import Grouping

__all__ = ["Utility", "accuracy", "auc", "utility_by_group"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Utility:
    """One model's accuracy and AUC on one set of rows (``None`` when undefined)."""

    label: str
    count: int
    accuracy: float | None
    auc: float | None


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


def utility_by_group(
    y_true: IntArray,
    y_pred: IntArray,
    score: FloatArray | None,
    grouping: Grouping | None,
) -> list[Utility]:
    """Accuracy and AUC over all rows (label ``overall``), then per group of ``grouping``."""
    found = [Utility("overall", len(y_true), accuracy(y_true, y_pred), auc(y_true, score))]
    if grouping is None:
        return found
    for code, label in enumerate(grouping.labels):
        rows = grouping.codes == code
        found.append(
            Utility(
                label,
                int(rows.sum()),
                accuracy(y_true[rows], y_pred[rows]),
                auc(y_true[rows], None if score is None else score[rows]),
            )
        )
    return found

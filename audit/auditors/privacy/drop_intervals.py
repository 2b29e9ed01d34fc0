"""Confidence intervals of the cost of DP: the reference and the DP model on the same rows.

Both models are scored on the same holdout rows, so their utilities are paired, not
independent.  An accuracy drop is a difference of paired proportions: its interval is
Newcombe's (:func:`audit.stats.paired.paired_difference_interval`), which stays honest where
a bootstrap does not: when the two models agree on every row of a small group the drop is
0, every bootstrap resample gives 0, yet the Newcombe interval of 30 rows still spans about
+-0.11.  AUC drops and error increases have
no closed form here; they get a paired percentile bootstrap (the same resampled rows for
both models; for AUC, resampled within each class so that both classes stay present).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from audit.auditors.privacy.utility import (
    Measure,
    auc,
    lost,
    mean_absolute_error,
    root_mean_squared_error,
)
from audit.stats import percentile_interval

__all__ = ["Interval", "bootstrap_drop_interval"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Interval = tuple[float, float]
"""Lower and upper bound of a drop (or of an error increase)."""


def bootstrap_drop_interval(
    measure: Measure,
    y_true: FloatArray | IntArray,
    reference: FloatArray,
    dp: FloatArray,
    *,
    resamples: int,
    confidence_level: float,
    rng: np.random.Generator,
) -> Interval | None:
    """Paired percentile bootstrap interval of the utility ``measure`` loses to DP.

    ``reference`` and ``dp`` are positive-class scores (AUC) or predicted values (MAE,
    RMSE) on the same rows.  ``None`` without resamples, without rows, or for AUC without
    both classes.
    """
    score = _SCORES[measure.key]
    if resamples <= 0 or len(y_true) == 0 or score(y_true, reference) is None:
        return None
    strata = (
        [np.flatnonzero(y_true == label) for label in (0, 1)]
        if measure.key == "auc"
        else [np.arange(len(y_true))]
    )
    draws = np.empty((resamples, 1))
    for b in range(resamples):
        rows = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in strata])
        value = lost(measure, score(y_true[rows], reference[rows]), score(y_true[rows], dp[rows]))
        draws[b, 0] = np.nan if value is None else value
    low, high = percentile_interval(draws, confidence_level)
    if np.isnan(low[0]) or np.isnan(high[0]):
        return None
    return float(low[0]), float(high[0])


def _auc(y_true: FloatArray | IntArray, score: FloatArray) -> float | None:
    return auc(np.asarray(y_true, dtype=np.int64), score)


def _mae(y_true: FloatArray | IntArray, predicted: FloatArray) -> float | None:
    return mean_absolute_error(np.asarray(y_true, dtype=np.float64), predicted)


def _rmse(y_true: FloatArray | IntArray, predicted: FloatArray) -> float | None:
    return root_mean_squared_error(np.asarray(y_true, dtype=np.float64), predicted)


_SCORES: dict[str, Callable[[FloatArray | IntArray, FloatArray], float | None]] = {
    "auc": _auc,
    "mae": _mae,
    "rmse": _rmse,
}

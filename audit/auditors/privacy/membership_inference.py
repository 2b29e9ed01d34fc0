"""Membership inference by loss threshold (Yeom et al., 2018), with bootstrap intervals.

The attacker guesses that a row was in the training data when the model's loss on it is
low: cross-entropy for a classifier, squared error for a regression model.  Sweeping the
threshold over all values gives a ROC curve of members against non-members: its AUC
(0.5 = no better than chance) and the membership advantage, the largest TPR - FPR over
thresholds (0 = no leakage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_curve

__all__ = ["AttackResult", "example_losses", "loss_threshold_attack", "squared_errors"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EPS = 1e-7


def example_losses(y_true: IntArray, score: FloatArray) -> FloatArray:
    """Per-row cross-entropy of the positive-class probability ``score``.

    Examples
    --------
    >>> example_losses(np.array([1, 0]), np.array([1.0, 0.0])).round(6).tolist()
    [0.0, 0.0]
    """
    p = np.clip(np.asarray(score, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.where(np.asarray(y_true) == 1, -np.log(p), -np.log(1.0 - p))


def squared_errors(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """Per-row squared error, the loss of a regression model.

    Examples
    --------
    >>> squared_errors(np.array([1.0, 2.0]), np.array([1.5, 0.0])).tolist()
    [0.25, 4.0]
    """
    return (np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)) ** 2


@dataclass(frozen=True)
class AttackResult:
    """Attack AUC and advantage with bootstrap intervals (``None`` bounds when not run)."""

    auc: float
    advantage: float
    auc_ci: tuple[float | None, float | None]
    advantage_ci: tuple[float | None, float | None]
    members: int
    non_members: int


def _curve(member: FloatArray, other: FloatArray) -> tuple[float, float]:
    truth = np.concatenate([np.ones(len(member)), np.zeros(len(other))])
    guess = -np.concatenate([member, other])  # low loss = member
    fpr, tpr, _ = roc_curve(truth, guess)
    return float(np.trapezoid(tpr, fpr)), float(max(0.0, np.max(tpr - fpr)))


def loss_threshold_attack(
    member_losses: FloatArray,
    non_member_losses: FloatArray,
    *,
    bootstrap: int,
    confidence_level: float,
    rng: np.random.Generator,
) -> AttackResult:
    """Attack AUC and advantage, members against non-members by loss.

    Intervals are percentile intervals of ``bootstrap`` resamples drawn within members and
    within non-members.

    Raises
    ------
    ValueError
        When either set is empty.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = loss_threshold_attack(np.zeros(50), np.ones(50), bootstrap=0,
    ...                           confidence_level=0.95, rng=rng)
    >>> r.auc, r.advantage
    (1.0, 1.0)
    """
    members = np.asarray(member_losses, dtype=np.float64)
    others = np.asarray(non_member_losses, dtype=np.float64)
    if len(members) == 0 or len(others) == 0:
        raise ValueError("the attack needs at least one member and one non-member")
    auc_value, advantage = _curve(members, others)
    auc_ci: tuple[float | None, float | None] = (None, None)
    adv_ci: tuple[float | None, float | None] = (None, None)
    if bootstrap:
        draws = np.empty((bootstrap, 2))
        for b in range(bootstrap):
            m = members[rng.integers(0, len(members), len(members))]
            o = others[rng.integers(0, len(others), len(others))]
            draws[b] = _curve(m, o)
        tail = (1.0 - confidence_level) / 2.0 * 100.0
        low, high = np.percentile(draws, [tail, 100.0 - tail], axis=0)
        auc_ci = (float(low[0]), float(high[0]))
        adv_ci = (float(low[1]), float(high[1]))
    return AttackResult(
        auc=auc_value,
        advantage=advantage,
        auc_ci=auc_ci,
        advantage_ci=adv_ci,
        members=len(members),
        non_members=len(others),
    )

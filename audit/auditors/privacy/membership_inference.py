"""Membership inference by loss threshold (Yeom et al., 2018), with bootstrap intervals.

The attacker guesses that a row was in the training data when the model's loss on it is
low: cross-entropy for a classifier, squared error for a regression model.  Sweeping the
threshold over all values gives a ROC curve of members against non-members: its AUC
(0.5 = no better than chance).  The membership advantage is TPR - FPR of the attacker's
best threshold (0 = no leakage).  Choosing that threshold on the same rows it is scored
on would bias it upward (on identical loss distributions of 700 and 300 rows the largest
TPR - FPR averages about 0.04), so it is cross-fitted: members and non-members are each
cut at random into two halves, the threshold with the largest TPR - FPR on one half is
applied to the other, and the two halves' decisions are pooled into one TPR - FPR.  Every
row is judged by a threshold chosen without it, so without leakage the estimate is 0 on
average, and can be slightly negative by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_curve

from audit.stats import percentile_interval

__all__ = [
    "ERR_TOO_FEW",
    "AttackResult",
    "cross_fitted_advantage",
    "example_losses",
    "loss_threshold_attack",
    "squared_errors",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EPS = 1e-7

ERR_TOO_FEW = "the attack needs at least two members and two non-members"


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
    """Attack AUC and cross-fitted advantage, with bootstrap intervals (``None``: not run)."""

    auc: float
    advantage: float
    auc_ci: tuple[float | None, float | None]
    advantage_ci: tuple[float | None, float | None]
    members: int
    non_members: int


def _roc(member: FloatArray, other: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    truth = np.concatenate([np.ones(len(member)), np.zeros(len(other))])
    guess = -np.concatenate([member, other])  # low loss = member
    fpr, tpr, thresholds = roc_curve(truth, guess)
    return fpr, tpr, thresholds


def _auc(member: FloatArray, other: FloatArray) -> float:
    fpr, tpr, _ = _roc(member, other)
    return float(np.trapezoid(tpr, fpr))


def _best_cut(member: FloatArray, other: FloatArray) -> float:
    """The largest loss guessed a member by the threshold with the largest TPR - FPR."""
    fpr, tpr, thresholds = _roc(member, other)
    return float(-thresholds[int(np.argmax(tpr - fpr))])


def _halves(n: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """A random half of ``n`` rows (true) and the rest."""
    half = np.zeros(n, dtype=bool)
    half[rng.permutation(n)[: n // 2]] = True
    return half


def cross_fitted_advantage(
    member_losses: FloatArray, non_member_losses: FloatArray, rng: np.random.Generator
) -> float:
    """TPR - FPR of the best loss threshold, each half's threshold chosen on the other half.

    Needs at least two members and two non-members.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cross_fitted_advantage(np.zeros(4), np.ones(4), rng)
    1.0
    >>> cross_fitted_advantage(np.zeros(4), np.zeros(4), rng)
    0.0
    """
    members = np.asarray(member_losses, dtype=np.float64)
    others = np.asarray(non_member_losses, dtype=np.float64)
    m_half, o_half = _halves(len(members), rng), _halves(len(others), rng)
    caught = flagged = 0
    for side in (True, False):
        cut = _best_cut(members[m_half != side], others[o_half != side])
        caught += int(np.sum(members[m_half == side] <= cut))
        flagged += int(np.sum(others[o_half == side] <= cut))
    return caught / len(members) - flagged / len(others)


def loss_threshold_attack(
    member_losses: FloatArray,
    non_member_losses: FloatArray,
    *,
    bootstrap: int,
    confidence_level: float,
    rng: np.random.Generator,
) -> AttackResult:
    """Attack AUC and cross-fitted advantage, members against non-members by loss.

    The advantage is :func:`cross_fitted_advantage`.  Intervals are percentile intervals
    of ``bootstrap`` resamples drawn within members and within non-members (each resample
    cut into new halves).

    Raises
    ------
    ValueError
        When either set has fewer than two rows.

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
    if len(members) < 2 or len(others) < 2:
        raise ValueError(ERR_TOO_FEW)
    auc_value = _auc(members, others)
    advantage = cross_fitted_advantage(members, others, rng)
    auc_ci: tuple[float | None, float | None] = (None, None)
    adv_ci: tuple[float | None, float | None] = (None, None)
    if bootstrap:
        draws = np.empty((bootstrap, 2))
        for b in range(bootstrap):
            m = members[rng.integers(0, len(members), len(members))]
            o = others[rng.integers(0, len(others), len(others))]
            draws[b] = (_auc(m, o), cross_fitted_advantage(m, o, rng))
        low, high = percentile_interval(draws, confidence_level)
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

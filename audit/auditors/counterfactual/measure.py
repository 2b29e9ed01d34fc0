"""Paired statistics of counterfactual decisions: plain numbers, no rendering.

``decisions`` is an ``n × k`` matrix of 0/1 decisions: base row ``i`` under assigned group
``j`` (column 0 is the reference group).  The statistics come from statsmodels and scipy:

- selection rate per assigned group, with a Wilson interval;
- the flip rate: the share of base rows whose decision is not the same under every group,
  with a Wilson interval;
- the flips by direction: per group other than the reference, the base rows selected under
  the reference only and those selected under that group only (McNemar's two discordant
  cells with two groups);
- McNemar's exact test for two groups, Cochran's Q for more (:mod:`audit.stats.paired`);
- with scores, the mean paired score difference of each group from the reference, with a
  paired t interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from audit.stats import proportion_interval
from audit.stats.paired import COCHRAN, MCNEMAR, PairedTest, paired_test

__all__ = [
    "COCHRAN",
    "MCNEMAR",
    "CounterfactualMeasurements",
    "FlipDirections",
    "GroupRate",
    "PairedTest",
    "ScoreDifference",
    "measure_counterfactuals",
]


@dataclass(frozen=True)
class GroupRate:
    """How often the model selected the base rows when they carried one group's cue."""

    group: str
    rows: int
    selected: int
    rate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class FlipDirections:
    """Base rows whose decision differs between the reference group and ``group``, by direction."""

    group: str
    reference_only: int
    """Selected under the reference group, not under ``group``."""
    group_only: int
    """Selected under ``group``, not under the reference group."""
    rows: int


@dataclass(frozen=True)
class ScoreDifference:
    """Mean of (score under ``group``) − (score under the reference), over the base rows."""

    group: str
    mean: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class CounterfactualMeasurements:
    """Everything the counterfactual auditor measured, as numbers."""

    groups: tuple[str, ...]
    rates: tuple[GroupRate, ...]
    flips: int
    flip_rate: float
    flip_ci: tuple[float, float]
    test: PairedTest
    directions: tuple[FlipDirections, ...]
    """One per group other than the reference, in :attr:`groups` order."""
    score_differences: tuple[ScoreDifference, ...]
    flipped_rows: tuple[int, ...]
    """Base-row positions (0-based, in sample order) whose decision changed."""
    flipped_decisions: tuple[tuple[int, ...], ...]
    """The decisions of each flipped row under each group, in :attr:`groups` order."""
    confidence_level: float

    @property
    def base_rows(self) -> int:
        """Number of base rows."""
        return self.rates[0].rows


def _wilson(count: int, rows: int, level: float) -> tuple[float, float]:
    low, high = proportion_interval(count, rows, confidence_level=level, method="wilson")
    return float(low), float(high)


def _score_difference(diff: np.ndarray, group: str, level: float) -> ScoreDifference:
    mean = float(diff.mean())
    if len(diff) < 2 or float(np.ptp(diff)) == 0.0:
        return ScoreDifference(group, mean, mean, mean)  # every pair differs by the same amount
    interval = stats.ttest_1samp(diff, 0.0).confidence_interval(confidence_level=level)
    return ScoreDifference(group, mean, float(interval.low), float(interval.high))


def measure_counterfactuals(
    decisions: np.ndarray,
    scores: np.ndarray | None,
    groups: tuple[str, ...],
    *,
    confidence_level: float = 0.95,
) -> CounterfactualMeasurements:
    """Measure an ``n × k`` matrix of paired 0/1 decisions (and scores, when given).

    Parameters
    ----------
    decisions
        Row ``i`` is base row ``i`` under each group; column 0 is the reference group.
    scores
        The same shape, or ``None`` when the model gives no scores.
    groups
        The ``k`` group labels, reference first.
    confidence_level
        Level of every interval.
    """
    decisions = np.asarray(decisions, dtype=np.int64)
    n, k = decisions.shape
    if k != len(groups) or k < 2 or n < 1:
        raise ValueError(f"need an n x k matrix with k = {len(groups)} >= 2 groups; got {n} x {k}")
    rates = tuple(
        GroupRate(
            group, n, int(selected), selected / n, *_wilson(int(selected), n, confidence_level)
        )
        for group, selected in zip(groups, decisions.sum(axis=0), strict=True)
    )
    varying = decisions.min(axis=1) != decisions.max(axis=1)
    flips = int(varying.sum())
    directions = tuple(
        FlipDirections(
            groups[j],
            int(((decisions[:, 0] == 1) & (decisions[:, j] == 0)).sum()),
            int(((decisions[:, 0] == 0) & (decisions[:, j] == 1)).sum()),
            n,
        )
        for j in range(1, k)
    )
    differences: tuple[ScoreDifference, ...] = ()
    if scores is not None:
        scores = np.asarray(scores, dtype=float)
        differences = tuple(
            _score_difference(scores[:, j] - scores[:, 0], groups[j], confidence_level)
            for j in range(1, k)
        )
    return CounterfactualMeasurements(
        groups=groups,
        rates=rates,
        flips=flips,
        flip_rate=flips / n,
        flip_ci=_wilson(flips, n, confidence_level),
        test=paired_test(decisions),
        directions=directions,
        score_differences=differences,
        flipped_rows=tuple(int(i) for i in np.flatnonzero(varying)),
        flipped_decisions=tuple(
            tuple(int(d) for d in decisions[i]) for i in np.flatnonzero(varying)
        ),
        confidence_level=confidence_level,
    )

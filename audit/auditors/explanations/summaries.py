"""From per-row attributions to the numbers a reviewer reads and a policy checks.

All functions take attributions of shape ``(rows, columns)`` in the user's columns.

Numerical tolerance: two importances of one vector are tied, and an importance counts
as none, when they differ by at most :data:`TIE_RTOL` times the vector's largest
absolute value.  Captum's Kernel SHAP solves its regression in single precision and
PyTorch models usually compute in it (rounding about 1e-7 relative), so a column the
model ignores gets about 1e-8 instead of 0, in a different order on every run; ranking
columns by that noise would report a stable model as unstable.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "TIE_RTOL",
    "importance",
    "rank_correlation",
    "share",
    "tied_ranks",
    "top_k",
    "top_k_overlap",
]

FloatArray = npt.NDArray[np.float64]

TIE_RTOL = 1e-5
"""Relative tolerance within which importances are tied (see the module docstring)."""


def _tolerance(values: FloatArray) -> float:
    return TIE_RTOL * float(np.max(np.abs(values))) if len(values) else 0.0


def importance(attributions: FloatArray) -> FloatArray:
    """Mean absolute attribution per column (zeros for no rows).

    Examples
    --------
    >>> importance(np.array([[1.0, -2.0], [-3.0, 0.0]])).tolist()
    [2.0, 1.0]
    """
    if attributions.shape[0] == 0:
        return np.zeros(attributions.shape[1], dtype=np.float64)
    return np.asarray(np.abs(attributions).mean(axis=0), dtype=np.float64)


def tied_ranks(values: FloatArray) -> FloatArray:
    """Ranks from 1 (smallest), values within tolerance of their neighbour sharing the mean rank.

    Sorted values whose gap is at most ``TIE_RTOL`` times the largest absolute value
    form one tie (a chain of such gaps too); each tie gets its average rank, as
    :func:`scipy.stats.rankdata` does for exact ties.

    Examples
    --------
    >>> tied_ranks(np.array([0.5, 2e-9, 1e-9, 0.0])).tolist()
    [4.0, 2.0, 2.0, 2.0]
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return np.zeros(0, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    starts = np.concatenate([[True], np.diff(v[order]) > _tolerance(v)])
    tie = np.cumsum(starts) - 1
    mean_rank = np.bincount(tie, weights=np.arange(1.0, len(v) + 1)) / np.bincount(tie)
    ranks = np.empty(len(v), dtype=np.float64)
    ranks[order] = mean_rank[tie]
    return ranks


def share(weights: FloatArray, columns: Sequence[str], chosen: Collection[str]) -> float | None:
    """Share of the total of ``weights`` held by the ``chosen`` columns; None if the total is 0.

    Weights within tolerance of 0 count as 0.

    Examples
    --------
    >>> share(np.array([3.0, 1.0]), ["a", "b"], {"b"})
    0.25
    >>> share(np.array([3.0, 1e-9]), ["a", "b"], {"b"})
    0.0
    """
    kept = np.where(np.abs(weights) <= _tolerance(weights), 0.0, weights)
    total = float(kept.sum())
    if total <= 0:
        return None
    picked = [i for i, c in enumerate(columns) if c in chosen]
    return float(kept[picked].sum()) / total


def top_k(weights: FloatArray, columns: Sequence[str], k: int) -> tuple[str, ...]:
    """Up to ``k`` columns of largest weight, largest first.

    Weights within tolerance of each other are tied and keep column order; columns
    whose weight is within tolerance of 0 are left out, so a model without
    attribution has no top columns.

    Examples
    --------
    >>> top_k(np.array([0.1, 0.5, 0.5]), ["a", "b", "c"], 2)
    ('b', 'c')
    >>> top_k(np.array([0.0, 0.5, 1e-9]), ["a", "b", "c"], 2)
    ('b',)
    """
    ranks = tied_ranks(weights)
    floor = _tolerance(weights)
    order = sorted(range(len(columns)), key=lambda i: (-float(ranks[i]), i))
    return tuple(columns[i] for i in order if float(weights[i]) > floor)[:k]


def top_k_overlap(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Share of the top-k columns two lists have in common (``k`` = the longer list).

    None when both lists are empty: there are no leading columns to compare.

    Examples
    --------
    >>> top_k_overlap(("a", "b", "c"), ("c", "a", "d"))
    0.6666666666666666
    """
    k = max(len(first), len(second))
    return len(set(first) & set(second)) / k if k else None


def rank_correlation(first: FloatArray, second: FloatArray) -> float | None:
    """Spearman's rank correlation of two importance vectors; None when one is constant.

    Ranks come from :func:`tied_ranks`, so values within tolerance are ties: this is
    :func:`scipy.stats.spearmanr` of the vectors with each tie set to one value.

    Examples
    --------
    >>> rank_correlation(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
    0.5
    """
    a = tied_ranks(first)
    b = tied_ranks(second)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])

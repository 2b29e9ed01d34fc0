"""From per-row attributions to the numbers a reviewer reads and a policy checks.

All functions take attributions of shape ``(rows, columns)`` in the user's columns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "importance",
    "rank_correlation",
    "share",
    "top_k",
    "top_k_overlap",
]

FloatArray = npt.NDArray[np.float64]


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


def share(weights: FloatArray, columns: Sequence[str], chosen: Collection[str]) -> float | None:
    """Share of the total of ``weights`` held by the ``chosen`` columns; None if the total is 0.

    Examples
    --------
    >>> share(np.array([3.0, 1.0]), ["a", "b"], {"b"})
    0.25
    """
    total = float(weights.sum())
    if total <= 0:
        return None
    picked = [i for i, c in enumerate(columns) if c in chosen]
    return float(weights[picked].sum()) / total


def top_k(weights: FloatArray, columns: Sequence[str], k: int) -> tuple[str, ...]:
    """The ``k`` columns of largest weight, largest first (ties in column order).

    Examples
    --------
    >>> top_k(np.array([0.1, 0.5, 0.5]), ["a", "b", "c"], 2)
    ('b', 'c')
    """
    order = sorted(range(len(columns)), key=lambda i: (-float(weights[i]), i))
    return tuple(columns[i] for i in order[:k])


def top_k_overlap(first: Sequence[str], second: Sequence[str]) -> float:
    """Share of the top-k columns two lists have in common (``k`` = the longer list).

    Examples
    --------
    >>> top_k_overlap(("a", "b", "c"), ("c", "a", "d"))
    0.6666666666666666
    """
    k = max(len(first), len(second))
    return len(set(first) & set(second)) / k if k else 1.0


def rank_correlation(first: FloatArray, second: FloatArray) -> float | None:
    """Spearman's rank correlation of two importance vectors; None when one is constant.

    Examples
    --------
    >>> rank_correlation(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
    0.5
    """
    a = pd.Series(first).rank().to_numpy(dtype=np.float64)
    b = pd.Series(second).rank().to_numpy(dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])

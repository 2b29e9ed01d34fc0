"""Per-group confusion counts and the rates computed from them.

All binary metrics of the fairness auditor are ratios of sums of the four confusion
cells.  The cells of every group come from one ``np.bincount`` over the combined
code ``group * 4 + 2 * y_true + y_pred``; rates are then array arithmetic, so the
same functions serve point estimates ``(groups, 4)`` and bootstrap resamples
``(resamples, groups, 4)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CELLS",
    "JOINT_LIMIT",
    "RATES",
    "Comparison",
    "Rate",
    "compare_groups",
    "confusion_counts",
    "joint_confusion_counts",
    "rate_parts",
    "rate_values",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

TN, FP, FN, TP = 0, 1, 2, 3
CELLS = ("true negatives", "false positives", "false negatives", "true positives")
"""Names of the confusion cells, indexed by ``2 * y_true + y_pred``."""

_ALL = (TN, FP, FN, TP)

_BLOCK_ROWS = 1 << 18
"""Rows whose combined codes :func:`confusion_counts` builds and counts at a time."""

JOINT_LIMIT = 1 << 24
"""Most bins (combinations x 4 cells) :func:`joint_confusion_counts` tabulates."""


@dataclass(frozen=True)
class Rate:
    """A metric that is a ratio of sums of confusion cells.

    Attributes
    ----------
    name:
        Metric name, as policies spell it.
    description:
        One-line description for ``Auditor.metrics()`` and reports.
    numerator, denominator:
        Indices of the confusion cells summed above and below the line.
    undefined_note:
        Why the rate is undefined when its denominator is 0.
    """

    name: str
    description: str
    numerator: tuple[int, ...]
    denominator: tuple[int, ...]
    undefined_note: str


RATES: tuple[Rate, ...] = (
    Rate(
        "selection_rate",
        "Share of rows the model decides positively, P(ŷ=1).",
        (FP, TP),
        _ALL,
        "no rows in this group",
    ),
    Rate(
        "accuracy",
        "Share of rows whose decision equals the ground truth.",
        (TN, TP),
        _ALL,
        "no rows in this group",
    ),
    Rate(
        "true_positive_rate",
        "Share of actual positives decided positively (recall), P(ŷ=1 | y=1).",
        (TP,),
        (FN, TP),
        "no actual positives in this group",
    ),
    Rate(
        "false_positive_rate",
        "Share of actual negatives decided positively, P(ŷ=1 | y=0).",
        (FP,),
        (TN, FP),
        "no actual negatives in this group",
    ),
    Rate(
        "false_negative_rate",
        "Share of actual positives decided negatively, P(ŷ=0 | y=1).",
        (FN,),
        (FN, TP),
        "no actual positives in this group",
    ),
    Rate(
        "precision",
        "Share of positive decisions that are actual positives, P(y=1 | ŷ=1).",
        (TP,),
        (FP, TP),
        "no positive decisions in this group",
    ),
)
"""The binary metrics measured per group, in report order."""


def confusion_counts(
    codes: IntArray, n_groups: int, y_true: npt.NDArray[np.integer], y_pred: npt.NDArray[np.integer]
) -> IntArray:
    """Count the confusion cells of every group in one pass.

    Parameters
    ----------
    codes:
        Group code per row, in ``range(n_groups)``.
    n_groups:
        Number of groups.
    y_true, y_pred:
        0/1 ground truth and decisions per row.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_groups, 4)``; column ``2 * y_true + y_pred`` (see :data:`CELLS`).

    Examples
    --------
    >>> confusion_counts(np.array([0, 0, 1]), 2, np.array([1, 0, 1]), np.array([1, 1, 0]))
    array([[0, 1, 0, 1],
           [0, 0, 1, 0]])
    """
    group, truth, decision = (_integers(a) for a in (codes, y_true, y_pred))
    counts = np.zeros(4 * n_groups, dtype=np.int64)
    cell = np.empty(min(len(group), _BLOCK_ROWS), dtype=np.int64)
    # Block by block, so that the combined code stays in cache and is never a full copy.
    for start in range(0, len(group), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        block = cell[: len(group[rows])]
        np.multiply(group[rows], 4, out=block, casting="unsafe")
        block += truth[rows]
        block += truth[rows]
        block += decision[rows]
        counts += np.bincount(block, minlength=4 * n_groups)
    return counts.reshape(n_groups, 4)


def joint_confusion_counts(
    codes: Sequence[npt.NDArray[np.integer[Any]]],
    widths: Sequence[int],
    y_true: npt.NDArray[np.integer[Any]],
    y_pred: npt.NDArray[np.integer[Any]],
) -> IntArray:
    """Count the confusion cells of every combination of several columns' codes in one pass.

    The counts of any grouping of these columns (each column alone, or their
    intersection) are sums of this table over the other columns' axes, so one pass
    over the rows serves every grouping.  Combinations no row holds count zero.

    Parameters
    ----------
    codes:
        One code array per column, column ``i``'s codes in ``range(widths[i])``.
    widths:
        Number of codes of each column; their product times 4 bins are counted, so it
        must stay small enough to tabulate (see :data:`JOINT_LIMIT`).
    y_true, y_pred:
        0/1 ground truth and decisions per row.

    Returns
    -------
    numpy.ndarray
        Shape ``(*widths, 4)``; the last axis is ``2 * y_true + y_pred`` (see :data:`CELLS`).

    Examples
    --------
    >>> sex, race, y = np.array([0, 0, 1]), np.array([1, 0, 1]), np.array([1, 0, 1])
    >>> joint = joint_confusion_counts([sex, race], [2, 2], y, np.array([1, 1, 0]))
    >>> joint.sum(axis=1)  # the first column's groups alone
    array([[0, 1, 0, 1],
           [0, 0, 1, 0]])
    """
    if len(codes) != len(widths) or not codes:
        raise ValueError("joint_confusion_counts needs one width per code array, at least one.")
    bins = 4 * math.prod(widths)
    if bins > JOINT_LIMIT:
        raise ValueError(f"{bins} combinations x cells are too many to tabulate at once.")
    columns = [_integers(c) for c in codes]
    truth, decision = _integers(y_true), _integers(y_pred)
    radix = [*widths[1:], 4]  # what each column's code is multiplied by, Horner style
    counts = np.zeros(bins, dtype=np.int64)
    cell = np.empty(min(len(truth), _BLOCK_ROWS), dtype=np.int64)
    for start in range(0, len(truth), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        block = cell[: len(truth[rows])]
        np.multiply(columns[0][rows], radix[0], out=block, casting="unsafe")
        for column, factor in zip(columns[1:], radix[1:], strict=True):
            block += column[rows]
            block *= factor
        block += truth[rows]
        block += truth[rows]
        block += decision[rows]
        counts += np.bincount(block, minlength=bins)
    return counts.reshape(*widths, 4)


def _integers(values: npt.ArrayLike) -> npt.NDArray[np.integer[Any] | np.bool_]:
    """``values`` as an integer or boolean array, converting only other dtypes."""
    array = np.asarray(values)
    return array if array.dtype.kind in "biu" else array.astype(np.int64)


def rate_parts(counts: IntArray, rate: Rate) -> tuple[IntArray, IntArray]:
    """Numerator and denominator of ``rate`` for counts of shape ``(..., 4)``."""
    numerator = counts[..., list(rate.numerator)].sum(axis=-1)
    denominator = counts[..., list(rate.denominator)].sum(axis=-1)
    return numerator, denominator


def rate_values(counts: IntArray, rate: Rate) -> FloatArray:
    """Values of ``rate`` for counts of shape ``(..., 4)``; NaN where the denominator is 0.

    Examples
    --------
    >>> counts = np.array([[5, 5, 0, 0], [1, 1, 2, 6]])
    >>> rate_values(counts, RATES[2])  # true_positive_rate
    array([ nan, 0.75])
    """
    numerator, denominator = rate_parts(counts, rate)
    out = np.full(numerator.shape, np.nan, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


@dataclass(frozen=True)
class Comparison:
    """How far apart one metric's values are across the comparable groups.

    Attributes
    ----------
    compared:
        Number of groups compared.
    difference:
        Largest minus smallest value (fairlearn's ``between_groups`` difference);
        ``None`` with fewer than two groups.
    ratio:
        Smallest over largest value (fairlearn's ``between_groups`` ratio); ``None``
        with fewer than two groups or when the largest value is 0.
    """

    compared: int
    difference: float | None
    ratio: float | None


def compare_groups(values: FloatArray, comparable: BoolArray) -> Comparison:
    """Compare the values of the groups marked ``comparable`` (NaN values never are).

    Examples
    --------
    >>> compare_groups(np.array([0.2, 0.5, 0.4]), np.array([True, False, True]))
    Comparison(compared=2, difference=0.2, ratio=0.5)
    """
    chosen = np.asarray(values, dtype=np.float64)[np.asarray(comparable, dtype=bool)]
    chosen = chosen[~np.isnan(chosen)]
    if len(chosen) < 2:
        return Comparison(compared=len(chosen), difference=None, ratio=None)
    low, high = float(chosen.min()), float(chosen.max())
    return Comparison(
        compared=len(chosen),
        difference=high - low,
        ratio=low / high if high > 0 else None,
    )

"""Stratified bootstrap resampling and percentile intervals, shared by the auditors.

Rows are resampled *within* each group, so every resample keeps the group sizes.
For count-based metrics this needs no rows at all: resampling ``n_g`` rows of a
group with replacement gives confusion counts distributed as
``Multinomial(n_g, counts_g / n_g)``, drawn for all groups and resamples at once.
Intervals are percentile intervals; resamples in which a metric is undefined (its
denominator is 0) are dropped, and when more than :data:`MAX_UNDEFINED_SHARE` of
them are, the interval is not reported.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_UNDEFINED_SHARE",
    "percentile_interval",
    "resample_counts",
    "resample_regression_errors",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_UNDEFINED_SHARE = 0.1
"""Largest share of undefined resamples for which an interval is still reported."""

_CHUNK_ELEMENTS = 4_000_000
"""Bound on the size of one block of resampled row indices (memory, regression only)."""


def resample_counts(counts: IntArray, n_resamples: int, rng: np.random.Generator) -> IntArray:
    """Draw stratified bootstrap resamples of per-group confusion counts.

    Parameters
    ----------
    counts:
        Shape ``(groups, cells)``: each group's counts (e.g. its confusion cells).
    n_resamples:
        Number of resamples.
    rng:
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_resamples, groups, cells)``; each resample of group ``g`` sums to
        the group's size, as if its rows had been drawn with replacement.
    """
    counts = np.asarray(counts, dtype=np.int64)
    totals = counts.sum(axis=-1)
    proportions = np.zeros(counts.shape, dtype=np.float64)
    np.divide(counts, totals[:, None], out=proportions, where=totals[:, None] > 0)
    proportions[totals == 0, 0] = 1.0  # empty groups: a valid distribution over 0 draws
    draws = rng.multinomial(totals, proportions, size=(n_resamples, counts.shape[0]))
    return np.asarray(draws, dtype=np.int64)


def resample_regression_errors(
    errors: FloatArray,
    codes: IntArray,
    n_groups: int,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Bootstrap the mean absolute and root mean squared error of every group.

    Rows are drawn with replacement within each group, in blocks of resamples so
    that memory stays bounded for large groups.

    Parameters
    ----------
    errors:
        Prediction error per row (``y_pred - y_true``).
    codes:
        Group code per row, in ``range(n_groups)``.
    n_groups:
        Number of groups.
    n_resamples:
        Number of resamples.
    rng:
        Source of randomness.

    Returns
    -------
    mae, rmse:
        Each of shape ``(n_resamples, n_groups)``; NaN for empty groups.
    """
    mae = np.full((n_resamples, n_groups), np.nan)
    rmse = np.full((n_resamples, n_groups), np.nan)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=n_groups))))
    for group in range(n_groups):
        group_errors = errors[order[bounds[group] : bounds[group + 1]]]
        size = len(group_errors)
        if size == 0:
            continue
        block = max(1, _CHUNK_ELEMENTS // size)
        for start in range(0, n_resamples, block):
            stop = min(start + block, n_resamples)
            drawn = group_errors[rng.integers(0, size, size=(stop - start, size))]
            mae[start:stop, group] = np.abs(drawn).mean(axis=1)
            rmse[start:stop, group] = np.sqrt(np.square(drawn).mean(axis=1))
    return mae, rmse


def percentile_interval(
    estimates: FloatArray,
    confidence_level: float,
    *,
    max_undefined_share: float = MAX_UNDEFINED_SHARE,
) -> tuple[FloatArray, FloatArray]:
    """Percentile bootstrap interval of each column of ``estimates``.

    Parameters
    ----------
    estimates:
        Shape ``(resamples, groups)``; NaN marks a resample where the metric is undefined.
    confidence_level:
        Coverage of the interval, e.g. 0.95 for the 2.5% and 97.5% percentiles.
    max_undefined_share:
        Columns with a larger share of NaN resamples get no interval.

    Returns
    -------
    low, high:
        Shape ``(groups,)``; NaN where no interval is reported.

    Examples
    --------
    >>> low, high = percentile_interval(np.arange(101.0)[:, None], 0.9)
    >>> round(float(low[0]), 9), round(float(high[0]), 9)
    (5.0, 95.0)
    """
    estimates = np.asarray(estimates, dtype=np.float64)
    n_groups = estimates.shape[1] if estimates.ndim == 2 else 0
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    if estimates.ndim != 2 or estimates.shape[0] == 0:
        return low, high
    defined = ~np.isnan(estimates)
    share_undefined = 1.0 - defined.mean(axis=0)
    usable = (share_undefined <= max_undefined_share) & defined.any(axis=0)
    if not usable.any():
        return low, high
    tail = (1.0 - confidence_level) / 2.0
    quantiles = np.nanquantile(estimates[:, usable], [tail, 1.0 - tail], axis=0)
    low[usable], high[usable] = quantiles[0], quantiles[1]
    return low, high

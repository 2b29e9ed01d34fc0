"""Confidence intervals for proportions (rates such as a group's selection rate).

The Wilson score interval is the default: unlike a bootstrap percentile interval it
does not collapse to ``[0, 0]`` when a group has no selections, and it keeps close to
its nominal coverage for small groups.  The Clopper–Pearson ("exact") interval is the
conservative alternative.  Both come from :func:`statsmodels.stats.proportion.proportion_confint`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from statsmodels.stats.proportion import proportion_confint

__all__ = ["INTERVAL_METHODS", "IntervalMethod", "proportion_interval"]

FloatArray = npt.NDArray[np.float64]

IntervalMethod = Literal["wilson", "clopper-pearson"]
"""Interval methods for a proportion."""

INTERVAL_METHODS: dict[str, str] = {
    "wilson": "Wilson score interval",
    "clopper-pearson": "Clopper-Pearson (exact) interval",
}
"""Each method's name as reports write it."""

_STATSMODELS = {"wilson": "wilson", "clopper-pearson": "beta"}


def proportion_interval(
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    *,
    confidence_level: float,
    method: IntervalMethod = "wilson",
) -> tuple[FloatArray, FloatArray]:
    """Two-sided confidence interval of ``successes / trials``, element by element.

    Parameters
    ----------
    successes, trials:
        Counts of the same shape; ``0 <= successes <= trials``.
    confidence_level:
        Coverage, e.g. 0.95.
    method:
        ``"wilson"`` or ``"clopper-pearson"``.

    Returns
    -------
    low, high:
        Arrays of the counts' shape; NaN where ``trials`` is 0.

    Examples
    --------
    >>> low, high = proportion_interval([0, 5], [20, 10], confidence_level=0.95)
    >>> [round(float(v), 4) for v in (*low, *high)]
    [0.0, 0.2366, 0.1611, 0.7634]
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    low = np.full(np.broadcast(k, n).shape, np.nan)
    high = np.full(low.shape, np.nan)
    defined = np.broadcast_to(n > 0, low.shape)
    if defined.any():
        k_defined = np.broadcast_to(k, low.shape)[defined]
        n_defined = np.broadcast_to(n, low.shape)[defined]
        bounds = proportion_confint(
            k_defined, n_defined, alpha=1.0 - confidence_level, method=_STATSMODELS[method]
        )
        low[defined] = np.clip(bounds[0], 0.0, 1.0)
        high[defined] = np.clip(bounds[1], 0.0, 1.0)
    return low, high

"""Adjusting p-values for multiple comparisons (Holm's step-down method).

Comparing every group with the reference group makes several tests at once; the
chance that at least one of them looks significant by chance alone grows with their
number.  Holm's method (1979) keeps that family-wise chance at most alpha without
assuming the tests are independent, and is uniformly more powerful than Bonferroni.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from statsmodels.stats.multitest import multipletests

__all__ = ["holm_adjust"]


def holm_adjust(p_values: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Holm-adjusted p-values, in the input order (statsmodels' ``multipletests``).

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03]).round(6).tolist()
    [0.03, 0.06, 0.06]
    """
    values = np.asarray(p_values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    return np.asarray(multipletests(values, method="holm")[1], dtype=np.float64)

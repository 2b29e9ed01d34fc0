"""Paired decisions: the same cases decided under two or more conditions.

The counterfactual auditor scores each applicant once per assigned group; the decisions
form an ``n × k`` matrix of 0/1.  McNemar's exact test (two conditions: a binomial test on
the discordant pairs) and Cochran's Q (more: chi-squared with ``k - 1`` degrees of freedom)
ask whether the conditions change decisions more than chance explains.  Both come from
statsmodels; the tests check them against scipy's binomial test and Cochran's closed form.
:func:`paired_difference_interval` gives the interval of the difference of two paired
proportions (two models right or wrong on the same rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.stats.contingency_tables import cochrans_q, mcnemar

from audit.stats.proportions import proportion_interval

__all__ = ["COCHRAN", "MCNEMAR", "PairedTest", "paired_difference_interval", "paired_test"]

MCNEMAR = "McNemar's exact test"
COCHRAN = "Cochran's Q test"


@dataclass(frozen=True)
class PairedTest:
    """Whether the conditions change the decisions more than chance explains."""

    name: str
    statistic: float
    p_value: float
    discordant: int
    """Cases whose decisions differ between the conditions."""


def paired_test(decisions: npt.ArrayLike) -> PairedTest:
    """McNemar's exact test for two columns of 0/1 decisions, Cochran's Q for more.

    A matrix with no discordant case gives p = 1 (no evidence of a difference), where the
    statistics themselves are undefined.

    Examples
    --------
    >>> paired_test([[1, 0], [1, 0], [1, 1], [0, 0]]).p_value
    0.5
    """
    matrix = np.asarray(decisions, dtype=np.int64)
    k = matrix.shape[1]
    varying = matrix.min(axis=1) != matrix.max(axis=1)
    discordant = int(varying.sum())
    name = MCNEMAR if k == 2 else COCHRAN
    if discordant == 0:
        return PairedTest(name, 0.0, 1.0, 0)
    if k == 2:
        table = np.zeros((2, 2), dtype=np.int64)
        np.add.at(table, (matrix[:, 0], matrix[:, 1]), 1)
        result = mcnemar(table, exact=True)
    else:
        result = cochrans_q(matrix)
    return PairedTest(name, float(result.statistic), float(result.pvalue), discordant)


def paired_difference_interval(
    first_hits: npt.ArrayLike, second_hits: npt.ArrayLike, confidence_level: float
) -> tuple[float, float] | None:
    """Newcombe's interval of the difference of two paired proportions (first minus second).

    Each case counts for both proportions (say, whether each of two models is right on the
    same row): the square-and-add of the two Wilson intervals (Newcombe 1998, method 10),
    corrected for the correlation of the pair by Newcombe's continuity-corrected phi (0 when
    the cross-product ``a*d - b*c`` is between 0 and n/2).  ``None`` on no cases.

    Examples
    --------
    A published worked example (Fagerland, Lydersen and Laake, 2017, the paired table
    59, 6 / 16, 80: estimate -0.0621, 95% interval -0.1186 to -0.0046):

    >>> first = np.repeat([True, True, False, False], [59, 6, 16, 80])
    >>> second = np.repeat([True, False, True, False], [59, 6, 16, 80])
    >>> [round(v, 4) for v in paired_difference_interval(first, second, 0.95)]
    [-0.1186, -0.0046]
    """
    first = np.asarray(first_hits, dtype=bool)
    second = np.asarray(second_hits, dtype=bool)
    n = len(first)
    if n == 0:
        return None
    both = int(np.sum(first & second))
    only_first = int(np.sum(first & ~second))
    only_second = int(np.sum(~first & second))
    neither = n - both - only_first - only_second
    p1, p2 = (both + only_first) / n, (both + only_second) / n
    (l1, l2), (u1, u2) = proportion_interval(
        [both + only_first, both + only_second], [n, n], confidence_level=confidence_level
    )
    phi = _phi(both, only_first, only_second, neither)
    down = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
    up = (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)
    difference = p1 - p2
    return (
        max(-1.0, difference - math.sqrt(max(float(down), 0.0))),
        min(1.0, difference + math.sqrt(max(float(up), 0.0))),
    )


def _phi(both: int, only_first: int, only_second: int, neither: int) -> float:
    """Newcombe's continuity-corrected correlation of the two paired proportions."""
    n = both + only_first + only_second + neither
    margins = (
        (both + only_first)
        * (only_second + neither)
        * (both + only_second)
        * (only_first + neither)
    )
    if margins == 0:
        return 0.0
    cross = both * neither - only_first * only_second
    if cross > n / 2:
        return (cross - n / 2) / math.sqrt(margins)
    return cross / math.sqrt(margins) if cross < 0 else 0.0

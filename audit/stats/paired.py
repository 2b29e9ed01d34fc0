"""Paired decisions: the same cases decided under two or more conditions.

The counterfactual auditor scores each applicant once per assigned group; the decisions
form an ``n × k`` matrix of 0/1.  McNemar's exact test (two conditions: a binomial test on
the discordant pairs) and Cochran's Q (more: chi-squared with ``k - 1`` degrees of freedom)
ask whether the conditions change decisions more than chance explains.  Both come from
statsmodels; the tests check them against scipy's binomial test and Cochran's closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.stats.contingency_tables import cochrans_q, mcnemar

__all__ = ["COCHRAN", "MCNEMAR", "PairedTest", "paired_test"]

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

"""Group against reference within strata (job, location, period): Cochran–Mantel–Haenszel.

Comparing selection rates over a whole pool can mislead when groups apply to strata
with different selection rates (Simpson's paradox; the Berkeley admissions data).
With one 2x2 table per stratum (rows: group, reference; columns: selected, not
selected), statsmodels' ``StratifiedTable`` gives

* the Cochran–Mantel–Haenszel test that the odds of selection are the same for both
  groups within every stratum (chi-squared, 1 degree of freedom, no continuity
  correction);
* the Mantel–Haenszel common odds ratio, with the Robins–Breslow–Greenland interval;
* the Breslow–Day test that the odds ratio is the same in every stratum; when it is
  significant, a single common odds ratio summarises the strata poorly.

A stratum where either group is absent or where everybody or nobody was selected
carries no information about the comparison and is left out (and counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from statsmodels.stats.contingency_tables import StratifiedTable

__all__ = ["StratifiedComparison", "mantel_haenszel"]


@dataclass(frozen=True)
class StratifiedComparison:
    """The stratified comparison of a group with the reference group.

    Attributes
    ----------
    strata_used, strata_left_out:
        Strata in the calculation, and strata left out (a group absent, or a
        selection rate of 0 or 1 over both groups).
    cmh_statistic, cmh_p_value:
        Cochran–Mantel–Haenszel chi-squared statistic and p-value.
    common_odds_ratio, odds_ratio_low, odds_ratio_high:
        Mantel–Haenszel common odds ratio (group over reference) and its interval.
    breslow_day_statistic, breslow_day_p_value:
        Breslow–Day test of a common odds ratio across strata; NaN when only one
        stratum is used, where there is nothing to compare.
    """

    strata_used: int
    strata_left_out: int
    cmh_statistic: float
    cmh_p_value: float
    common_odds_ratio: float
    odds_ratio_low: float
    odds_ratio_high: float
    breslow_day_statistic: float
    breslow_day_p_value: float


def mantel_haenszel(
    tables: npt.ArrayLike, *, confidence_level: float = 0.95
) -> StratifiedComparison | None:
    """The CMH test, the common odds ratio and the Breslow–Day test of 2x2 tables.

    Parameters
    ----------
    tables:
        Shape ``(strata, 2, 2)``: per stratum ``[[a, b], [c, d]]`` with the group's
        selected and not selected in the first row, the reference group's in the second.
    confidence_level:
        Coverage of the common odds ratio's interval.

    Returns
    -------
    StratifiedComparison or None
        ``None`` when no stratum carries information.

    Examples
    --------
    >>> r = mantel_haenszel([[[10, 20], [20, 10]], [[5, 5], [15, 5]], [[0, 3], [0, 4]]])
    >>> r.strata_used, r.strata_left_out, round(r.common_odds_ratio, 4)
    (2, 1, 0.2727)
    """
    cells = np.asarray(tables, dtype=np.float64)
    if cells.ndim != 3 or cells.shape[1:] != (2, 2):
        raise ValueError(f"tables must have shape (strata, 2, 2), got {cells.shape}")
    rows = cells.sum(axis=2)
    columns = cells.sum(axis=1)
    informative = (rows > 0).all(axis=1) & (columns > 0).all(axis=1)
    used = cells[informative]
    if len(used) == 0:
        return None
    table = StratifiedTable(np.moveaxis(used, 0, -1))
    cmh = table.test_null_odds(correction=False)
    low, high = table.oddsratio_pooled_confint(alpha=1.0 - confidence_level)
    breslow_day = (float("nan"), float("nan"))
    if len(used) > 1:  # with one stratum there is no heterogeneity to test (0 degrees of freedom)
        homogeneity = table.test_equal_odds(adjust=False)
        breslow_day = (float(homogeneity.statistic), float(homogeneity.pvalue))
    return StratifiedComparison(
        strata_used=len(used),
        strata_left_out=int((~informative).sum()),
        cmh_statistic=float(cmh.statistic),
        cmh_p_value=float(cmh.pvalue),
        common_odds_ratio=float(table.oddsratio_pooled),
        odds_ratio_low=float(low),
        odds_ratio_high=float(high),
        breslow_day_statistic=breslow_day[0],
        breslow_day_p_value=breslow_day[1],
    )

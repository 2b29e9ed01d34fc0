"""One group's selections against a reference group's: the statistics an expert checks first.

For a group with ``a`` of ``n`` selected and a reference group with ``c`` of ``m``
selected, :func:`compare_with_reference` gives

* the impact ratio ``(a/n) / (c/m)`` with a confidence interval by the log method of
  Katz et al. (1978), as statsmodels' ``Table2x2.riskratio_confint`` computes it; when
  ``a`` or ``c`` is 0 the log is undefined: 0.5 is added to every cell for the upper end,
  and a group with no selections has a lower end of 0;
* the pooled two-proportion Z test (the "two standard deviations" rule), two-sided, as
  statsmodels' ``proportions_ztest`` computes it;
* Fisher's exact test, one-sided (the group is selected less often): the hypergeometric
  tail ``P(X <= a)`` that scipy's ``fisher_exact`` gives, with Lancaster's mid-P beside it:
  the same tail with only half the probability of the observed table, which is less
  conservative;
* the shortfall: the selections the group would have had at the reference rate,
  ``n * c/m``, minus the ``a`` it had.

The interval and the Z test are their closed forms, written out here, and the tail is one
call of scipy's hypergeometric CDF: an audit compares every group of every grouping, and
the library wrappers (argument checks, table objects) cost about 0.5 ms a comparison, most
of a large audit's statistics time.  Tests hold them to the libraries' own results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtr, ndtri
from scipy.stats import hypergeom

__all__ = ["GroupComparison", "compare_with_reference"]

ZERO_CELL_NOTE = (
    "no selections: the interval's upper end adds 0.5 to every cell, its lower end is 0"
)


@dataclass(frozen=True)
class GroupComparison:
    """A group's selections compared with the reference group's.

    Attributes
    ----------
    selected, total:
        The group's selections and size.
    reference_selected, reference_total:
        The reference group's.
    impact_ratio:
        Group rate over reference rate; ``None`` when the reference rate is 0.
    ratio_low, ratio_high:
        Confidence interval of the impact ratio (Katz log method); ``None`` when the
        ratio is undefined.
    ratio_note:
        How the interval was computed when it needed a correction, else ``None``.
    z:
        Pooled two-proportion Z statistic, group minus reference (negative: the group
        is selected less often); ``None`` when nobody or everybody was selected.
    z_p_value:
        Its two-sided p-value; ``None`` with ``z``.
    fisher_p_value:
        Fisher's exact test, one-sided: the chance, with selections spread at random
        over both groups, of the group getting this few selections or fewer.
    mid_p_value:
        Lancaster's mid-P of the same test.
    shortfall:
        Selections at the reference rate minus actual selections.
    """

    selected: int
    total: int
    reference_selected: int
    reference_total: int
    impact_ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    ratio_note: str | None
    z: float | None
    z_p_value: float | None
    fisher_p_value: float
    mid_p_value: float
    shortfall: float

    @property
    def rate(self) -> float:
        """The group's selection rate."""
        return self.selected / self.total

    @property
    def reference_rate(self) -> float:
        """The reference group's selection rate."""
        return self.reference_selected / self.reference_total


def _check(selected: int, total: int, what: str) -> None:
    if total <= 0 or not 0 <= selected <= total:
        raise ValueError(f"{what}: need 0 <= selected <= total > 0, got {selected} of {total}")


def compare_with_reference(
    selected: int,
    total: int,
    reference_selected: int,
    reference_total: int,
    *,
    confidence_level: float = 0.95,
) -> GroupComparison:
    """Compare a group's selection rate with a reference group's.

    Parameters
    ----------
    selected, total:
        The group's selections and size (``total > 0``).
    reference_selected, reference_total:
        The reference group's (``reference_total > 0``).
    confidence_level:
        Coverage of the impact ratio's interval.

    Examples
    --------
    >>> c = compare_with_reference(30, 100, 60, 100)
    >>> round(c.impact_ratio, 3), round(c.z, 3), c.shortfall
    (0.5, -4.264, 30.0)
    """
    _check(selected, total, "group")
    _check(reference_selected, reference_total, "reference group")
    a, n, c, m = int(selected), int(total), int(reference_selected), int(reference_total)
    ratio = ratio_low = ratio_high = None
    note = None
    if c > 0:
        ratio = (a / n) / (c / m)
        shift = 0.5 if a == 0 else 0.0
        if shift:
            note = ZERO_CELL_NOTE
        low, high = _katz_interval(
            a + shift, n + 2 * shift, c + shift, m + 2 * shift, 1.0 - confidence_level
        )
        # with no selections the ratio is 0, and so is the interval's lower end
        ratio_low, ratio_high = (0.0 if a == 0 else low), high
    z = z_p = None
    if 0 < a + c < n + m:
        z = _pooled_z(a, n, c, m)
        z_p = float(2.0 * ndtr(-abs(z)))
    # X, the group's selections given both margins, is hypergeometric under the null:
    # Fisher's one-sided p is P(X <= a); the mid-P is P(X < a) + P(X = a) / 2.
    at_most, below = hypergeom.cdf([a, a - 1], n + m, a + c, n)
    fisher = float(at_most)
    return GroupComparison(
        selected=a,
        total=n,
        reference_selected=c,
        reference_total=m,
        impact_ratio=ratio,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        ratio_note=note,
        z=z,
        z_p_value=z_p,
        fisher_p_value=min(1.0, fisher),
        mid_p_value=max(0.0, min(1.0, 0.5 * (fisher + float(below)))),
        shortfall=n * (c / m) - a,
    )


def _katz_interval(a: float, n: float, c: float, m: float, alpha: float) -> tuple[float, float]:
    """The risk ratio's interval by the log method: ``log(RR) ± z sqrt(Σ (1 - p) / (n p))``."""
    log_ratio = math.log(a / n) - math.log(c / m)
    se = math.sqrt((1 - a / n) / a + (1 - c / m) / c)
    half = -float(ndtri(alpha / 2)) * se
    return math.exp(log_ratio - half), math.exp(log_ratio + half)


def _pooled_z(a: int, n: int, c: int, m: int) -> float:
    """The pooled two-proportion Z statistic, group minus reference."""
    pooled = (a + c) / (n + m)
    return (a / n - c / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))

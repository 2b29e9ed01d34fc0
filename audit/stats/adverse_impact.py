"""Every group against one reference group, with the p-value a requirement asks for.

A requirement may ask whether a group's lower selection rate is larger than chance
would explain: the one-sided Fisher exact test (the default), its mid-p, or the
two-sided pooled z test, optionally Holm-adjusted over all the groups tested against
the same reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from audit.stats.multiple import holm_adjust
from audit.stats.two_groups import GroupComparison, compare_with_reference

__all__ = ["TEST_NAMES", "Adjustment", "ReferenceTests", "SignificanceTest", "against_reference"]

SignificanceTest = Literal["fisher", "fisher-mid-p", "z"]
Adjustment = Literal["none", "holm"]

TEST_NAMES: dict[str, str] = {
    "fisher": "Fisher's exact test",
    "fisher-mid-p": "Fisher's exact test (mid-p)",
    "z": "the two-proportion z test",
}
"""Each test's name as findings write it."""


@dataclass(frozen=True)
class ReferenceTests:
    """The groups of one comparison, each tested against the reference group.

    Attributes
    ----------
    reference:
        Index of the reference group.
    comparisons:
        Per group, its statistics against the reference (``None`` for the reference).
    p_values:
        Per group, the requested p-value, Holm-adjusted when asked (``None`` for the
        reference).  A z test without variation (nobody or everybody selected in both
        groups) has p = 1: the groups do not differ.
    tested:
        Number of groups tested (the size of the family Holm's method allows for).
    """

    reference: int
    comparisons: tuple[GroupComparison | None, ...]
    p_values: tuple[float | None, ...]
    tested: int


def _p_value(comparison: GroupComparison, test: SignificanceTest) -> float:
    if test == "fisher":
        return comparison.fisher_p_value
    if test == "fisher-mid-p":
        return comparison.mid_p_value
    return 1.0 if comparison.z_p_value is None else comparison.z_p_value


def against_reference(
    selected: Sequence[int],
    totals: Sequence[int],
    reference: int,
    *,
    test: SignificanceTest = "fisher",
    adjust: Adjustment = "none",
    confidence_level: float = 0.95,
) -> ReferenceTests:
    """Test every group's selections against the reference group's.

    Examples
    --------
    >>> r = against_reference([30, 60, 55], [100, 100, 100], 1, adjust="holm")
    >>> r.tested, r.p_values[1], round(r.p_values[0], 6) < 0.001
    (2, None, True)
    """
    comparisons = tuple(
        None
        if g == reference
        else compare_with_reference(
            selected[g],
            totals[g],
            selected[reference],
            totals[reference],
            confidence_level=confidence_level,
        )
        for g in range(len(totals))
    )
    raw = [_p_value(c, test) for c in comparisons if c is not None]
    adjusted = list(holm_adjust(raw)) if adjust == "holm" else raw
    values = iter(adjusted)
    p_values = tuple(None if c is None else float(next(values)) for c in comparisons)
    return ReferenceTests(reference, comparisons, p_values, len(raw))

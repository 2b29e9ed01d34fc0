"""Which groupings an auditor reports when it cannot build them from the data."""

from __future__ import annotations

from collections.abc import Sequence

from audit.core.groups import plan_groupings

__all__ = ["planned_groupings"]


def planned_groupings(
    sensitive: Sequence[str],
    *,
    intersectional: bool = True,
    extra: Sequence[Sequence[str]] = (),
) -> list[tuple[str, ...]]:
    """Column tuples of the groupings :func:`audit.core.groups.groupings_for` would build.

    Parameters
    ----------
    sensitive:
        Sensitive column names.
    intersectional:
        Whether the combination of all columns is added when there are two or more.
    extra:
        More combinations to add, in order, each once; those naming a column that is
        not in ``sensitive`` are left out.

    Returns
    -------
    list of tuple of str
        Each column alone, then (optionally) all of them together.

    Examples
    --------
    >>> planned_groupings(["sex", "race"])
    [('sex',), ('race',), ('sex', 'race')]
    >>> planned_groupings(["sex", "race", "age"], extra=[["race", "sex"], ["age", "x"]])[-1]
    ('race', 'sex')
    """
    return plan_groupings(sensitive, intersectional=intersectional, extra=extra)

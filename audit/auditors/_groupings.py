"""Which groupings an auditor reports when it cannot build them from the data."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["planned_groupings"]


def planned_groupings(
    sensitive: Sequence[str], *, intersectional: bool = True
) -> list[tuple[str, ...]]:
    """Column tuples of the groupings :func:`audit.core.groups.groupings_for` would build.

    Parameters
    ----------
    sensitive:
        Sensitive column names.
    intersectional:
        Whether the combination of all columns is added when there are two or more.

    Returns
    -------
    list of tuple of str
        Each column alone, then (optionally) all of them together.

    Examples
    --------
    >>> planned_groupings(["sex", "race"])
    [('sex',), ('race',), ('sex', 'race')]
    """
    planned: list[tuple[str, ...]] = [(column,) for column in sensitive]
    if intersectional and len(sensitive) >= 2:
        planned.append(tuple(sensitive))
    return planned

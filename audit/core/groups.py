"""Turn sensitive columns into integer group codes with display labels (shared by auditors).

A *grouping* is one sensitive column, or several combined (intersectional groups).
Each row gets a code in ``range(n_groups)``; codes follow a stable sorted order of
the values (of the first column, then the second, ...), with the missing-value group
``unknown`` last within each column.  Missing means NaN, None, ``pd.NA`` or a blank
string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.core.measurements import GroupStatus

__all__ = [
    "UNKNOWN_LABEL",
    "Grouping",
    "encode_column",
    "group_statuses",
    "groupings_for",
    "make_grouping",
]

UNKNOWN_LABEL = "unknown"
"""Display value of the group formed by rows whose sensitive value is missing."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Grouping:
    """Rows of the data assigned to the groups of one or more sensitive columns.

    Attributes
    ----------
    columns:
        The sensitive columns whose value combinations form the groups.
    codes:
        One group code per row, in ``range(len(labels))``.
    labels:
        Display label per group, e.g. ``"sex=Female, race=Black"``.
    unknown:
        Per group, whether any of its column values is missing (the ``unknown`` group).
    """

    columns: tuple[str, ...]
    codes: IntArray
    labels: tuple[str, ...]
    unknown: BoolArray

    @property
    def n_groups(self) -> int:
        """Number of groups (only combinations that occur in the data)."""
        return len(self.labels)

    def counts(self) -> IntArray:
        """Rows per group, in group order."""
        return np.bincount(self.codes, minlength=self.n_groups).astype(np.int64)


def _sort_order(values: Sequence[Any]) -> list[int]:
    """Return the indices sorting ``values`` naturally (by type and text if mixed)."""
    indices = range(len(values))
    try:
        return sorted(indices, key=lambda i: values[i])
    except TypeError:
        return sorted(indices, key=lambda i: (type(values[i]).__name__, str(values[i])))


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _display(value: Any) -> str:
    """Text of a category value; whole floats (codes read with NaN) lose their ``.0``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def encode_column(values: pd.Series) -> tuple[IntArray, tuple[str, ...], BoolArray]:
    """Encode one sensitive column as sorted integer codes.

    Parameters
    ----------
    values:
        The column; missing values (NaN, None, ``pd.NA``, blank strings) form the
        group ``unknown``, placed after every observed value.  Observed values are
        sorted (categoricals in their categories' order); values no row holds are
        not groups.

    Returns
    -------
    codes, names, unknown:
        A code per row, the display value of each code (``str(value)`` or
        ``"unknown"``), and whether each code is the missing-value group.
    """
    raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    unique_list = list(uniques)
    blank = np.fromiter((_is_blank(v) for v in unique_list), dtype=bool, count=len(unique_list))
    known = np.flatnonzero(~blank)
    known_values = [unique_list[i] for i in known]
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.dtype.categories
        order = sorted(range(len(known_values)), key=lambda i: categories.get_loc(known_values[i]))
    else:
        order = _sort_order(known_values)
    names = [_display(known_values[i]) for i in order]
    has_missing = bool((raw_codes < 0).any() or blank.any())
    missing_code = len(names)
    # Lookup from factorize's codes, shifted by one (missing -1 -> 0), to sorted codes.
    lookup = np.full(len(unique_list) + 1, missing_code, dtype=np.int64)
    lookup[known[order] + 1] = np.arange(len(names), dtype=np.int64)
    codes = lookup[np.asarray(raw_codes, dtype=np.int64) + 1]
    if has_missing:
        unknown_name = UNKNOWN_LABEL if UNKNOWN_LABEL not in names else f"{UNKNOWN_LABEL} (missing)"
        names.append(unknown_name)
    unknown = np.zeros(len(names), dtype=bool)
    if has_missing:
        unknown[missing_code] = True
    return codes, tuple(names), unknown


_DENSE_LIMIT = 1 << 24
"""Largest combined-code range compacted with a bincount table rather than a sort."""


def _compact(wide: IntArray, span: int) -> tuple[IntArray, IntArray]:
    """The sorted codes present in ``wide`` (all in ``[0, span)``) and each row's index among them.

    A bincount over the range is linear in the rows; a sort (``np.unique``) is kept for
    ranges too large to tabulate.
    """
    if span <= _DENSE_LIMIT:
        present = np.flatnonzero(np.bincount(wide, minlength=span))
        lookup = np.zeros(span, dtype=np.int64)
        lookup[present] = np.arange(len(present), dtype=np.int64)
        return present, lookup[wide]
    present, inverse = np.unique(wide, return_inverse=True)
    return present, inverse.astype(np.int64).reshape(-1)


def _combine(
    encoded: Sequence[tuple[str, IntArray, tuple[str, ...], BoolArray]],
) -> Grouping:
    """Combine encoded columns into one grouping of the value combinations present."""
    combined: IntArray | None = None
    labels: list[tuple[str, ...]] = []
    unknown: BoolArray = np.zeros(0, dtype=bool)
    for column, codes, names, is_unknown in encoded:
        parts = [f"{column}={name}" for name in names]
        if combined is None:
            combined, labels, unknown = codes, [(p,) for p in parts], is_unknown
            continue
        present, combined = _compact(combined * len(names) + codes, len(labels) * len(names))
        outer, inner = np.divmod(present, len(names))
        labels = [(*labels[o], parts[i]) for o, i in zip(outer, inner, strict=True)]
        unknown = unknown[outer] | is_unknown[inner]
    assert combined is not None
    return Grouping(
        columns=tuple(column for column, *_ in encoded),
        codes=combined,
        labels=tuple(", ".join(parts) for parts in labels),
        unknown=np.asarray(unknown, dtype=bool),
    )


def make_grouping(data: pd.DataFrame, columns: Sequence[str]) -> Grouping:
    """Group the rows of ``data`` by the value combinations of ``columns``.

    Codes of several columns are combined arithmetically and compacted after each
    column, so only combinations present in the data become groups and the
    combined code never overflows.

    Parameters
    ----------
    data:
        The audited rows.
    columns:
        One or more column names of ``data``.

    Returns
    -------
    Grouping
        Codes, labels (``"a=x, b=y"``) and unknown flags, in sorted order.
    """
    if not columns:
        raise ValueError("a grouping needs at least one column.")
    return _combine([(column, *encode_column(data[column])) for column in columns])


def groupings_for(
    data: pd.DataFrame, sensitive: Sequence[str], *, intersectional: bool
) -> list[Grouping]:
    """List the groupings the fairness auditor measures.

    Parameters
    ----------
    data:
        The audited rows; every name in ``sensitive`` must be a column.
    sensitive:
        Sensitive column names.
    intersectional:
        Whether to add the combination of all columns when there are two or more.

    Returns
    -------
    list of Grouping
        Each column alone, then (optionally) their intersection.
    """
    encoded = [(column, *encode_column(data[column])) for column in sensitive]
    groupings = [_combine([one]) for one in encoded]
    if intersectional and len(encoded) >= 2:
        groupings.append(_combine(encoded))
    return groupings


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _share_below(share: float, threshold: float) -> str:
    """``share`` as a percentage with enough decimals to read as below ``threshold``."""
    for digits in range(1, 5):
        if round(100 * share, digits) < 100 * threshold:
            break
    return f"{share:.{digits}%}"


def group_statuses(
    grouping: Grouping,
    *,
    min_group_size: int,
    exclude_below_share: float,
    exclude_unknown: bool,
) -> list[tuple[GroupStatus, str | None]]:
    """Whether each group may be compared with others, and why not.

    Rules, first match wins: the ``unknown`` group when ``exclude_unknown`` is
    EXCLUDED; a group holding less than ``exclude_below_share`` of the rows is
    EXCLUDED; a group of fewer than ``min_group_size`` rows is SMALL; else OK.

    Parameters
    ----------
    grouping:
        The groups.
    min_group_size:
        Smallest group that is compared.
    exclude_below_share:
        Smallest share of rows a compared group holds (0 excludes none).
    exclude_unknown:
        Whether groups with a missing sensitive value are left out of comparisons.

    Returns
    -------
    list of (GroupStatus, note)
        One entry per group; the note is ``None`` for OK groups.
    """
    counts = grouping.counts()
    total = int(counts.sum())
    statuses: list[tuple[GroupStatus, str | None]] = []
    for count, unknown in zip(counts.tolist(), grouping.unknown.tolist(), strict=True):
        share = count / total if total else 0.0
        if unknown and exclude_unknown:
            statuses.append((GroupStatus.EXCLUDED, "unknown category: reported, not compared"))
        elif share < exclude_below_share:
            share_text = _share_below(share, exclude_below_share)
            note = f"under {_percent(exclude_below_share)} of rows ({share_text})"
            statuses.append((GroupStatus.EXCLUDED, note))
        elif count < min_group_size:
            note = f"{count} rows, under the minimum group size of {min_group_size}"
            statuses.append((GroupStatus.SMALL, note))
        else:
            statuses.append((GroupStatus.OK, None))
    return statuses

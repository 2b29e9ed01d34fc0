"""Per-group confusion counts that add up across chunks of data.

The fairness auditor's binary metrics need only, per group, the four confusion
counts.  A :class:`FairnessTally` holds them keyed by the groups' *raw* sensitive
values, so tallies of separate chunks (a Parquet file read piece by piece, or
Dask partitions scored on other machines) merge by adding counts; the merged tally
gives the same groups, in the same order and with the same labels, as the whole
table read at once.  The in-memory audit is the one-chunk case of the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.fairness.counts import (
    JOINT_LIMIT,
    confusion_counts,
    joint_confusion_counts,
)
from audit.core.groups import (
    compact_codes,
    display_value,
    plan_groupings,
    raw_value_codes,
    row_pieces,
    sort_order,
    unknown_name,
)

__all__ = ["FairnessTally", "GroupedCounts", "StrataCounts", "tally_outcomes"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Codes = npt.NDArray[np.integer[Any]]
"""Group codes of one column, of any integer type."""

Key = tuple[Any, ...]
"""The sensitive values of one group, one per column; ``None`` stands for missing."""


@dataclass(frozen=True, eq=False)
class GroupedCounts:
    """The confusion counts of the groups of one grouping, in report order.

    Attributes
    ----------
    columns:
        The sensitive columns whose value combinations form the groups.
    labels:
        Display label per group, e.g. ``"sex=Female, race=Black"``.
    unknown:
        Per group, whether any of its column values is missing.
    cells:
        Shape ``(groups, 4)``: each group's confusion counts (see
        :data:`audit.auditors.fairness.counts.CELLS`).
    """

    columns: tuple[str, ...]
    labels: tuple[str, ...]
    unknown: BoolArray
    cells: IntArray

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.labels)

    def counts(self) -> IntArray:
        """Rows per group, in group order."""
        return np.asarray(self.cells.sum(axis=1), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class StrataCounts:
    """The rows of one grouping's groups within each stratum, selected or not.

    Attributes
    ----------
    labels:
        Each group's label, in the order of the grouping's :class:`GroupedCounts`.
    strata:
        The strata's raw values in order (``None``: missing, last), as the in-memory
        encoding of the strata column sorts them.
    counts:
        Shape ``(groups, strata, 2)``: rows not selected, then selected.
    """

    labels: tuple[str, ...]
    strata: tuple[Any, ...]
    counts: IntArray


@dataclass
class _GroupingTally:
    columns: tuple[str, ...]
    cells: dict[Key, IntArray] = field(default_factory=dict)
    # (*group key, stratum value) -> rows (not selected, selected), when strata are counted
    strata: dict[Key, IntArray] = field(default_factory=dict)

    def add(self, key: Key, cells: IntArray) -> None:
        held = self.cells.get(key)
        self.cells[key] = cells.copy() if held is None else held + cells

    def add_stratum(self, key: Key, counts: IntArray) -> None:
        held = self.strata.get(key)
        self.strata[key] = counts.copy() if held is None else held + counts

    def merge(self, other: _GroupingTally) -> None:
        for key, cells in other.cells.items():
            self.add(key, cells)
        for key, counts in other.strata.items():
            self.add_stratum(key, counts)


@dataclass
class FairnessTally:
    """Confusion counts per group for every grouping, mergeable across chunks.

    Attributes
    ----------
    groupings:
        One entry per grouping (each sensitive column, then their intersection).
    categories:
        For categorical sensitive columns, their categories in order (which then
        orders the groups, as in the in-memory encoding).
    rows:
        Rows counted.
    problem:
        Why a chunk could not be counted (e.g. decisions that are not 0/1), or
        ``None``; a merged tally keeps the first problem, and nothing is measured.
    strata:
        The column whose values are strata, when each group's rows were also counted
        stratum by stratum (see :meth:`strata_counts`); ``None`` when they were not.
    """

    groupings: list[_GroupingTally]
    categories: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    rows: int = 0
    problem: str | None = None
    strata: str | None = None

    def merge(self, other: FairnessTally) -> FairnessTally:
        """Add ``other``'s counts to this tally (same groupings) and return it."""
        self.rows += other.rows
        if self.problem is not None or other.problem is not None:
            self.problem = self.problem or other.problem
            self.groupings = []
            return self
        if [g.columns for g in other.groupings] != [g.columns for g in self.groupings]:
            raise ValueError("cannot merge tallies of different groupings.")
        if other.strata != self.strata:
            raise ValueError("cannot merge tallies counted with different strata.")
        for mine, theirs in zip(self.groupings, other.groupings, strict=True):
            mine.merge(theirs)
        for column, categories in other.categories.items():
            known = self.categories.get(column, ())
            self.categories[column] = known + tuple(c for c in categories if c not in known)
        return self

    def column_values(self) -> dict[str, list[Any]]:
        """Each sensitive column's distinct raw values (``None``: missing).

        Taken from the groupings of one column.
        """
        single = [g for g in self.groupings if len(g.columns) == 1]
        return {g.columns[0]: [key[0] for key in g.cells] for g in single}

    def grouped_counts(self) -> list[GroupedCounts]:
        """The groups of every grouping with their counts, sorted as in-memory encoding sorts."""
        return [_ordered(tally, self.categories) for tally in self.groupings]

    def strata_counts(self) -> list[StrataCounts]:
        """Every grouping's rows per group and stratum, selected or not (see :attr:`strata`).

        Groups are in the order and under the labels of :meth:`grouped_counts`; strata
        in the order the in-memory encoding sorts the strata column's values.
        """
        if self.strata is None:
            raise ValueError("no strata were counted.")
        categories = self.categories.get(self.strata)
        observed = {key[-1]: None for g in self.groupings for key in g.strata}
        known = _column_order([v for v in observed if v is not None], categories)
        strata = (*known, None) if None in observed else tuple(known)
        position = {value: i for i, value in enumerate(strata)}
        found = []
        for tally, grouped in zip(self.groupings, self.grouped_counts(), strict=True):
            keys = sorted(tally.cells, key=_sort_key(tally, self.categories))
            index = {key: g for g, key in enumerate(keys)}
            counts = np.zeros((len(keys), len(strata), 2), dtype=np.int64)
            for key, rows in tally.strata.items():
                counts[index[key[:-1]], position[key[-1]]] += rows
            found.append(StrataCounts(grouped.labels, strata, counts))
        return found


def _column_order(values: Sequence[Any], categories: Sequence[Any] | None) -> list[Any]:
    """``values`` sorted like :func:`audit.core.groups.encode_values` sorts a column's values."""
    if categories is not None:
        position = {category: i for i, category in enumerate(categories)}
        return sorted(values, key=lambda v: position.get(v, len(position)))
    return [values[i] for i in sort_order(values)]


def _column_values(
    tally: _GroupingTally, categories: Mapping[str, tuple[Any, ...]]
) -> list[list[Any]]:
    """Each column's observed values (not missing) in the grouping, in encoding order."""
    ordered = []
    for i, column in enumerate(tally.columns):
        observed = list({key[i]: None for key in tally.cells if key[i] is not None})
        ordered.append(_column_order(observed, categories.get(column)))
    return ordered


def _sort_key(
    tally: _GroupingTally, categories: Mapping[str, tuple[Any, ...]]
) -> Callable[[Key], tuple[int, ...]]:
    """Sort key of the grouping's groups: by each column's value in order, missing last."""
    ranks = [
        {value: rank for rank, value in enumerate(values)}
        for values in _column_values(tally, categories)
    ]

    def sort_key(key: Key) -> tuple[int, ...]:
        return tuple(
            len(rank) if value is None else rank[value]
            for value, rank in zip(key, ranks, strict=True)
        )

    return sort_key


def _ordered(tally: _GroupingTally, categories: Mapping[str, tuple[Any, ...]]) -> GroupedCounts:
    names: list[dict[Any, str]] = []
    for ordered in _column_values(tally, categories):
        shown = {value: display_value(value) for value in ordered}
        names.append({**shown, None: unknown_name(shown.values())})
    keys = sorted(tally.cells, key=_sort_key(tally, categories))
    labels = tuple(
        ", ".join(
            f"{column}={shown[value]}"
            for column, value, shown in zip(tally.columns, key, names, strict=True)
        )
        for key in keys
    )
    cells = (
        np.stack([tally.cells[key] for key in keys]) if keys else np.zeros((0, 4), dtype=np.int64)
    )
    return GroupedCounts(
        columns=tally.columns,
        labels=labels,
        unknown=np.array([any(v is None for v in key) for key in keys], dtype=bool),
        cells=cells.astype(np.int64),
    )


def tally_outcomes(
    data: pd.DataFrame,
    sensitive: Sequence[str],
    y_true: npt.NDArray[np.integer],
    y_pred: npt.NDArray[np.integer],
    *,
    intersectional: bool,
    extra: Sequence[Sequence[str]] = (),
    strata: str | None = None,
) -> FairnessTally:
    """Count each group's confusion cells in one chunk of rows.

    When the combinations of the sensitive columns' values are few enough to tabulate,
    one pass over the rows counts them all and every grouping is a sum over that
    table; otherwise each grouping's combined codes are compacted and counted.

    Parameters
    ----------
    data:
        The rows (at least the ``sensitive`` columns).
    sensitive:
        Sensitive column names; each forms a grouping, and with ``intersectional``
        and two or more columns, so does their combination.
    y_true, y_pred:
        0/1 ground truth and decisions, one per row of ``data``.
    intersectional:
        Whether to add the combination of all columns.
    extra:
        More combinations of sensitive columns to count (each column order once).
    strata:
        A column of ``data`` whose values are strata: each group's rows are also
        counted per stratum, selected (``y_pred``) or not; ``None``: they are not.

    Returns
    -------
    FairnessTally
        Counts keyed by raw sensitive values; merge tallies of other chunks into it.
    """
    index = {column: i for i, column in enumerate(sensitive)}
    planned = plan_groupings(sensitive, intersectional=intersectional, extra=extra)
    # column indices in sensitive order: the joint table's axes keep that order
    plans = [tuple(sorted(index[c] for c in columns)) for columns in planned]
    columns = data[list(sensitive)]
    stratum = None if strata is None else data[strata]

    def count(rows: slice) -> list[_GroupingTally]:
        counted = _count_piece(columns.iloc[rows], sensitive, plans, y_true[rows], y_pred[rows])
        if stratum is not None:
            _count_strata(
                counted, columns.iloc[rows], sensitive, plans, stratum.iloc[rows], y_pred[rows]
            )
        return counted

    # Large chunks are counted in row pieces on threads (Arrow's hashing and NumPy's
    # arithmetic release the interpreter lock), merged by raw value like chunks.
    pieces = row_pieces(len(data))
    if len(pieces) == 1:
        counted = [count(pieces[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(pieces)) as pool:
            counted = list(pool.map(count, pieces))
    groupings = counted[0]
    for more in counted[1:]:
        for mine, theirs in zip(groupings, more, strict=True):
            mine.merge(theirs)
    read = [*sensitive, *([] if strata is None else [strata])]
    categories = {
        column: tuple(data[column].dtype.categories)
        for column in read
        if isinstance(data[column].dtype, pd.CategoricalDtype)
    }
    return FairnessTally(groupings=groupings, categories=categories, rows=len(data), strata=strata)


def _count_piece(
    data: pd.DataFrame,
    sensitive: Sequence[str],
    plans: Sequence[tuple[int, ...]],
    y_true: npt.NDArray[np.integer],
    y_pred: npt.NDArray[np.integer],
) -> list[_GroupingTally]:
    """Each planned grouping's counts over the rows of ``data``."""
    encoded = [raw_value_codes(data[column]) for column in sensitive]
    widths = [len(values) for _, values in encoded]
    if 4 * math.prod(widths) <= JOINT_LIMIT:
        counted = _from_joint_table(encoded, plans, y_true, y_pred)
    else:
        counted = [
            _from_combined_codes([encoded[i] for i in plan], y_true, y_pred) for plan in plans
        ]
    groupings = []
    for plan, (members, cells) in zip(plans, counted, strict=True):
        tally = _GroupingTally(columns=tuple(sensitive[i] for i in plan))
        for member, row in zip(members, cells, strict=True):
            if row.any():
                tally.add(member, row)
        groupings.append(tally)
    return groupings


def _count_strata(
    groupings: Sequence[_GroupingTally],
    data: pd.DataFrame,
    sensitive: Sequence[str],
    plans: Sequence[tuple[int, ...]],
    strata: pd.Series,
    y_pred: npt.NDArray[np.integer],
) -> None:
    """Add to each grouping its rows per (group, stratum), not selected and selected."""
    encoded = [raw_value_codes(data[column]) for column in sensitive]
    stratum = raw_value_codes(strata)
    selected = np.asarray(y_pred, dtype=np.int64)
    for tally, plan in zip(groupings, plans, strict=True):
        codes, members = _combine([*(encoded[i] for i in plan), stratum])
        counts = np.bincount(codes * 2 + selected, minlength=2 * len(members)).reshape(-1, 2)
        for member, row in zip(members, counts, strict=True):
            if row.any():
                tally.add_stratum(member, row)


Counted = tuple[list[Key], IntArray]
"""The groups of one grouping (raw-value keys) and their confusion counts, row by row."""


def _from_joint_table(
    encoded: Sequence[tuple[Codes, list[Any]]],
    plans: Sequence[tuple[int, ...]],
    y_true: npt.NDArray[np.integer],
    y_pred: npt.NDArray[np.integer],
) -> list[Counted]:
    """Every grouping's counts as sums of one table over all columns' value combinations."""
    joint = joint_confusion_counts(
        [codes for codes, _ in encoded], [len(v) for _, v in encoded], y_true, y_pred
    )
    counted = []
    for plan in plans:
        others = tuple(axis for axis in range(len(encoded)) if axis not in plan)
        table = joint.sum(axis=others) if others else joint
        flat = table.reshape(-1, 4)
        present = np.flatnonzero(flat.any(axis=1))
        positions = np.unravel_index(present, table.shape[:-1])
        members = [
            tuple(encoded[column][1][code] for column, code in zip(plan, combination, strict=True))
            for combination in zip(*(p.tolist() for p in positions), strict=True)
        ]
        counted.append((members, flat[present]))
    return counted


def _from_combined_codes(
    encoded: Sequence[tuple[Codes, list[Any]]],
    y_true: npt.NDArray[np.integer],
    y_pred: npt.NDArray[np.integer],
) -> Counted:
    """One grouping's counts over its compacted combined codes (any number of combinations)."""
    codes, members = _combine(encoded)
    return members, confusion_counts(codes, len(members), y_true, y_pred)


def _combine(encoded: Sequence[tuple[Codes, list[Any]]]) -> tuple[IntArray, list[Key]]:
    """Combined codes of several encoded columns, and the raw-value key of each code."""
    first, values = encoded[0]
    codes = first.astype(np.int64)  # products of widths may pass the codes' own type
    members: list[Key] = [(value,) for value in values]
    for more_codes, more_values in encoded[1:]:
        width = len(more_values)
        present, codes = compact_codes(codes * width + more_codes, len(members) * width)
        outer, inner = np.divmod(present, width)
        pairs = zip(outer.tolist(), inner.tolist(), strict=True)
        members = [(*members[o], more_values[i]) for o, i in pairs]
    return codes, members

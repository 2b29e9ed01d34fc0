"""Records that merge across chunks of a table: first rows, and a hashed column's values.

:class:`Firsts` keeps the first few row positions of some cells, each with a text (a
masked example, or a found value): the merge of two keeps the first of both, so any
chunking gives the whole table's.  :class:`ValueTable` keeps every distinct value of a
column governed by an 'hmac' or 'tokenize' rule, with its number of cells: whether a
value repeats (it links records) or is a plain hash of a value found in another chunk is
known only once every chunk is counted.

Memory: a :class:`ValueTable` holds each distinct value once, with three integers (about
the value's length plus 80 bytes in pandas); the masking auditor caps it
(``max_hash_values``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["KEPT", "Firsts", "ValueTable"]

KEPT = 20
"""Rows kept per record: the most masked examples a policy may ask for (``samples``)."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Firsts:
    """The first :data:`KEPT` rows (positions in the table) of some cells, with a text each."""

    rows: tuple[int, ...] = ()
    texts: tuple[str, ...] = ()

    @staticmethod
    def of(pairs: Iterable[tuple[int, str]]) -> Firsts:
        """The first rows of ``pairs`` (row, text); a row given twice keeps its first text."""
        chosen: dict[int, str] = {}
        for row, text in sorted(pairs, key=lambda pair: pair[0]):
            if row not in chosen:
                chosen[row] = text
                if len(chosen) == KEPT:
                    break
        return Firsts(tuple(chosen), tuple(chosen.values()))

    def pairs(self) -> list[tuple[int, str]]:
        """(row, text) in row order."""
        return list(zip(self.rows, self.texts, strict=True))

    def merge(self, other: Firsts) -> Firsts:
        """The first rows of both."""
        return Firsts.of(self.pairs() + other.pairs())


@dataclass
class ValueTable:
    """The distinct values of a hashed column's cells, mergeable across chunks.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by value (text); ``count``: its cells; ``failing``: those failing the
        rule for another reason (not a digest, a raw value); ``first``: its first row.
    repeats : list of (int, str)
        The first :data:`KEPT` rows that are not their value's first, with the value.
    """

    table: pd.DataFrame
    repeats: list[tuple[int, str]] = field(default_factory=list)

    @staticmethod
    def of(values: npt.NDArray[np.object_], failing: BoolArray, rows: IntArray) -> ValueTable:
        """The table of cells ``values`` (text), failing or not, at row positions ``rows``."""
        frame = pd.DataFrame({"value": values, "failing": failing.astype(np.int64), "row": rows})
        grouped = frame.groupby("value", sort=False)
        table = pd.DataFrame(
            {
                "count": grouped.size(),
                "failing": grouped["failing"].sum(),
                "first": grouped["row"].min(),
            }
        ).astype(np.int64)
        later = frame[frame.duplicated("value", keep="first")].nsmallest(KEPT, "row")
        return ValueTable(table, list(zip(later["row"].tolist(), later["value"], strict=True)))

    def __len__(self) -> int:
        return len(self.table)

    def merge(self, other: ValueTable) -> ValueTable:
        """The table of both tables' cells (of other rows of the same column)."""
        mine, theirs = self.table, other.table
        shared = mine.index.intersection(theirs.index)
        # a value first seen in both: its later first row is a repeat in the union
        later = np.maximum(mine.loc[shared, "first"], theirs.loc[shared, "first"])
        repeats = self.repeats + other.repeats + list(zip(later.tolist(), shared, strict=True))
        repeats = sorted(repeats, key=lambda pair: pair[0])[:KEPT]
        table = (
            pd.concat([mine, theirs])
            .groupby(level=0, sort=False)
            .agg({"count": "sum", "failing": "sum", "first": "min"})
        )
        return ValueTable(table, repeats)

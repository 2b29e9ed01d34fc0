"""Re-identification risk: k-anonymity and l-diversity over the quasi-identifiers.

Rows sharing every quasi-identifier value form an *equivalence class*; k is the size of
the smallest class.  A missing quasi-identifier is a value of its own; a blank string is
a value too (the text ``""``), apart from missing.  Values are compared as text, so the
number ``1`` and the string ``"1"`` are one value.

l is the smallest number of distinct *known* sensitive values in a class (distinct
l-diversity, Machanavajjhala et al. 2007): a missing or blank sensitive value tells an
attacker nothing and is not counted, so a class holding {flu, missing} has l = 1, and a
class whose sensitive values are all missing has l = 0.

Each column is encoded once (``pandas.factorize``), the codes are combined into one
class code per row, and class sizes come from one ``bincount``.  What a table's rows
give, :class:`ClassTally`, merges with the tallies of other rows of the same table, so
chunks of a table larger than memory give the same k and l as the whole.

>>> import pandas as pd
>>> frame = pd.DataFrame({"zip": ["941", "941", "100"], "sex": ["F", "F", "M"],
...                       "diagnosis": ["flu", "cold", "flu"]})
>>> risk = measure_risk(frame, ("zip", "sex"), "diagnosis", k_target=2, l_target=2)
>>> risk.k, risk.l, risk.rows_at_risk
(1, 1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["ClassTally", "Risk", "measure_risk", "risk_of", "tally_classes"]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

SIZE_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 99), (100, None))
DENSE_LIMIT = 1 << 24
"""Largest product of the columns' numbers of values counted with one dense ``bincount``;
above it, the combined codes are factorized first."""


@dataclass(frozen=True)
class Risk:
    """k, l, and the rows in classes below the targets.

    Attributes
    ----------
    k : int
        Size of the smallest equivalence class.
    l : int or None
        Smallest number of distinct known sensitive values in a class; ``None`` without
        a sensitive attribute.
    classes : int
        Number of equivalence classes.
    classes_below_k : int
        Classes smaller than the k target.
    rows_at_risk : int
        Rows in classes smaller than the k target or less diverse than the l target.
    rows : int
        Rows measured.
    histogram : tuple of (str, int, int)
        Class-size bucket, classes in it, rows in them.
    """

    k: int
    l: int | None  # noqa: E741 - the measure's name
    classes: int
    classes_below_k: int
    rows_at_risk: int
    rows: int
    histogram: tuple[tuple[str, int, int], ...]


def _encode(
    values: pd.Series | ObjectArray, *, missing_last: bool = False
) -> tuple[IntArray, ObjectArray]:
    """Codes of ``values`` as text and the text of each code.

    A missing value's code is -1, or with ``missing_last`` one past the last text's.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype("string")
    merged, names = pd.factorize(text, use_na_sentinel=True)
    missing = len(names) if missing_last else -1
    lookup = np.append(merged.astype(np.int64), missing)  # code -1 reads the last entry
    return lookup[codes], np.asarray(names, dtype=object)


def _decode(codes: IntArray, base: IntArray, sizes: Sequence[int]) -> IntArray:
    """Each combined code's code in every column: ``base`` rows, then one digit per size."""
    digits = []
    for size in reversed(sizes):
        codes, digit = np.divmod(codes, size)
        digits.append(digit)
    return np.column_stack([base[codes], *reversed(digits)]).astype(np.int64)


def _combine(columns: Sequence[tuple[IntArray, int]], rows: int) -> tuple[IntArray, IntArray]:
    """One class code per row (0, 1, ...) and each class's code in every column.

    ``columns`` holds each column's codes (0 to ``size - 1``) and its ``size``.  The codes
    are combined in mixed radix; only when their span would pass :data:`DENSE_LIMIT` are
    the combined codes factorized (to the classes seen so far) before the next column.
    """
    running = np.zeros(rows, dtype=np.int64)
    base = np.zeros((1, 0), dtype=np.int64)  # per code before ``sizes``: its column codes
    sizes: list[int] = []
    span = 1
    for codes, size in columns:
        if span * size > DENSE_LIMIT:
            running, uniques = pd.factorize(running)
            base, sizes = _decode(uniques.astype(np.int64), base, sizes), []
            span = len(base)
        running = running * size + codes
        sizes.append(size)
        span *= size
    if span > max(DENSE_LIMIT, 4 * rows):
        classes, uniques = pd.factorize(running)
        return classes.astype(np.int64, copy=False), _decode(uniques.astype(np.int64), base, sizes)
    used = np.flatnonzero(np.bincount(running, minlength=span))
    remap = np.full(span, -1, dtype=np.int64)
    remap[used] = np.arange(len(used), dtype=np.int64)
    return remap[running], _decode(used, base, sizes)


def _class_codes(columns: Sequence[pd.Series | ObjectArray]) -> tuple[IntArray, list[ObjectArray]]:
    """One class code per row, and each class's value (text, ``None`` if missing) per column."""
    encoded = []
    names = []
    for values in columns:
        codes, text = _encode(values, missing_last=True)  # missing: a value of its own
        encoded.append((codes, len(text) + 1))
        names.append(np.append(text, np.array([None], dtype=object)))
    rows = len(columns[0]) if columns else 0
    classes, table = _combine(encoded, rows)
    return classes, [names[i][table[:, i]] for i in range(len(columns))]


@dataclass(frozen=True)
class ClassTally:
    """Equivalence classes of some rows of a table: mergeable with other rows' tallies.

    Attributes
    ----------
    values : list of numpy.ndarray
        Per quasi-identifier, each class's value as text (``None``: missing).
    sizes : numpy.ndarray
        Rows in each class.
    pair_class, pair_value : numpy.ndarray
        Without a sensitive attribute, ``None``; else the distinct (class, known sensitive
        value) pairs: the class's position in ``values`` and the value as text.

    Memory: one entry per class and per distinct (class, sensitive value) pair, about
    the text of the quasi-identifiers plus 16 bytes each; nothing per row.
    """

    values: list[ObjectArray]
    sizes: IntArray
    pair_class: IntArray | None
    pair_value: ObjectArray | None

    def merge(self, other: ClassTally) -> ClassTally:
        """The tally of both tallies' rows (of the same quasi-identifiers)."""
        columns = [
            np.concatenate([mine, theirs])
            for mine, theirs in zip(self.values, other.values, strict=True)
        ]
        classes, values = _class_codes(columns)
        sizes = np.bincount(
            classes, weights=np.concatenate([self.sizes, other.sizes]), minlength=len(values[0])
        ).astype(np.int64)
        if self.pair_class is None or other.pair_class is None or other.pair_value is None:
            return ClassTally(values, sizes, None, None)
        assert self.pair_value is not None
        offset = len(self.sizes)
        pair_class = classes[np.concatenate([self.pair_class, other.pair_class + offset])]
        pair_value = np.concatenate([self.pair_value, other.pair_value])
        return ClassTally(values, sizes, *_distinct_pairs(pair_class, pair_value))


def _distinct_pairs(
    classes: IntArray, values: pd.Series | ObjectArray
) -> tuple[IntArray, ObjectArray]:
    """The distinct (class, value) pairs, for known values only (not missing, not blank)."""
    codes, names = _encode(values)
    size = max(len(names), 1)
    known = np.array([bool(str(n).strip()) for n in names] + [False], dtype=np.bool_)
    keep = known[codes]  # code -1 (missing) reads the last entry
    pairs = classes[keep] * size + codes[keep]
    span = (int(classes.max()) + 1) * size if len(classes) else 0
    if span <= max(DENSE_LIMIT, 4 * len(pairs)):
        unique = np.flatnonzero(np.bincount(pairs, minlength=span))
    else:
        unique = pd.unique(pairs)
    return (unique // size).astype(np.int64), names[unique % size]


def tally_classes(
    frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str | None
) -> ClassTally:
    """The equivalence classes of ``frame``'s rows (columns present)."""
    classes, values = _class_codes([frame[c] for c in quasi_identifiers])
    sizes = np.bincount(classes, minlength=len(values[0]) if values else 0).astype(np.int64)
    if sensitive is None:
        return ClassTally(values, sizes, None, None)
    return ClassTally(values, sizes, *_distinct_pairs(classes, frame[sensitive]))


def risk_of(tally: ClassTally, *, k_target: int, l_target: int) -> Risk:
    """k, l and the rows at risk of a (merged) tally of a non-empty table."""
    counts = tally.sizes
    at_risk = counts < k_target
    l_value: int | None = None
    if tally.pair_class is not None:
        distinct = np.bincount(tally.pair_class, minlength=len(counts))
        l_value = int(distinct.min())
        at_risk |= distinct < l_target
    histogram = []
    for low, high in SIZE_BUCKETS:
        inside = counts[(counts >= low) & (counts <= (high if high is not None else counts.max()))]
        label = str(low) if low == high else f"{low}-{high}" if high else f"{low}+"
        histogram.append((label, len(inside), int(inside.sum())))
    return Risk(
        k=int(counts.min()),
        l=l_value,
        classes=len(counts),
        classes_below_k=int((counts < k_target).sum()),
        rows_at_risk=int(counts[at_risk].sum()),
        rows=int(counts.sum()),
        histogram=tuple(histogram),
    )


def measure_risk(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str | None,
    *,
    k_target: int,
    l_target: int,
) -> Risk:
    """Measure k-anonymity and l-diversity of ``frame`` (non-empty, columns present)."""
    tally = tally_classes(frame, quasi_identifiers, sensitive)
    return risk_of(tally, k_target=k_target, l_target=l_target)

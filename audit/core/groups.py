"""Turn sensitive columns into integer group codes with display labels (shared by auditors).

A *grouping* is one sensitive column, or several combined (intersectional groups).
Each row gets a code in ``range(n_groups)``; codes follow a stable sorted order of
the values (of the first column, then the second, ...), with the missing-value group
``unknown`` last within each column.  Missing means NaN, None, ``pd.NA`` or a blank
string.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.core.measurements import GroupStatus

__all__ = [
    "UNKNOWN_LABEL",
    "UNKNOWN_NOTE",
    "compact_codes",
    "display_value",
    "encode_column",
    "encode_values",
    "group_statuses",
    "Grouping",
    "groupings_for",
    "make_grouping",
    "plan_groupings",
    "raw_value_codes",
    "row_pieces",
    "SizedGroups",
    "sort_order",
    "unknown_name",
]

UNKNOWN_LABEL = "unknown"
"""Display value of the group formed by rows whose sensitive value is missing."""

UNKNOWN_NOTE = "unknown category"
"""How the note on a group of missing sensitive values, left out of comparisons, begins."""

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


def sort_order(values: Sequence[Any]) -> list[int]:
    """Return the indices sorting ``values`` naturally (by type and text if mixed)."""
    indices = range(len(values))
    try:
        return sorted(indices, key=lambda i: values[i])
    except TypeError:
        return sorted(indices, key=lambda i: (type(values[i]).__name__, str(values[i])))


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def display_value(value: Any) -> str:
    """Text of a category value; whole floats (codes read with NaN) lose their ``.0``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


_PIECE_ROWS = 1 << 20
"""Fewest rows per thread when Arrow strings are encoded in pieces in parallel."""

_SAMPLE_ROWS = 1 << 16
"""Rows whose distinct values :func:`raw_value_codes` looks up before encoding them all."""

_ARROW_STRINGS = (pa.string(), pa.large_string(), pa.string_view())

_COMPARE_CATEGORIES = 32
"""Most categories whose use is checked with one comparison per category."""


def _threads(rows: int) -> int:
    """Threads worth starting for ``rows`` rows: one per CPU, each with enough rows."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, rows // _PIECE_ROWS))


def row_pieces(rows: int) -> list[slice]:
    """Contiguous slices of ``rows`` rows, one per thread worth starting (see :func:`_threads`)."""
    size = max(1, -(-rows // _threads(rows)))
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)] or [
        slice(0, 0)
    ]


def _arrow_strings(values: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The Arrow string array behind ``values``, or ``None`` when it is not one."""
    if not isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype):
        return None
    if getattr(values.dtype, "storage", "pyarrow") != "pyarrow":
        return None  # StringDtype("python") holds Python objects
    arrow = pa.array(values.array)  # zero-copy: the array's own buffers
    kind = arrow.type.value_type if pa.types.is_dictionary(arrow.type) else arrow.type
    return arrow if kind in _ARROW_STRINGS else None


def _encode_arrow_strings(
    arrow: pa.Array | pa.ChunkedArray,
) -> tuple[IntArray, tuple[Any, ...], bool]:
    """Encode Arrow strings with Arrow's hash kernel, in pieces on several threads.

    Each piece is dictionary-encoded on its own (Arrow releases the GIL), unless it is
    dictionary-encoded already; the small dictionaries are merged and sorted, then each
    piece's indices are mapped to the sorted codes, again in parallel.
    """
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    threads = _threads(len(arrow))
    size = max(1, -(-len(arrow) // threads))
    pieces: list[tuple[int, pa.Array]] = []
    offset = 0
    for chunk in chunks:
        for start in range(0, len(chunk), size):
            pieces.append((offset + start, chunk.slice(start, size)))
        offset += len(chunk)

    def encode(piece: pa.Array) -> tuple[npt.NDArray[np.integer[Any]], list[Any], list[Any]]:
        """Indices, dictionary, and the dictionary's values that some row holds."""
        if not pa.types.is_dictionary(piece.type):
            encoded = pc.dictionary_encode(piece, null_encoding="encode")
            dictionary = encoded.dictionary.to_pylist()
            return encoded.indices.to_numpy(), dictionary, dictionary
        dictionary = [*piece.dictionary.to_pylist(), None]  # nulls index the last entry
        indices = piece.indices.fill_null(len(dictionary) - 1).to_numpy()
        used = np.zeros(len(dictionary), dtype=bool)
        used[indices] = True  # a dictionary may hold values no row uses
        return indices, dictionary, [v for v, u in zip(dictionary, used, strict=True) if u]

    with ThreadPoolExecutor(max_workers=threads) if threads > 1 else nullcontext() as pool:
        run = pool.map if pool is not None else map
        encoded = list(run(encode, [piece for _, piece in pieces]))
        seen = {value: None for *_, present in encoded for value in present}
        has_missing = any(value is None or _is_blank(value) for value in seen)
        observed = [value for value in seen if value is not None and not _is_blank(value)]
        known = tuple(observed[i] for i in sort_order(observed))
        code = {value: c for c, value in enumerate(known)}
        codes = np.empty(len(arrow), dtype=np.int64)

        def remap(start: int, indices: npt.NDArray[np.integer[Any]], dictionary: list[Any]) -> None:
            lookup = np.array([code.get(v, len(known)) for v in dictionary], dtype=np.int64)
            np.take(lookup, indices, out=codes[start : start + len(indices)])

        starts = [start for start, _ in pieces]
        indices, dictionaries, _ = zip(*encoded, strict=True) if encoded else ((), (), ())
        list(run(remap, starts, indices, dictionaries))
    return codes, known, has_missing


def _encode_categorical(values: pd.Series) -> tuple[IntArray, tuple[Any, ...], bool]:
    """Encode a categorical from its codes: the used categories, in category order."""
    categorical = values.array
    assert isinstance(categorical, pd.Categorical)
    raw = categorical.codes
    categories = categorical.categories.tolist()
    if len(categories) <= _COMPARE_CATEGORIES:
        # A vectorised comparison per category beats a scatter over every row.
        used = np.array([bool((raw == i).any()) for i in range(len(categories))] + [False])
        used[-1] = len(raw) > 0 and raw.min() < 0
    else:
        used = np.zeros(len(categories) + 1, dtype=bool)
        used[raw] = True  # code -1 (missing) marks the last slot
    blank = [_is_blank(c) for c in categories]
    kept = [i for i in range(len(categories)) if used[i] and not blank[i]]
    has_missing = bool(used[-1]) or any(used[i] and blank[i] for i in range(len(categories)))
    missing_code = len(kept)
    if missing_code == len(categories) and not has_missing:
        return raw.astype(np.int64), tuple(categories), False
    lookup = np.full(len(categories) + 1, missing_code, dtype=np.int64)
    lookup[kept] = np.arange(len(kept), dtype=np.int64)
    return np.take(lookup, raw), tuple(categories[i] for i in kept), has_missing


def _encode_factorized(values: pd.Series) -> tuple[IntArray, tuple[Any, ...], bool]:
    """Encode any other column with :func:`pandas.factorize`, then sort its values."""
    raw, uniques = pd.factorize(values, use_na_sentinel=True)
    unique_list = uniques.tolist()
    blank = [_is_blank(v) for v in unique_list]
    kept = np.flatnonzero(~np.array(blank, dtype=bool))
    order = sort_order([unique_list[i] for i in kept])
    lookup = np.full(len(unique_list) + 1, len(order), dtype=np.int64)  # last slot: code -1
    lookup[kept[order]] = np.arange(len(order), dtype=np.int64)
    has_missing = any(blank) or bool((raw < 0).any())
    return np.take(lookup, raw), tuple(unique_list[i] for i in kept[order]), has_missing


def raw_value_codes(values: pd.Series) -> tuple[npt.NDArray[np.integer[Any]], list[Any]]:
    """Codes of one column in no particular order, and the raw value each code stands for.

    For counting by raw value, where the groups are ordered later: unlike
    :func:`encode_values` the codes of plain Arrow strings are their indices among
    the distinct values in the order Arrow finds them, with no sort and no pass over
    the rows to renumber them.
    Missing values (NaN, None, ``pd.NA``, blank strings) stand as ``None``; several
    codes may stand for ``None``.

    Examples
    --------
    >>> codes, values = raw_value_codes(pd.Series(["b", None, "a", " ", "b"], dtype="str"))
    >>> [values[c] for c in codes]
    ['b', None, 'a', None, 'b']
    """
    arrow = _arrow_strings(values)
    if arrow is None or pa.types.is_dictionary(arrow.type):
        codes, known, _ = encode_values(values)
        return codes, [*known, None]
    indices, dictionary = _lookup_codes(arrow)
    raw = [None if value is None or _is_blank(value) else value for value in dictionary]
    return indices, raw


def _lookup_codes(
    arrow: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.integer[Any]], list[Any]]:
    """Each string's index among the column's distinct values, and those values.

    The distinct values of the first rows are looked up for every row (a lookup costs
    less than Arrow's dictionary encoder, which inserts as it finds); only when some
    later row holds another value is the whole column dictionary-encoded.
    """
    values = pc.unique(arrow.slice(0, _SAMPLE_ROWS))
    found = pc.index_in(arrow, value_set=values)  # a null row finds a null value
    if found.null_count == 0:
        return found.to_numpy(), values.to_pylist()
    # A chunked column gets one dictionary for all its chunks (Arrow unifies them).
    encoded = pc.dictionary_encode(arrow, null_encoding="encode")
    pieces = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    if not pieces:
        return np.zeros(0, dtype=np.int32), []
    indices = [piece.indices.to_numpy() for piece in pieces]
    codes = indices[0] if len(indices) == 1 else np.concatenate(indices)
    return codes, pieces[-1].dictionary.to_pylist()


def encode_values(values: pd.Series) -> tuple[IntArray, tuple[Any, ...], bool]:
    """Encode one sensitive column as integer codes of its sorted raw values.

    Categoricals are encoded from their codes and Arrow-backed strings with Arrow's
    hash kernel (on several threads for large columns); other columns with
    :func:`pandas.factorize`.  Every path gives the same codes for the same values.

    Parameters
    ----------
    values:
        The column.  Missing values (NaN, None, ``pd.NA``, blank strings) are
        coded after every observed value.

    Returns
    -------
    codes, known, has_missing:
        A code per row; the observed non-missing values (raw Python objects) in code
        order: sorted, or in category order for a categorical, only values that some
        row holds; and whether any row is missing, in which case those rows have code
        ``len(known)``.

    Examples
    --------
    >>> codes, known, has_missing = encode_values(pd.Series(["b", None, "a", "b"]))
    >>> codes.tolist(), known, has_missing
    ([1, 2, 0, 1], ('a', 'b'), True)
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _encode_categorical(values)
    arrow = _arrow_strings(values)
    if arrow is not None:
        return _encode_arrow_strings(arrow)
    return _encode_factorized(values)


def unknown_name(names: Collection[str]) -> str:
    """Display name of the missing-value group beside ``names``, the observed values' names.

    >>> unknown_name(["a", "b"]), unknown_name(["a", "unknown"])
    ('unknown', 'unknown (missing)')
    """
    return UNKNOWN_LABEL if UNKNOWN_LABEL not in names else f"{UNKNOWN_LABEL} (missing)"


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
    codes, known, has_missing = encode_values(values)
    names = [display_value(value) for value in known]
    unknown = np.zeros(len(names) + has_missing, dtype=bool)
    if has_missing:
        names.append(unknown_name(names))
        unknown[-1] = True
    return codes, tuple(names), unknown


_DENSE_LIMIT = 1 << 24
"""Largest combined-code range compacted with a bincount table rather than a sort."""


def compact_codes(wide: IntArray, span: int) -> tuple[IntArray, IntArray]:
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
        present, combined = compact_codes(combined * len(names) + codes, len(labels) * len(names))
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


def plan_groupings(
    sensitive: Sequence[str],
    *,
    intersectional: bool = True,
    extra: Sequence[Sequence[str]] = (),
) -> list[tuple[str, ...]]:
    """Column tuples of the groupings measured: each column, all of them, then ``extra``.

    An ``extra`` combination is added once (in any column order), and left out when it
    names a column that is not in ``sensitive``.

    >>> plan_groupings(["sex", "race", "age"], extra=[["race", "sex"], ["age", "x"]])
    [('sex',), ('race',), ('age',), ('sex', 'race', 'age'), ('race', 'sex')]
    """
    planned: list[tuple[str, ...]] = [(column,) for column in sensitive]
    if intersectional and len(sensitive) >= 2:
        planned.append(tuple(sensitive))
    seen = {frozenset(p) for p in planned}
    for columns in extra:
        key = frozenset(columns)
        if columns and key not in seen and key <= set(sensitive) and len(key) == len(columns):
            planned.append(tuple(columns))
            seen.add(key)
    return planned


def groupings_for(
    data: pd.DataFrame,
    sensitive: Sequence[str],
    *,
    intersectional: bool,
    extra: Sequence[Sequence[str]] = (),
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
    extra:
        More combinations of sensitive columns (see :func:`plan_groupings`).

    Returns
    -------
    list of Grouping
        Each column alone, then (optionally) their intersection, then ``extra``.
    """
    encoded = [(column, *encode_column(data[column])) for column in sensitive]
    groupings = [_combine([one]) for one in encoded]
    if intersectional and len(encoded) >= 2:
        groupings.append(_combine(encoded))
    by_name = {column: one for one, column in zip(encoded, sensitive, strict=True)}
    planned = plan_groupings(sensitive, intersectional=intersectional, extra=extra)
    for columns in planned[len(groupings) :]:
        groupings.append(_combine([by_name[c] for c in columns]))
    return groupings


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}%"


def _share_below(share: float, threshold: float) -> str:
    """``share`` as a percentage with enough decimals to read as below ``threshold``."""
    for digits in range(1, 5):
        if round(100 * share, digits) < 100 * threshold:
            break
    return f"{share:.{digits}%}"


class SizedGroups(Protocol):
    """Groups whose sizes and unknown flags are known (a :class:`Grouping`, or counts)."""

    @property
    def unknown(self) -> BoolArray:
        """Per group, whether any of its column values is missing."""
        ...

    def counts(self) -> IntArray:
        """Rows per group, in group order."""
        ...


def group_statuses(
    grouping: SizedGroups,
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
            statuses.append((GroupStatus.EXCLUDED, f"{UNKNOWN_NOTE}: reported, not compared"))
        elif share < exclude_below_share:
            share_text = _share_below(share, exclude_below_share)
            note = f"under {_percent(exclude_below_share)} of rows ({share_text})"
            statuses.append((GroupStatus.EXCLUDED, note))
        elif count < min_group_size:
            # the count is the group's own column beside the note
            note = f"under the minimum group size of {min_group_size}"
            statuses.append((GroupStatus.SMALL, note))
        else:
            statuses.append((GroupStatus.OK, None))
    return statuses

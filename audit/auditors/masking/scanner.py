"""The vectorised column scanner: every recognizer over whole Arrow columns at once.

For each column and recognizer, one RE2 pass over the column (Arrow's
``match_substring_regex``) finds the candidate cells.  The first match of each is the
trimmed cell when an anchored pass shows the cell is one match as a whole (the usual
case in a structured column), else it is extracted (slower: RE2 must track a capture
group).  The recognizer's validator (Luhn, mod-97, SSN ranges, ...) runs on those
matches only, vectorised over Arrow arrays.  Only cells whose first match fails
validation (decoys, mostly) are searched again, match by match, for a later valid one.
Cells without ``@`` skip the e-mail pattern, and recognizers that find nothing in a
sample of the column are searched for together, in one pass of their alternation.

Bad input never raises: values that are not text (bytes, mixed types) are decoded with
replacement characters, cells longer than the limit are scanned up to it, and both are
noted.  Columns are scanned in parallel threads; Arrow's kernels release the GIL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.auditors.masking.entities import Entity
from audit.auditors.masking.patterns import Recognizer
from audit.auditors.masking.regex import finditer
from audit.auditors.masking.validators import VALIDATORS

__all__ = ["ColumnScan", "Hits", "column_text", "scan_column", "scan_table"]

IntArray = npt.NDArray[np.int64]

PRIORITY = (
    Entity.IBAN_CODE,
    Entity.CREDIT_CARD,
    Entity.EMAIL_ADDRESS,
    Entity.US_SSN,
    Entity.IP_ADDRESS,
    Entity.DATE_OF_BIRTH,
    Entity.PHONE_NUMBER,
    Entity.POSTAL_CODE,
    Entity.PERSON,
)
"""When two entities' matches overlap in a cell, the earlier one wins (an IBAN's digits
are not also a phone number)."""

NOTE_DECODED = "{n} cell(s) held bytes or non-text values; scanned as text with replacements"
NOTE_TRUNCATED = "{n} cell(s) longer than {limit} characters were scanned up to that length"


@dataclass
class Hits:
    """Cells of one column holding one entity.

    Attributes
    ----------
    column, entity : str
        Where and what.
    rows : numpy.ndarray
        Row positions of the cells, ascending.
    texts : list of str
        The first valid match in each cell, aligned with ``rows`` (never reported raw).
    recognizers : set of str
        Recognizers that found them; ``score`` is the highest confidence among them.
    """

    column: str
    entity: str
    rows: IntArray
    texts: list[str]
    recognizers: set[str] = field(default_factory=set)
    score: float = 0.0


@dataclass
class ColumnScan:
    """What scanning one column found."""

    column: str
    cells: int
    """Non-empty cells scanned."""
    free_text: bool
    """Most cells hold several words: a free-text column."""
    hits: dict[str, Hits] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def holds(self, entity: str, share: float) -> bool:
        """Whether at least ``share`` of the non-empty cells hold ``entity``."""
        found = self.hits.get(entity)
        return found is not None and self.cells > 0 and len(found.rows) >= share * self.cells


def _decode(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", errors="replace").decode("utf-8")


def column_text(series: pd.Series, max_chars: int) -> tuple[pa.Array | None, list[str]]:
    """The column as an Arrow string array, or ``None`` when it cannot hold text-like PII.

    Integers (and floats that are all whole numbers) are scanned as their digits,
    datetimes as ``YYYY-MM-DD``, booleans and other floats not at all.
    """
    notes: list[str] = []
    if pd.api.types.is_bool_dtype(series):
        return None, notes
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        if values.empty or not np.all(np.mod(values.to_numpy(), 1) == 0):
            return None, notes
        series = series.astype("Int64")
    if pd.api.types.is_integer_dtype(series):
        array = pa.array(series, from_pandas=True).cast(pa.string())
    elif pd.api.types.is_datetime64_any_dtype(series):
        array = pa.array(series.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)
    else:
        try:
            array = pa.array(series, type=pa.string(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, UnicodeError):
            decoded = [_decode(v) for v in series.tolist()]
            odd = sum(1 for v in series.tolist() if v is not None and not isinstance(v, str))
            array = pa.array(decoded, type=pa.string())
            notes.append(NOTE_DECODED.format(n=odd or len(decoded)))
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    lengths = pc.utf8_length(array)
    too_long = pc.sum(pc.greater(lengths, max_chars)).as_py() or 0
    if too_long:
        array = pc.utf8_slice_codeunits(array, 0, max_chars)
        notes.append(NOTE_TRUNCATED.format(n=too_long, limit=max_chars))
    return array, notes


def _positions(mask: pa.Array) -> IntArray:
    values = mask.fill_null(False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(values).astype(np.int64)


def _validate(recognizer: Recognizer, texts: Sequence[str] | pa.Array) -> npt.NDArray[np.bool_]:
    if recognizer.validator is None:
        return np.ones(len(texts), dtype=np.bool_)
    return VALIDATORS[recognizer.validator](texts)


def _second_chance(recognizer: Recognizer, cells: Sequence[str]) -> list[str | None]:
    """For cells whose first match failed validation: the first later match that passes."""
    found: list[str | None] = []
    for cell in cells:
        spans = list(finditer(recognizer.pattern, cell))[1:]
        texts = [cell[a:b] for a, b in spans]
        good = _validate(recognizer, texts) if texts else np.zeros(0, dtype=np.bool_)
        found.append(next((t for t, ok in zip(texts, good, strict=True) if ok), None))
    return found


def _first_matches(pattern: str, cells: pa.Array) -> pa.Array:
    """The first match of ``pattern`` in each cell (every cell holds one), as Arrow strings.

    Extraction with a capture group is several times slower in RE2 than matching, so
    cells that are one match as a whole, apart from surrounding blanks (the usual case
    in a structured column), are found by an anchored match and trimmed instead; only
    the others are extracted.
    """
    whole = pc.match_substring_regex(cells, pattern=rf"^\s*(?:{pattern})\s*$")
    rest = np.flatnonzero(~whole.to_numpy(zero_copy_only=False))
    trimmed = pc.utf8_trim_whitespace(cells)
    if not len(rest):
        return trimmed
    extracted = pc.struct_field(
        pc.extract_regex(cells.take(pa.array(rest)), pattern=f"(?P<m>{pattern})"), [0]
    ).fill_null("")
    if len(rest) == len(cells):
        return extracted
    values = np.asarray(trimmed.to_pylist(), dtype=object)
    values[rest] = np.asarray(extracted.to_pylist(), dtype=object)
    return pa.array(values, type=pa.string())


def _run(recognizer: Recognizer, array: pa.Array, rows: IntArray) -> tuple[IntArray, list[str]]:
    """Rows (positions in the column) and first valid matches of ``recognizer``."""
    subset = array.take(pa.array(rows)) if len(rows) != len(array) else array
    if recognizer.requires:
        keep = _positions(pc.match_substring(subset, recognizer.requires))
        subset, rows = subset.take(pa.array(keep)), rows[keep]
    matched = _positions(pc.match_substring_regex(subset, pattern=recognizer.pattern))
    if not len(matched):
        return np.zeros(0, dtype=np.int64), []
    cells = subset.take(pa.array(matched))
    found = _first_matches(recognizer.pattern, cells)
    ok = _validate(recognizer, found)
    if ok.all():
        return rows[matched], found.to_pylist()
    failed = np.flatnonzero(~ok)
    several = pc.count_substring_regex(cells.take(pa.array(failed)), pattern=recognizer.pattern)
    failed = failed[several.to_numpy(zero_copy_only=False) > 1]
    retry = _second_chance(recognizer, cells.take(pa.array(failed)).to_pylist())
    rescued = {i: t for i, t in zip(failed.tolist(), retry, strict=True) if t is not None}
    if rescued:
        ok[list(rescued)] = True
    kept = np.flatnonzero(ok)
    texts: list[str] = found.take(pa.array(kept)).to_pylist()
    for position, index in enumerate(kept.tolist()):
        if index in rescued:
            texts[position] = rescued[index]
    return rows[matched][kept], texts


def _resolve_overlaps(hits: dict[str, Hits]) -> None:
    """Drop a hit whose match lies inside a higher-priority entity's match in the same cell."""
    order = [e.value for e in PRIORITY if e.value in hits]
    for i, low in enumerate(order):
        for high in order[:i]:
            lower, upper = hits[low], hits[high]
            common, li, ui = np.intersect1d(lower.rows, upper.rows, return_indices=True)
            if not len(common):
                continue
            inside = [
                j
                for j, k in zip(li.tolist(), ui.tolist(), strict=True)
                if lower.texts[j] in upper.texts[k] or upper.texts[k] in lower.texts[j]
            ]
            if inside:
                keep = np.ones(len(lower.rows), dtype=np.bool_)
                keep[inside] = False
                lower.rows = lower.rows[keep]
                lower.texts = [t for t, good in zip(lower.texts, keep, strict=True) if good]
    for entity in [e for e, h in hits.items() if not len(h.rows)]:
        del hits[entity]


SAMPLE = 2_000
"""Cells per column on which every recognizer runs to decide the column's routing."""


def _route(
    array: pa.Array, everything: IntArray, recognizers: Sequence[Recognizer]
) -> list[tuple[Recognizer, IntArray]]:
    """Which rows each recognizer must search, with as few passes over the column as possible.

    Every recognizer runs on a sample of the column; those with candidates there run on
    the whole column.  The others are searched for together, in one pass of their
    alternation, and each then runs only on the (usually no) cells that pass: exact,
    because a cell matching a pattern matches the alternation.
    """
    if len(everything) <= SAMPLE:
        return [(r, everything) for r in recognizers]
    step = max(1, len(everything) // SAMPLE)
    sample = array.take(pa.array(everything[::step][:SAMPLE]))
    seen = [
        r
        for r in recognizers
        if pc.any(pc.match_substring_regex(sample, pattern=r.pattern)).as_py()
    ]
    rest = [r for r in recognizers if r not in seen]
    routes = [(r, everything) for r in seen]
    if rest:
        union = "|".join(f"(?:{r.pattern})" for r in rest)
        cells = everything[
            _positions(pc.match_substring_regex(array.take(pa.array(everything)), pattern=union))
        ]
        routes += [(r, cells) for r in rest if len(cells)]
    return routes


def _add(scan: ColumnScan, recognizer: Recognizer, found_rows: IntArray, texts: list[str]) -> None:
    """Merge one recognizer's hits into the column's hits for its entity."""
    hits = scan.hits.get(recognizer.entity)
    if hits is None:
        scan.hits[recognizer.entity] = Hits(
            scan.column, recognizer.entity, found_rows, texts, {recognizer.name}, recognizer.score
        )
        return
    new = ~np.isin(found_rows, hits.rows)
    if not new.any():
        return
    rows = np.concatenate([hits.rows, found_rows[new]])
    merged = hits.texts + [t for t, fresh in zip(texts, new, strict=True) if fresh]
    order = np.argsort(rows, kind="stable")
    hits.rows, hits.texts = rows[order], [merged[i] for i in order]
    hits.recognizers.add(recognizer.name)
    hits.score = max(hits.score, recognizer.score)


def scan_column(
    name: str, series: pd.Series, recognizers: Sequence[Recognizer], *, max_chars: int
) -> ColumnScan:
    """Find every entity of ``recognizers`` in one column.

    Parameters
    ----------
    name : str
        The column's name (recognizers with a ``column_hint`` run only on matching names).
    series : pandas.Series
        The column.
    recognizers : sequence of Recognizer
        What to look for.
    max_chars : int
        Longer cells are scanned up to this many characters.

    Returns
    -------
    ColumnScan
        Hits per entity, with row positions and the first valid match of each cell.
    """
    array, notes = column_text(series, max_chars)
    if array is None:
        return ColumnScan(column=name, cells=0, free_text=False, notes=notes)
    present = pc.and_(pc.is_valid(array), pc.greater(pc.utf8_length(array), 0))
    everything = _positions(present)
    cells = len(everything)
    # three spaces or more: several words (one regex pass is faster than counting spaces)
    wordy = pc.match_substring_regex(array, pattern=" [^ ]* [^ ]* ").fill_null(False)
    free_text = (
        bool(cells) and float(np.mean(wordy.to_numpy(zero_copy_only=False)[everything])) >= 0.5
    )
    scan = ColumnScan(column=name, cells=cells, free_text=free_text, notes=notes)
    if not cells:
        return scan
    applicable = [
        r for r in recognizers if not r.column_hint or re.search(r.column_hint, str(name))
    ]
    for recognizer, rows in _route(array, everything, applicable):
        found_rows, texts = _run(recognizer, array, rows)
        if len(found_rows):
            _add(scan, recognizer, found_rows, texts)
    _resolve_overlaps(scan.hits)
    return scan


def scan_table(
    frame: pd.DataFrame,
    recognizers: Sequence[Recognizer],
    *,
    skip: Sequence[str] = (),
    max_chars: int = 10_000,
    workers: int | None = None,
) -> list[ColumnScan]:
    """Scan every column of ``frame`` not in ``skip``; one :class:`ColumnScan` per column.

    Columns are scanned in a pool of ``workers`` threads (default: one per CPU, at most
    8): Arrow's regex kernels and NumPy release the GIL, so columns scan in parallel.
    Results come back in column order whatever the number of workers.
    """
    chosen = [(i, str(n)) for i, n in enumerate(frame.columns) if str(n) not in skip]
    count = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    count = max(1, min(count, len(chosen)))

    def scan(item: tuple[int, str]) -> ColumnScan:
        return scan_column(item[1], frame.iloc[:, item[0]], recognizers, max_chars=max_chars)

    if count == 1:
        return [scan(item) for item in chosen]
    # the widest columns first, so that no thread is left alone with a long one at the end
    order = sorted(chosen, key=lambda item: -_weight(frame.iloc[:, item[0]]))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="masking-scan") as pool:
        done = dict(zip(order, pool.map(scan, order), strict=True))
    return [done[item] for item in chosen]


MAX_WORKERS = 8
"""Most threads :func:`scan_table` uses by default."""


def _weight(series: pd.Series) -> int:
    """A rough cost of scanning ``series``: its text length in a sample of cells."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return len(series)
    sample = series.iloc[:: max(1, len(series) // 200)].astype(str)
    return int(sample.str.len().sum()) * max(1, len(series) // max(len(sample), 1))

"""The vectorised column scanner: every recognizer over whole Arrow columns at once.

Passes over a column are what cost (RE2 through Arrow's ``match_substring_regex``
scans every byte at about the same speed whatever the pattern), so a column gets as
few as possible:

* every recognizer runs on a sample of the column; those that find nothing there are
  searched for together, in one pass of their alternation, and routed again among the
  (usually few) cells that match it;
* recognizers run in entity priority order (:data:`PRIORITY`), and a cell that is, as
  a whole, a valid match of one entity is not searched for the entities after it:
  their matches would lie inside it and be dropped as overlaps.  A column of IBANs is
  not searched for card numbers, one of SSNs not for phone numbers;
* in a structured column one anchored pass finds the cells that are one match as a
  whole, whose match is the trimmed cell; only the other cells are searched, and only
  their matches extracted (slower: RE2 must track a capture group).  Free-text
  columns skip the anchored pass;
* cells without ``@`` skip the e-mail pattern.

The recognizer's validator (Luhn, mod-97, SSN ranges, ...) runs on the candidates
only, vectorised with NumPy over the Arrow buffers.  Only cells whose first match fails
validation (decoys, mostly) are searched again, match by match, for a later valid one.
With a spaCy pipeline (:mod:`~audit.auditors.masking.ner`), person names are also looked
for in free-text and name columns, once per distinct value.

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
from audit.auditors.masking.ner import NerEngine, person_names
from audit.auditors.masking.patterns import NAME_COLUMNS, Recognizer
from audit.auditors.masking.regex import finditer
from audit.auditors.masking.validators import VALIDATORS

__all__ = ["ColumnScan", "Hits", "column_text", "scan_column", "scan_table"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

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
    texts : pyarrow.StringArray
        The first valid match in each cell, aligned with ``rows`` (never reported raw).
    recognizers : set of str
        Recognizers that found them; ``score`` is the highest confidence among them.
    """

    column: str
    entity: str
    rows: IntArray
    texts: pa.Array
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
    too_long = 0
    if (pc.max(pc.binary_length(array)).as_py() or 0) > max_chars:  # bytes >= characters
        too_long = pc.sum(pc.greater(pc.utf8_length(array), max_chars)).as_py() or 0
    if too_long:
        array = pc.utf8_slice_codeunits(array, 0, max_chars)
        notes.append(NOTE_TRUNCATED.format(n=too_long, limit=max_chars))
    return array, notes


def _positions(mask: pa.Array) -> IntArray:
    values = mask.fill_null(False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(values).astype(np.int64)


def _take(array: pa.Array, rows: IntArray) -> pa.Array:
    """``array[rows]``, without a copy when ``rows`` is every position in order."""
    if len(rows) == len(array):
        return array
    return array.take(pa.array(rows, type=pa.int64()))


VALIDATE_CHUNK = 65_536
"""Candidates validated at once: the validators' NumPy temporaries then stay small enough
to be reused from the allocator's free lists and to stay in cache (a million at once is
slower, and much slower when the system must find fresh pages for them)."""


def _validate(recognizer: Recognizer, texts: Sequence[str] | pa.Array) -> BoolArray:
    if recognizer.validator is None:
        return np.ones(len(texts), dtype=np.bool_)
    check = VALIDATORS[recognizer.validator]
    if len(texts) <= VALIDATE_CHUNK:
        return check(texts)
    return np.concatenate(
        [check(texts[i : i + VALIDATE_CHUNK]) for i in range(0, len(texts), VALIDATE_CHUNK)]
    )


def _second_chance(recognizer: Recognizer, cells: Sequence[str]) -> list[str | None]:
    """For cells whose first match failed validation: the first later match that passes."""
    found: list[str | None] = []
    for cell in cells:
        spans = list(finditer(recognizer.pattern, cell))[1:]
        texts = [cell[a:b] for a, b in spans]
        good = _validate(recognizer, texts) if texts else np.zeros(0, dtype=np.bool_)
        found.append(next((t for t, ok in zip(texts, good, strict=True) if ok), None))
    return found


def _non_capturing(pattern: str) -> str:
    """``pattern`` with its unnamed groups made non-capturing (Arrow extracts named ones only)."""
    out: list[str] = []
    escaped = in_class = False
    for i, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or pattern[i - 1] == "["
        elif char == "[":
            in_class = True
        elif char == "(" and not pattern.startswith("?", i + 1):
            out.append("(?:")
            continue
        out.append(char)
    return "".join(out)


def _extract(pattern: str, cells: pa.Array) -> pa.Array:
    """The first match of ``pattern`` in each cell (every cell holds one), as Arrow strings."""
    found = pc.extract_regex(cells, pattern=f"(?P<m>{_non_capturing(pattern)})")
    return pc.struct_field(found, [0]).fill_null("")


@dataclass
class _Found:
    """One recognizer's valid hits in a column."""

    rows: IntArray
    texts: pa.Array
    whole: BoolArray
    """The cell is this match alone (apart from blanks): no other entity's match can lie
    outside it."""


def _none() -> _Found:
    return _Found(np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros(0, np.bool_))


def _run(
    recognizer: Recognizer, subset: pa.Array, rows: IntArray, *, whole_cells: bool = True
) -> _Found:
    """Rows (positions in the column) and first valid matches of ``recognizer``.

    ``subset`` holds the cells at ``rows``, in order.

    One anchored pass finds the cells that are one match as a whole, apart from blanks
    (the usual case in a structured column): their match is the trimmed cell.  Only the
    other cells are searched, and only their matches are extracted (slower: RE2 must
    track a capture group).  ``whole_cells=False`` (a free-text column, whose cells are
    rarely one match) skips the anchored pass.
    """
    if recognizer.requires:
        keep = _positions(pc.match_substring(subset, recognizer.requires))
        subset, rows = _take(subset, keep), rows[keep]
    if not len(rows):
        return _none()
    whole = np.zeros(0, dtype=np.int64)
    if whole_cells:
        anchored = rf"^\s*(?:{recognizer.pattern})\s*$"
        whole = _positions(pc.match_substring_regex(subset, pattern=anchored))
    texts = pc.ascii_trim_whitespace(_take(subset, whole))
    at = whole
    if len(whole) < len(rows):
        rest = np.setdiff1d(np.arange(len(rows)), whole, assume_unique=True)
        cells = _take(subset, rest)
        hit = _positions(pc.match_substring_regex(cells, pattern=recognizer.pattern))
        if len(hit):
            extracted = _extract(recognizer.pattern, _take(cells, hit))
            at = np.concatenate([whole, rest[hit]])
            texts = pa.concat_arrays([texts, extracted])
            if len(whole):
                order = np.argsort(at, kind="stable")
                at, texts = at[order], texts.take(pa.array(order))
    if not len(at):
        return _none()
    is_whole = np.isin(at, whole, assume_unique=True)
    ok = _validate(recognizer, texts)
    if ok.all():
        return _Found(rows[at], texts, is_whole)
    texts, rescued = _rescue(recognizer, subset, at, texts, ok, is_whole)
    kept = np.flatnonzero(ok)
    return _Found(rows[at[kept]], texts.take(pa.array(kept)), (is_whole & ~rescued)[kept])


def _rescue(
    recognizer: Recognizer,
    subset: pa.Array,
    at: IntArray,
    texts: pa.Array,
    ok: BoolArray,
    whole: BoolArray,
) -> tuple[pa.Array, BoolArray]:
    """Search again, match by match, the cells whose first match failed validation.

    Those are decoys, mostly.  Cells that are one match as a whole (``whole``) have no
    other match to offer.  ``ok`` is set where a later valid match is found; returns the
    texts with those matches in place, and where they are.
    """
    rescued = np.zeros(len(ok), dtype=np.bool_)
    failed = np.flatnonzero(~ok & ~whole)
    if not len(failed):
        return texts, rescued
    cells = subset.take(pa.array(at[failed]))
    several = pc.count_substring_regex(cells, pattern=recognizer.pattern)
    many = several.to_numpy(zero_copy_only=False) > 1
    if not many.any():
        return texts, rescued
    retry = _second_chance(recognizer, cells.filter(pa.array(many)).to_pylist())
    found = [(i, t) for i, t in zip(failed[many].tolist(), retry, strict=True) if t is not None]
    if not found:
        return texts, rescued
    where = np.array([i for i, _ in found], dtype=np.int64)
    ok[where] = rescued[where] = True
    texts = pc.replace_with_mask(
        texts, pa.array(rescued), pa.array([t for _, t in found], pa.string())
    )
    return texts, rescued


def _resolve_overlaps(hits: dict[str, Hits]) -> None:
    """Drop a hit whose match lies inside a higher-priority entity's match in the same cell."""
    order = [e.value for e in PRIORITY if e.value in hits]
    for i, low in enumerate(order):
        for high in order[:i]:
            lower, upper = hits[low], hits[high]
            common, li, ui = np.intersect1d(lower.rows, upper.rows, return_indices=True)
            if not len(common):
                continue
            low_texts = lower.texts.take(pa.array(li)).to_pylist()
            high_texts = upper.texts.take(pa.array(ui)).to_pylist()
            inside = [
                j
                for j, a, b in zip(li.tolist(), low_texts, high_texts, strict=True)
                if a in b or b in a
            ]
            if inside:
                keep = np.ones(len(lower.rows), dtype=np.bool_)
                keep[inside] = False
                lower.rows = lower.rows[keep]
                lower.texts = lower.texts.filter(pa.array(keep))
    for entity in [e for e, h in hits.items() if not len(h.rows)]:
        del hits[entity]


SAMPLE = 2_000
"""Cells per column on which every recognizer runs to decide the column's routing."""


def _sample(array: pa.Array, everything: IntArray) -> pa.Array:
    """At most :data:`SAMPLE` non-empty cells, evenly spread over the column."""
    step = max(1, len(everything) // SAMPLE)
    return array.take(pa.array(everything[::step][:SAMPLE]))


def _share_wordy(cells: pa.Array) -> float:
    # three spaces or more: several words (one regex pass is faster than counting spaces)
    wordy = pc.match_substring_regex(cells, pattern=" [^ ]* [^ ]* ").fill_null(False)
    return float(np.mean(wordy.to_numpy(zero_copy_only=False))) if len(cells) else 0.0


def _wordy(array: pa.Array, everything: IntArray) -> bool:
    """Whether most non-empty cells hold several words (a free-text column).

    Decided on the sample when its share is clearly above or below one half, else on
    every cell.
    """
    if not len(everything):
        return False
    if len(everything) > SAMPLE:
        share = _share_wordy(_sample(array, everything))
        if abs(share - 0.5) > 0.1:
            return share >= 0.5
    return _share_wordy(_take(array, everything)) >= 0.5


def _route(
    array: pa.Array, everything: IntArray, recognizers: Sequence[Recognizer]
) -> list[tuple[Recognizer, IntArray]]:
    """Which rows each recognizer must search, with as few passes over the column as possible.

    Every recognizer runs on a sample of the cells; those with candidates there search
    every cell.  The others are searched for together, in one pass of their alternation,
    and are routed again among the (usually few) cells that pass: exact, because a cell
    matching a pattern matches the alternation.  Each round removes a recognizer or
    shrinks the cells, so it ends.
    """
    if len(everything) <= SAMPLE or len(recognizers) <= 1:
        return [(r, everything) for r in recognizers]
    sample = _sample(array, everything)
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
            _positions(pc.match_substring_regex(_take(array, everything), pattern=union))
        ]
        if len(cells):
            routes += _route(array, cells, rest)
    return routes


def _add(scan: ColumnScan, recognizer: Recognizer, found: _Found) -> None:
    """Merge one recognizer's hits into the column's hits for its entity."""
    hits = scan.hits.get(recognizer.entity)
    if hits is None:
        scan.hits[recognizer.entity] = Hits(
            scan.column,
            recognizer.entity,
            found.rows,
            found.texts,
            {recognizer.name},
            recognizer.score,
        )
        return
    new = ~np.isin(found.rows, hits.rows)
    if not new.any():
        return
    rows = np.concatenate([hits.rows, found.rows[new]])
    merged = pa.concat_arrays([hits.texts, found.texts.filter(pa.array(new))])
    order = np.argsort(rows, kind="stable")
    hits.rows, hits.texts = rows[order], merged.take(pa.array(order))
    hits.recognizers.add(recognizer.name)
    hits.score = max(hits.score, recognizer.score)


_RANKS = {entity.value: rank for rank, entity in enumerate(PRIORITY)}
UNRANKED = len(PRIORITY)
"""Rank of custom patterns: their cells are never skipped, and they take none."""


def _rank(recognizer: Recognizer) -> int:
    return _RANKS.get(recognizer.entity, UNRANKED)


def _search(
    scan: ColumnScan, array: pa.Array, routes: Sequence[tuple[Recognizer, IntArray]]
) -> None:
    """Run the routed recognizers by entity priority, skipping cells already taken.

    A cell that is, as a whole, a valid match of one entity is not searched for the
    entities after it in :data:`PRIORITY`: any match of theirs would lie inside it and
    be dropped as an overlap.  So a column of IBANs is searched for card numbers only in
    its cells that are not an IBAN.
    """
    taken = np.full(len(array), UNRANKED, dtype=np.int8)
    subsets: dict[int, tuple[IntArray, pa.Array]] = {}
    for recognizer, rows in sorted(routes, key=lambda route: _rank(route[0])):
        rank = _rank(recognizer)
        if rank < UNRANKED:
            free = taken[rows] > rank
            if not free.all():
                rows = rows[free]
        if not len(rows):
            continue
        # recognizers routed to the same cells share one copy of them
        if id(rows) not in subsets:
            subsets[id(rows)] = (rows, _take(array, rows))
        found = _run(recognizer, subsets[id(rows)][1], rows, whole_cells=not scan.free_text)
        if not len(found.rows):
            continue
        if rank < UNRANKED:
            whole = found.rows[found.whole]
            taken[whole] = np.minimum(taken[whole], rank)
        _add(scan, recognizer, found)


def scan_column(
    name: str,
    series: pd.Series,
    recognizers: Sequence[Recognizer],
    *,
    max_chars: int,
    ner: NerEngine | None = None,
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
    ner : NerEngine, optional
        A spaCy pipeline that also looks for person names, when the column is free text
        or named for names.

    Returns
    -------
    ColumnScan
        Hits per entity, with row positions and the first valid match of each cell.
    """
    scan = _scan_patterns(name, series, recognizers, max_chars=max_chars)
    if ner is not None:
        _add_names(scan, series, ner, max_chars)
    return scan


def _needs_names(scan: ColumnScan) -> bool:
    return scan.free_text or re.search(NAME_COLUMNS, scan.column) is not None


def _add_names(scan: ColumnScan, series: pd.Series, ner: NerEngine, max_chars: int) -> None:
    """Add the person names ``ner`` finds in the column, when it is free text or names."""
    if not scan.cells or not _needs_names(scan):
        return
    array, _ = column_text(series, max_chars)
    if array is None:
        return
    present = pc.and_(pc.is_valid(array), pc.greater(pc.binary_length(array), 0))
    found = person_names(ner, array, _positions(present))
    scan.notes.extend(found.notes)
    if len(found.rows):
        recognizer = Recognizer(Entity.PERSON, "spacy_ner", "", NER_SCORE, needs_digit=False)
        _add(scan, recognizer, _Found(found.rows, found.texts, np.zeros(len(found.rows), bool)))
        _resolve_overlaps(scan.hits)


NER_SCORE = 0.85
"""Confidence given to a person name found by the spaCy pipeline."""


def _scan_patterns(
    name: str, series: pd.Series, recognizers: Sequence[Recognizer], *, max_chars: int
) -> ColumnScan:
    array, notes = column_text(series, max_chars)
    if array is None:
        return ColumnScan(column=name, cells=0, free_text=False, notes=notes)
    present = pc.and_(pc.is_valid(array), pc.greater(pc.binary_length(array), 0))
    everything = _positions(present)
    cells = len(everything)
    free_text = _wordy(array, everything)
    scan = ColumnScan(column=name, cells=cells, free_text=free_text, notes=notes)
    if not cells:
        return scan
    applicable = [
        r for r in recognizers if not r.column_hint or re.search(r.column_hint, str(name))
    ]
    _search(scan, array, _route(array, everything, applicable))
    _resolve_overlaps(scan.hits)
    return scan


def scan_table(
    frame: pd.DataFrame,
    recognizers: Sequence[Recognizer],
    *,
    skip: Sequence[str] = (),
    max_chars: int = 10_000,
    workers: int | None = None,
    ner: NerEngine | None = None,
) -> list[ColumnScan]:
    """Scan every column of ``frame`` not in ``skip``; one :class:`ColumnScan` per column.

    With ``ner``, the spaCy pipeline then looks for person names in the free-text and
    name columns, one column after another (a pipeline is not shared between threads).

    Columns are scanned in a pool of ``workers`` threads (default: one per CPU, at most
    8): Arrow's regex kernels and NumPy release the GIL, so columns scan in parallel.
    Results come back in column order whatever the number of workers.
    """
    chosen = [(i, str(n)) for i, n in enumerate(frame.columns) if str(n) not in skip]
    count = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    count = max(1, min(count, len(chosen)))

    def scan(item: tuple[int, str]) -> ColumnScan:
        return _scan_patterns(item[1], frame.iloc[:, item[0]], recognizers, max_chars=max_chars)

    if count == 1:
        scans = [scan(item) for item in chosen]
    else:
        # the widest columns first, so that no thread is left alone with a long one at the end
        order = sorted(chosen, key=lambda item: -_weight(frame.iloc[:, item[0]]))
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="masking-scan") as pool:
            done = dict(zip(order, pool.map(scan, order), strict=True))
        scans = [done[item] for item in chosen]
    if ner is not None:
        for (index, _), found in zip(chosen, scans, strict=True):
            _add_names(found, frame.iloc[:, index], ner, max_chars)
    return scans


MAX_WORKERS = 8
"""Most threads :func:`scan_table` uses by default."""


def _weight(series: pd.Series) -> int:
    """A rough cost of scanning ``series``: its text length in a sample of cells."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return len(series)
    sample = series.iloc[:: max(1, len(series) // 200)].astype(str)
    return int(sample.str.len().sum()) * max(1, len(series) // max(len(sample), 1))

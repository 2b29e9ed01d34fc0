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
  whole (see :mod:`~audit.auditors.masking.search`, which runs one recognizer and
  validates its candidates).  Free-text columns skip the anchored pass;
* cells without ``@`` skip the e-mail pattern.

With a spaCy pipeline (:mod:`~audit.auditors.masking.ner`), person names are also looked
for in free-text and name columns, once per distinct value.

Bad input never raises (see :mod:`~audit.auditors.masking.text`).  Columns are scanned
in parallel threads; Arrow's kernels release the GIL.
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
from audit.auditors.masking.search import Found, positions, run_recognizer, take
from audit.auditors.masking.text import (
    NOTE_DECODED,
    NOTE_TRUNCATED,
    column_text,
    column_text_counted,
)

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
    wordy: float = 0.0
    """Share of the non-empty cells holding several words (on a sample when it is clearly
    above or below one half, else counted); ``free_text`` is ``wordy >= 0.5``."""
    decoded: int = 0
    """Cells decoded from bytes or other non-text values."""
    truncated: int = 0
    """Cells cut to the scanned length."""
    ner_notes: list[str] = field(default_factory=list)
    """What the NER pipeline noted (also in ``notes``)."""

    def holds(self, entity: str, share: float) -> bool:
        """Whether at least ``share`` of the non-empty cells hold ``entity``."""
        found = self.hits.get(entity)
        return found is not None and self.cells > 0 and len(found.rows) >= share * self.cells


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


def _wordy(array: pa.Array, everything: IntArray) -> float:
    """The share of non-empty cells holding several words (free text when >= one half).

    Taken on the sample when it is clearly above or below one half, else on every cell.
    """
    if not len(everything):
        return 0.0
    if len(everything) > SAMPLE:
        share = _share_wordy(_sample(array, everything))
        if abs(share - 0.5) > 0.1:
            return share
    return _share_wordy(take(array, everything))


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
            positions(pc.match_substring_regex(take(array, everything), pattern=union))
        ]
        if len(cells):
            routes += _route(array, cells, rest)
    return routes


def _add(scan: ColumnScan, recognizer: Recognizer, found: Found) -> None:
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
            subsets[id(rows)] = (rows, take(array, rows))
        found = run_recognizer(
            recognizer, subsets[id(rows)][1], rows, whole_cells=not scan.free_text
        )
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
    found = person_names(ner, array, positions(present))
    scan.notes.extend(found.notes)
    scan.ner_notes.extend(found.notes)
    if len(found.rows):
        recognizer = Recognizer(Entity.PERSON, "spacy_ner", "", NER_SCORE, needs_digit=False)
        _add(scan, recognizer, Found(found.rows, found.texts, np.zeros(len(found.rows), bool)))
        _resolve_overlaps(scan.hits)


NER_SCORE = 0.85
"""Confidence given to a person name found by the spaCy pipeline."""


def _scan_patterns(
    name: str, series: pd.Series, recognizers: Sequence[Recognizer], *, max_chars: int
) -> ColumnScan:
    array, decoded, truncated = column_text_counted(series, max_chars)
    notes = [NOTE_DECODED.format(n=decoded)] if decoded else []
    if truncated:
        notes.append(NOTE_TRUNCATED.format(n=truncated, limit=max_chars))
    if array is None:
        return ColumnScan(column=name, cells=0, free_text=False, notes=notes)
    present = pc.and_(pc.is_valid(array), pc.greater(pc.binary_length(array), 0))
    everything = positions(present)
    cells = len(everything)
    wordy = _wordy(array, everything)
    scan = ColumnScan(
        column=name,
        cells=cells,
        free_text=wordy >= 0.5,
        notes=notes,
        wordy=wordy,
        decoded=decoded,
        truncated=truncated,
    )
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

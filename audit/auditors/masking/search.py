"""One recognizer over a set of cells: candidates by RE2, then validated.

:func:`run_recognizer` is the scanner's inner step.  In a structured column one
anchored pass finds the cells that are one match as a whole, whose match is the trimmed
cell; only the other cells are searched, and only their matches extracted (slower: RE2
must track a capture group).  The recognizer's validator (Luhn, mod-97, SSN ranges, ...)
runs on the candidates only, vectorised with NumPy over the Arrow buffers.  Only cells
whose first match fails validation (decoys, mostly) are searched again, match by match,
for a later valid one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from audit.auditors.masking.patterns import Recognizer
from audit.auditors.masking.regex import finditer
from audit.auditors.masking.validators import VALIDATORS

__all__ = ["Found", "no_hits", "positions", "run_recognizer", "take"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def positions(mask: pa.Array) -> IntArray:
    """Positions where the boolean ``mask`` is true (nulls are false)."""
    values = mask.fill_null(False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(values).astype(np.int64)


def take(array: pa.Array, rows: IntArray) -> pa.Array:
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
    """For cells whose first match failed validation: the first later match that passes.

    The later matches of every cell are validated together, in one call: a validator's
    cost is mostly per call, not per text.
    """
    texts: list[str] = []
    owner: list[int] = []
    for i, cell in enumerate(cells):
        later = [cell[a:b] for a, b in finditer(recognizer.pattern, cell)][1:]
        texts += later
        owner += [i] * len(later)
    found: list[str | None] = [None] * len(cells)
    if not texts:
        return found
    # backwards, so that each cell keeps its first valid match
    for k in np.flatnonzero(_validate(recognizer, texts))[::-1].tolist():
        found[owner[k]] = texts[k]
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
class Found:
    """One recognizer's valid hits in a column."""

    rows: IntArray
    texts: pa.Array
    whole: BoolArray
    """The cell is this match alone (apart from blanks): no other entity's match can lie
    outside it."""


def no_hits() -> Found:
    """No hit at all."""
    return Found(np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros(0, np.bool_))


def run_recognizer(
    recognizer: Recognizer, subset: pa.Array, rows: IntArray, *, whole_cells: bool = True
) -> Found:
    """Rows (positions in the column) and first valid matches of ``recognizer``.

    ``subset`` holds the cells at ``rows``, in order.

    One anchored pass finds the cells that are one match as a whole, apart from blanks
    (the usual case in a structured column): their match is the trimmed cell.  Only the
    other cells are searched, and only their matches are extracted (slower: RE2 must
    track a capture group).  ``whole_cells=False`` (a free-text column, whose cells are
    rarely one match) skips the anchored pass.
    """
    if recognizer.requires:
        keep = positions(pc.match_substring(subset, recognizer.requires))
        subset, rows = take(subset, keep), rows[keep]
    if not len(rows):
        return no_hits()
    whole = np.zeros(0, dtype=np.int64)
    if whole_cells:
        anchored = rf"^\s*(?:{recognizer.pattern})\s*$"
        whole = positions(pc.match_substring_regex(subset, pattern=anchored))
    texts = pc.ascii_trim_whitespace(take(subset, whole))
    at = whole
    if len(whole) < len(rows):
        rest = np.setdiff1d(np.arange(len(rows)), whole, assume_unique=True)
        cells = take(subset, rest)
        hit = positions(pc.match_substring_regex(cells, pattern=recognizer.pattern))
        if len(hit):
            extracted = _extract(recognizer.pattern, take(cells, hit))
            at = np.concatenate([whole, rest[hit]])
            texts = pa.concat_arrays([texts, extracted])
            if len(whole):
                order = np.argsort(at, kind="stable")
                at, texts = at[order], texts.take(pa.array(order))
    if not len(at):
        return no_hits()
    is_whole = np.isin(at, whole, assume_unique=True)
    ok = _validate(recognizer, texts)
    if ok.all():
        return Found(rows[at], texts, is_whole)
    texts, rescued = _rescue(recognizer, subset, at, texts, ok, is_whole)
    kept = np.flatnonzero(ok)
    return Found(rows[at[kept]], texts.take(pa.array(kept)), (is_whole & ~rescued)[kept])


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

"""Masking verification: whether the data as delivered obeys each rule of the policy.

Per rule, every governed cell is checked against the treatment (see
:data:`~audit.auditors.masking.config.Treatment`) and each failing cell is counted once,
with the kinds of problem found: ``raw value`` (the scanner found the entity in it),
``not dropped``, ``not redacted``, ``keeps too many characters``, ``not a digest``,
``unsalted hash``, ``linkable`` (a value repeats across rows where the rule forbids
linking) and ``not generalized``.  Rules naming an entity also count every cell, in any
column, where that entity was found raw.

Checking is in two steps, so that chunks of a table larger than memory can be checked
one by one: :func:`tally_rules` checks what a chunk's cells show alone (their format, a
raw value found in them) and keeps the distinct values of hashed columns;
:func:`settle_rules` then decides, over the merged tallies of every chunk, which values
repeat and which are plain hashes of a value found anywhere, and counts each failing
cell once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.auditors.masking.bounded import KEPT, Firsts, ValueTable
from audit.auditors.masking.config import MaskingRule
from audit.auditors.masking.hashes import looks_like_digest, plain_digests
from audit.auditors.masking.redact import mask_sample
from audit.auditors.masking.scanner import ColumnScan
from audit.auditors.masking.text import column_text

__all__ = [
    "HASH_TREATMENTS",
    "ColumnRuleTally",
    "EntityCells",
    "RuleCheck",
    "RuleTally",
    "settle_rules",
    "tally_rules",
]

BoolArray = npt.NDArray[np.bool_]

REDACTION_PATTERN = (
    r"(?i)^\s*(?:\[?(?:redacted|removed|withheld|masked|hidden)\]?|<[a-z_]+>|[*#xX\x{2022}]+"
    r"|n/?a)?\s*$"
)
"""A redacted cell: empty, a marker such as ``[REDACTED]`` or ``<EMAIL>``, or mask characters."""

GENERALIZED = {
    "year": r"^\s*(?:19|20)\d{2}\s*$",
    "year_month": r"^\s*(?:19|20)\d{2}-(?:0[1-9]|1[0-2])\s*$",
    "decade": r"^\s*(?:19|20)\d0s?\s*$",
}
VISIBLE = r"(?:[^\P{L}xX]|\p{N})"
"""Characters that count as kept by a mask: any letter or number in Unicode (Latin,
Cyrillic, full-width ``４``, Arabic-Indic ``٤``, ...), except ``x``/``X``, which are mask
characters."""
SEPARATOR = r"[\s\-./()_:+,]"
"""Characters that are neither kept nor masked: spaces and the punctuation of formats."""
DIGIT = r"\p{Nd}"
"""A decimal digit in any script (RE2 reads ``\\d`` as ASCII digits only)."""


def _placed(keep_first: int, keep_last: int) -> str:
    """A pattern of masked values whose kept characters all lie at the ends allowed.

    That is, among the value's first ``keep_first`` or last ``keep_last`` characters
    (separators aside), with only mask characters between them.
    ``4111 **** **** ****`` keeps four characters, but at the front: it does not match
    with ``keep_last: 4``, where ``**** **** **** 1111`` does.
    """
    any_char = rf"[^\s\-./()_:+,]{SEPARATOR}*"
    hidden = rf"(?:[^\p{{L}}\p{{N}}\s\-./()_:+,]|[xX]){SEPARATOR}*"
    return (
        rf"^{SEPARATOR}*(?:{any_char}){{0,{keep_first}}}(?:{hidden})*"
        rf"(?:{any_char}){{0,{keep_last}}}$"
    )


HASH_TREATMENTS = ("hmac", "tokenize")
NOTE_MISSING = "column '{column}' is not in the data; its columns are: {columns}"
NOTE_EMPTY = (
    "column '{column}' has no non-empty cell, so the {treatment} rule was checked on no value"
)
CHECKED_ON_VALUES = ("mask", "hmac", "tokenize", "generalize")
"""Treatments obeyed only by values of a form: an empty column shows none of them (an
empty column is dropped and redacted, and a 'keep' rule asks for nothing)."""


@dataclass
class RuleCheck:
    """The verdict material for one rule.

    Attributes
    ----------
    rule : MaskingRule
        The rule.
    columns : list of str
        Columns checked.
    cells : int
        Cells checked.
    violations : int
        Cells breaking the rule (each counted once).
    problems : collections.Counter
        Failing cells per kind of problem.
    rows : list of int
        First row positions of failing cells.
    samples : list of str
        Masked examples of failing cells.
    unverifiable : str or None
        Why the rule could not be checked (e.g. a governed column is missing).
    """

    rule: MaskingRule
    columns: list[str] = field(default_factory=list)
    cells: int = 0
    violations: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    rows: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    unverifiable: str | None = None


def _mask(array: pa.Array) -> BoolArray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _format_problems(rule: MaskingRule, text: pa.Array, present: BoolArray) -> dict[str, BoolArray]:
    """Cells failing the treatment's format, by kind of problem."""
    t = rule.treatment
    if t == "drop":
        return {"not dropped": present}
    if t == "redact":
        return {"not redacted": present & ~_mask(pc.match_substring_regex(text, REDACTION_PATTERN))}
    if t == "mask":
        kept = pc.count_substring_regex(text, VISIBLE).fill_null(0).to_numpy(zero_copy_only=False)
        too_many = present & (kept > rule.keep_first + rule.keep_last)
        placed = _mask(pc.match_substring_regex(text, _placed(rule.keep_first, rule.keep_last)))
        return {
            "keeps too many characters": too_many,
            "keeps characters in the masked part": present & ~too_many & ~placed,
        }
    if t == "hmac":
        return {"not a digest": present & ~_mask(looks_like_digest(text))}
    if t == "generalize":
        if rule.level == "digits":
            digits = pc.count_substring_regex(text, DIGIT).fill_null(0)
            return {
                "not generalized": present & (digits.to_numpy(zero_copy_only=False) > rule.digits)
            }
        return {
            "not generalized": present
            & ~_mask(pc.match_substring_regex(text, GENERALIZED[rule.level]))
        }
    return {}


@dataclass
class ColumnRuleTally:
    """One rule's check of one governed column, over some rows (mergeable).

    Attributes
    ----------
    cells : int
        Non-empty cells checked.
    problems : collections.Counter
        Failing cells per kind of problem the cells show alone.
    failing : int
        Cells failing for any of those problems (each once).
    firsts : Firsts
        First failing cells, with a masked example each.
    values : ValueTable or None
        The distinct values, for 'hmac' and 'tokenize' rules; ``None`` otherwise, or when
        more than the policy's ``max_hash_values`` had to be kept (``overflow``).
    overflow : bool
        The values were too many to keep.
    """

    column: str
    cells: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    failing: int = 0
    firsts: Firsts = field(default_factory=Firsts)
    values: ValueTable | None = None
    overflow: bool = False

    def merge(self, other: ColumnRuleTally, limit: int | None) -> ColumnRuleTally:
        """Both tallies' cells; values beyond ``limit`` set ``overflow``."""
        values = None
        overflow = self.overflow or other.overflow
        if not overflow and self.values is not None and other.values is not None:
            values = self.values.merge(other.values)
            if limit is not None and len(values) > limit:
                values, overflow = None, True
        return ColumnRuleTally(
            self.column,
            self.cells + other.cells,
            self.problems + other.problems,
            self.failing + other.failing,
            self.firsts.merge(other.firsts),
            values,
            overflow,
        )


@dataclass
class RuleTally:
    """One rule's tally over some rows: a tally per governed column present."""

    columns: list[ColumnRuleTally]
    unverifiable: str | None = None

    def merge(self, other: RuleTally, limit: int | None) -> RuleTally:
        """Both tallies' cells, column by column."""
        return RuleTally(
            [a.merge(b, limit) for a, b in zip(self.columns, other.columns, strict=True)],
            self.unverifiable or other.unverifiable,
        )


@dataclass(frozen=True)
class EntityCells:
    """Where the scanner found one entity raw in one column: cells and first rows."""

    column: str
    cells: int
    firsts: Firsts
    """First cells, with the value found (raw; masked only when shown)."""


def tally_rules(
    frame: pd.DataFrame,
    rules: Sequence[MaskingRule],
    scans: Mapping[str, ColumnScan],
    *,
    max_chars: int,
    offset: int = 0,
) -> list[RuleTally]:
    """Check what ``frame``'s cells show alone, rule by rule (one tally per rule, in order).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of the data as delivered (a chunk, or all of it).
    rules : sequence of MaskingRule
        The policy's rules.
    scans : mapping of str to ColumnScan
        What the scanner found in these rows, per column.
    max_chars : int
        Cells are checked up to this many characters.
    offset : int
        Position of ``frame``'s first row in the table.
    """
    tallies = []
    for rule in rules:
        tally = RuleTally([])
        for column in rule.columns:
            if column not in frame.columns:
                if rule.treatment != "drop":
                    tally.unverifiable = NOTE_MISSING.format(
                        column=column, columns=", ".join(map(str, frame.columns[:20]))
                    )
                continue
            tally.columns.append(
                _tally_column(rule, frame[column], column, scans.get(column), max_chars, offset)
            )
        tallies.append(tally)
    return tallies


def _as_text(series: pd.Series) -> pd.Series:
    """The cells as text, whole-number floats without their ``.0``.

    A column of whole numbers with a missing cell is read as floats (CSV, Parquet): its
    year ``1985`` and postcode ``941`` are checked as ``1985`` and ``941``, as the scanner
    reads them, not as ``1985.0`` and ``941.0``.
    """
    if pd.api.types.is_float_dtype(series):
        values = series.dropna().to_numpy(dtype=np.float64)
        if len(values) and np.all(np.mod(values, 1) == 0) and np.abs(values).max() < 2.0**53:
            return series.astype("Int64").astype("string")
    return series.astype("string")


def _tally_column(
    rule: MaskingRule,
    series: pd.Series,
    column: str,
    scan: ColumnScan | None,
    max_chars: int,
    offset: int,
) -> ColumnRuleTally:
    text, _ = column_text(_as_text(series) if rule.treatment != "drop" else series, max_chars)
    present = series.notna().to_numpy().copy()
    if text is not None:
        present &= _mask(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0))
    tally = ColumnRuleTally(column, cells=int(present.sum()))
    if rule.treatment == "keep" or text is None:
        return tally
    problems = _format_problems(rule, text, present)
    if scan is not None and rule.treatment != "drop":
        raw = np.zeros(len(series), dtype=np.bool_)
        for hits in scan.hits.values():
            raw[hits.rows] = True
        problems["raw value"] = raw & present
    failing = np.zeros(len(series), dtype=np.bool_)
    for kind, cells in problems.items():
        if cells.any():
            tally.problems[kind] += int(cells.sum())
            failing |= cells
    at = np.flatnonzero(failing)
    tally.failing = len(at)
    shown = text.take(pa.array(at[:KEPT])).to_pylist()
    tally.firsts = Firsts.of(
        (offset + int(r), mask_sample(v or "")) for r, v in zip(at[:KEPT], shown, strict=True)
    )
    if rule.treatment in HASH_TREATMENTS:
        kept = present
        if rule.linkable:  # only a plain hash can fail by its value, and it looks like one
            kept = present & _mask(looks_like_digest(text))
        where = np.flatnonzero(kept)
        values = np.asarray(text.take(pa.array(where)).to_pylist(), dtype=object)
        tally.values = ValueTable.of(values, failing[where], where.astype(np.int64) + offset)
    return tally


def settle_rules(
    rules: Sequence[MaskingRule],
    tallies: Sequence[RuleTally],
    found: Mapping[str, Sequence[EntityCells]],
    candidates: set[str] | None,
    *,
    samples: int,
) -> list[RuleCheck]:
    """Each rule's check, from the merged tallies of every chunk.

    Parameters
    ----------
    rules, tallies : sequence
        The policy's rules and their merged tallies, in order.
    found : mapping of str to sequence of EntityCells
        Per entity, the columns (in table order) where the scanner found it raw.
    candidates : set of str or None
        Every distinct value the scanner found, in any column, whose plain hashes are
        looked for in hashed columns; ``None`` when they were too many to keep.
    samples : int
        Masked examples kept per rule.
    """
    hashed = _plain_hashes(tallies, candidates)
    checks = []
    for rule, tally in zip(rules, tallies, strict=True):
        check = RuleCheck(rule, unverifiable=tally.unverifiable)
        firsts = Firsts()  # of every column, so that the rows shown are the rule's first
        for column in tally.columns:
            firsts = firsts.merge(_settle_column(check, column, hashed))
        if rule.entity is not None and rule.treatment != "keep":
            for cells in found.get(rule.entity, ()):
                if cells.column in rule.columns:
                    continue
                check.columns.append(cells.column)
                check.cells += cells.cells
                check.violations += cells.cells
                check.problems["raw value"] += cells.cells
                masked = tuple(mask_sample(t) for t in cells.firsts.texts)
                firsts = firsts.merge(Firsts(cells.firsts.rows, masked))
        _record(check, firsts.rows, firsts.texts, samples)
        checks.append(check)
    return checks


ERR_TOO_MANY_VALUES = (
    "column '{column}' holds more distinct values than auditors.masking.max_hash_values, "
    "so repeats and plain hashes were not compared across chunks; raise it or use "
    "--engine pandas"
)
ERR_TOO_MANY_CANDIDATES = (
    "more distinct PII values than auditors.masking.max_hash_values to compare with the "
    "hashed columns across chunks; raise it or use --engine pandas"
)


def _plain_hashes(tallies: Sequence[RuleTally], candidates: set[str] | None) -> set[str] | None:
    """Plain digests of a found value or of a small domain, in the hashed columns' lengths.

    Only the algorithms and spellings whose lengths occur among the hashed columns'
    digests are computed.  ``None`` when the candidates were too many to keep.
    """
    lengths: set[int] = set()
    for tally in tallies:
        for column in tally.columns:
            if column.values is None or not len(column.values):
                continue
            values = pa.array(column.values.table.index.tolist(), pa.string())
            digests = pc.utf8_trim_whitespace(values.filter(looks_like_digest(values)))
            lengths.update(pc.unique(pc.binary_length(digests)).to_pylist())
    if not lengths:
        return set()
    if candidates is None:
        return None
    return plain_digests(sorted(candidates), enumerate_domains=True, lengths=lengths)


def _record(check: RuleCheck, rows: Sequence[int], texts: Sequence[str], samples: int) -> None:
    """Add first failing rows and masked examples, up to 10 rows and ``samples`` examples."""
    if len(check.rows) < 10:
        check.rows += list(rows[: 10 - len(check.rows)])
    if len(check.samples) < samples:
        check.samples += list(texts[: samples - len(check.samples)])


def _settle_column(check: RuleCheck, column: ColumnRuleTally, hashed: set[str] | None) -> Firsts:
    """Add one column's failing cells to ``check``; its first failing cells, masked."""
    rule = check.rule
    check.columns.append(column.column)
    check.cells += column.cells
    check.problems += column.problems
    check.violations += column.failing
    firsts = column.firsts
    if rule.treatment in CHECKED_ON_VALUES and not column.cells and check.unverifiable is None:
        check.unverifiable = NOTE_EMPTY.format(column=column.column, treatment=rule.treatment)
    if rule.treatment in HASH_TREATMENTS and column.cells:
        if column.overflow or column.values is None:
            check.unverifiable = ERR_TOO_MANY_VALUES.format(limit=0, column=column.column)
            return firsts
        if hashed is None:
            check.unverifiable = ERR_TOO_MANY_CANDIDATES
            return firsts
        firsts = _by_value(check, column.values, hashed, firsts)
    return firsts


def _by_value(check: RuleCheck, values: ValueTable, hashed: set[str], firsts: Firsts) -> Firsts:
    """Count the cells failing by their value: a plain hash, or a value that repeats."""
    table = values.table
    text = pd.Series(table.index, index=table.index, dtype=object).str.strip()
    plain = text.isin(hashed) | text.str.lower().isin(hashed)
    bad = np.array(plain, dtype=np.bool_)
    if plain.any():
        check.problems["unsalted hash"] += int(table["count"][plain].sum())
    if not check.rule.linkable:
        repeated = (table["count"] > 1).to_numpy()
        if repeated.any():
            check.problems["linkable"] += int(table["count"][repeated].sum())
        bad |= repeated
    if not bad.any():
        return firsts
    check.violations += int((table["count"] - table["failing"])[bad].sum())
    chosen = table[bad]
    first = chosen["first"].nsmallest(KEPT)
    flagged = set(chosen.index)
    pairs: list[tuple[int, Any]] = list(zip(first.tolist(), first.index, strict=True))
    pairs += [(row, value) for row, value in values.repeats if value in flagged]
    return firsts.merge(Firsts.of((row, mask_sample(value or "")) for row, value in pairs))

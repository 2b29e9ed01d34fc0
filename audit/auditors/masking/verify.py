"""Masking verification: whether the data as delivered obeys each rule of the policy.

Per rule, every governed cell is checked against the treatment (see
:data:`~audit.auditors.masking.config.Treatment`) and each failing cell is counted once,
with the kinds of problem found: ``raw value`` (the scanner found the entity in it),
``not dropped``, ``not redacted``, ``keeps too many characters``, ``not a digest``,
``unsalted hash``, ``linkable`` (a value repeats across rows where the rule forbids
linking) and ``not generalized``.  Rules naming an entity also count every cell, in any
column, where that entity was found raw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.auditors.masking.config import MaskingRule
from audit.auditors.masking.hashes import looks_like_digest, plain_digests
from audit.auditors.masking.redact import mask_sample
from audit.auditors.masking.scanner import ColumnScan, column_text

__all__ = ["RuleCheck", "check_rules"]

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
VISIBLE = r"[A-WYZa-wyz0-9]"
"""Characters that count as kept by a mask (``x``/``X`` are mask characters)."""

HASH_TREATMENTS = ("hmac", "tokenize")
NOTE_MISSING = "column '{column}' is not in the data; its columns are: {columns}"


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
        return {"keeps too many characters": present & (kept > rule.keep_first + rule.keep_last)}
    if t == "hmac":
        return {"not a digest": present & ~_mask(looks_like_digest(text))}
    if t == "generalize":
        if rule.level == "digits":
            digits = pc.count_substring_regex(text, r"\d").fill_null(0)
            return {
                "not generalized": present & (digits.to_numpy(zero_copy_only=False) > rule.digits)
            }
        return {
            "not generalized": present
            & ~_mask(pc.match_substring_regex(text, GENERALIZED[rule.level]))
        }
    return {}


def _linkable(series: pd.Series, present: BoolArray) -> BoolArray:
    counts = series.map(series.value_counts(dropna=True))
    return np.asarray(present & (counts.fillna(0).to_numpy() > 1), dtype=np.bool_)


def _record(check: RuleCheck, failing: BoolArray, text: pa.Array | None, samples: int) -> None:
    rows = np.flatnonzero(failing)
    check.violations += len(rows)
    if len(check.rows) < 10:
        check.rows += rows[: 10 - len(check.rows)].tolist()
    if text is not None and len(check.samples) < samples and len(rows):
        picked = text.take(pa.array(rows[: samples - len(check.samples)])).to_pylist()
        check.samples += [mask_sample(v or "") for v in picked]


def check_rules(
    frame: pd.DataFrame,
    rules: Sequence[MaskingRule],
    scans: Mapping[str, ColumnScan],
    *,
    max_chars: int,
    samples: int,
) -> list[RuleCheck]:
    """Check every rule against the delivered ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data as delivered.
    rules : sequence of MaskingRule
        The policy's rules.
    scans : mapping of str to ColumnScan
        What the scanner found, per column.
    max_chars : int
        Cells are checked up to this many characters.
    samples : int
        Masked examples kept per rule.

    Returns
    -------
    list of RuleCheck
        One per rule, in order.
    """
    digest_columns = {
        c for r in rules if r.treatment in HASH_TREATMENTS for c in r.columns if c in frame.columns
    }
    hashed = pa.array(list(_plain_hashes(frame, digest_columns, scans, max_chars)), pa.string())
    checks = []
    for rule in rules:
        check = RuleCheck(rule)
        for column in rule.columns:
            if column not in frame.columns:
                if rule.treatment != "drop":
                    check.unverifiable = NOTE_MISSING.format(
                        column=column, columns=", ".join(map(str, frame.columns[:20]))
                    )
                continue
            _check_column(check, frame, column, scans.get(column), hashed, max_chars, samples)
        if rule.entity is not None:
            for scan in scans.values():
                hits = scan.hits.get(rule.entity)
                if hits is None or scan.column in rule.columns or rule.treatment == "keep":
                    continue
                check.columns.append(scan.column)
                check.cells += len(hits.rows)
                check.violations += len(hits.rows)
                check.problems["raw value"] += len(hits.rows)
                if len(check.rows) < 10:
                    check.rows += hits.rows[: 10 - len(check.rows)].tolist()
                if len(check.samples) < samples:
                    shown = hits.texts[: samples - len(check.samples)].to_pylist()
                    check.samples += [mask_sample(t) for t in shown]
        checks.append(check)
    return checks


def _candidates(scans: Mapping[str, ColumnScan]) -> list[str]:
    """Every distinct value the scanner found, in any column."""
    texts = [h.texts for scan in scans.values() for h in scan.hits.values() if len(h.texts)]
    if not texts:
        return []
    values: list[str] = pc.unique(pa.concat_arrays(texts)).to_pylist()
    return values


def _plain_hashes(
    frame: pd.DataFrame, columns: set[str], scans: Mapping[str, ColumnScan], max_chars: int
) -> set[str]:
    """Plain digests, of a value found or of a small domain, spelled as in ``columns``.

    Only the algorithms and spellings whose lengths occur among the digests of
    ``columns`` are computed; the cells are then matched against them in one vectorised
    pass (see :func:`_check_column`), never turned into Python strings.
    """
    lengths: set[int] = set()
    for column in columns:
        text, _ = column_text(frame[column], max_chars)
        if text is None:
            continue
        digests = pc.utf8_trim_whitespace(text.filter(looks_like_digest(text).fill_null(False)))
        lengths.update(pc.unique(pc.binary_length(digests)).to_pylist())
    if not lengths:
        return set()
    return plain_digests(_candidates(scans), enumerate_domains=True, lengths=lengths)


def _check_column(
    check: RuleCheck,
    frame: pd.DataFrame,
    column: str,
    scan: ColumnScan | None,
    hashed: pa.Array,
    max_chars: int,
    samples: int,
) -> None:
    rule = check.rule
    check.columns.append(column)
    series = frame[column]
    text, _ = column_text(
        series.astype("string") if rule.treatment != "drop" else series, max_chars
    )
    present = series.notna().to_numpy().copy()
    if text is not None:
        present &= _mask(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0))
    check.cells += int(present.sum())
    if rule.treatment == "keep" or text is None:
        return
    problems = _format_problems(rule, text, present)
    if scan is not None and rule.treatment != "drop":
        raw = np.zeros(len(frame), dtype=np.bool_)
        for hits in scan.hits.values():
            raw[hits.rows] = True
        problems["raw value"] = raw & present
    if rule.treatment in HASH_TREATMENTS and len(hashed):
        stripped = pc.utf8_trim_whitespace(text)
        plain = pc.or_(
            pc.is_in(stripped, value_set=hashed),
            pc.is_in(pc.utf8_lower(stripped), value_set=hashed),
        )
        problems["unsalted hash"] = present & _mask(plain)
    if rule.treatment in HASH_TREATMENTS and not rule.linkable:
        problems["linkable"] = _linkable(series, present)
    failing = np.zeros(len(frame), dtype=np.bool_)
    for kind, cells in problems.items():
        if cells.any():
            check.problems[kind] += int(cells.sum())
            failing |= cells
    _record(check, failing, text, samples)

"""What the masking auditor counts in some rows of a table, mergeable across chunks.

The in-memory engine tallies the whole table at once; the chunked and Dask engines
tally each chunk (:meth:`~audit.auditors.masking.auditor.MaskingAuditor.tally`) and
merge the tallies in any order.  Everything the findings read adds up exactly:

* per column and entity, the cells found, and the first rows with their values;
* per rule and column, the failing cells by problem, and the first failing rows with a
  masked example each (:class:`~audit.auditors.masking.bounded.Firsts`);
* the equivalence classes of the quasi-identifiers, with their sizes and distinct
  sensitive values (:class:`~audit.auditors.masking.risk.ClassTally`);
* for the plain-hash and linkability checks, which need every chunk at once: the
  distinct values of the hashed columns, and every distinct PII value found.  These
  cost memory in proportion to the distinct values, so each is capped at the policy's
  ``max_hash_values`` on the chunked and Dask engines; past the cap the affected rules
  are not verifiable, and say so.

Memory otherwise: a few integers per column, entity and rule, the first
:data:`~audit.auditors.masking.bounded.KEPT` rows of each, and one entry per
equivalence class.

Approximations (none on the in-memory engine): whether a column is free text is decided
per chunk on a sample when the share of several-word cells is clearly above or below
one half, and the shares are added up weighted by cells; NER and the anchored
whole-cell pass follow each chunk's own decision.  A float column is scanned as whole
numbers when every value of the chunk is one, so a chunk without fractions is scanned
where the whole column, with a fraction elsewhere, would not be.  On every engine alike,
the first rows shown for an 'hmac' or 'tokenize' rule with ``linkable: true`` take a
plain hash's repeated cells from the table's first
:data:`~audit.auditors.masking.bounded.KEPT` repeats of any digest only (counts are exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.auditors.masking.bounded import KEPT, Firsts
from audit.auditors.masking.config import MaskingConfig
from audit.auditors.masking.ner import NerEngine
from audit.auditors.masking.patterns import Recognizer
from audit.auditors.masking.risk import ClassTally, tally_classes
from audit.auditors.masking.scanner import ColumnScan, scan_table
from audit.auditors.masking.text import NOTE_DECODED, NOTE_TRUNCATED
from audit.auditors.masking.verify import HASH_TREATMENTS, RuleTally, tally_rules

__all__ = ["ColumnFindings", "EntityTally", "MaskingTally", "risk_problem", "tally_table"]

ERR_NO_QI = "the policy's 'auditors.masking' block names no quasi_identifiers"
ERR_MISSING_COLUMNS = "{what} column(s) {names} not in the data; its columns are: {columns}"


@dataclass
class EntityTally:
    """One entity in one column: cells, first rows with the value found, recognizers."""

    cells: int
    firsts: Firsts
    recognizers: set[str]
    score: float

    def merge(self, other: EntityTally) -> EntityTally:
        """Both tallies' cells."""
        return EntityTally(
            self.cells + other.cells,
            self.firsts.merge(other.firsts),
            self.recognizers | other.recognizers,
            max(self.score, other.score),
        )


@dataclass
class ColumnFindings:
    """What the scanner found in one column, over some rows (mergeable).

    Attributes
    ----------
    column : str
        The column.
    cells : int
        Non-empty cells scanned.
    wordy : float
        Cells holding several words (estimated on a sample when clearly few or many).
    decoded, truncated : int
        Cells decoded from non-text values; cells cut to the scanned length.
    ner_notes : list of str
        What the NER pipeline noted.
    hits : dict of str to EntityTally
        Per entity found.
    """

    column: str
    cells: int = 0
    wordy: float = 0.0
    decoded: int = 0
    truncated: int = 0
    ner_notes: list[str] = field(default_factory=list)
    hits: dict[str, EntityTally] = field(default_factory=dict)

    @property
    def free_text(self) -> bool:
        """Most non-empty cells hold several words: a free-text column."""
        return self.cells > 0 and self.wordy >= 0.5 * self.cells

    def holds(self, entity: str, share: float) -> bool:
        """Whether at least ``share`` of the non-empty cells hold ``entity``."""
        found = self.hits.get(entity)
        return found is not None and self.cells > 0 and found.cells >= share * self.cells

    def notes(self, max_chars: int) -> list[str]:
        """What was noted while scanning: decoded and cut cells, NER's notes."""
        notes = [NOTE_DECODED.format(n=self.decoded)] if self.decoded else []
        if self.truncated:
            notes.append(NOTE_TRUNCATED.format(n=self.truncated, limit=max_chars))
        return notes + self.ner_notes

    def merge(self, other: ColumnFindings) -> ColumnFindings:
        """Both tallies' cells (of the same column)."""
        hits = dict(self.hits)
        for entity, found in other.hits.items():
            hits[entity] = hits[entity].merge(found) if entity in hits else found
        order = [e for e in self.hits] + [e for e in other.hits if e not in self.hits]
        return ColumnFindings(
            self.column,
            self.cells + other.cells,
            self.wordy + other.wordy,
            self.decoded + other.decoded,
            self.truncated + other.truncated,
            list(dict.fromkeys(self.ner_notes + other.ner_notes)),
            {e: hits[e] for e in order},
        )

    @staticmethod
    def of(scan: ColumnScan, offset: int) -> ColumnFindings:
        """The findings of one scan of rows starting at ``offset`` in the table."""
        hits = {}
        for entity, found in scan.hits.items():
            rows = (found.rows[:KEPT] + offset).tolist()
            texts = found.texts[:KEPT].to_pylist()
            hits[entity] = EntityTally(
                len(found.rows),
                Firsts(tuple(rows), tuple(texts)),
                set(found.recognizers),
                found.score,
            )
        return ColumnFindings(
            scan.column,
            scan.cells,
            scan.wordy * scan.cells,
            scan.decoded,
            scan.truncated,
            list(scan.ner_notes),
            hits,
        )


@dataclass
class MaskingTally:
    """Everything the masking auditor counted in some rows of a table (mergeable).

    Attributes
    ----------
    rows : int
        Rows counted.
    columns : list of ColumnFindings
        Per scanned column, in table order.
    rules : list of RuleTally
        Per rule, in policy order.
    candidates : set of str or None
        Every distinct value found, when a hashed column is present (else empty);
        ``None`` past ``limit``.
    classes : ClassTally or None
        The equivalence classes; ``None`` when ``risk_problem`` says why not.
    limit : int or None
        Most distinct values kept for the hash checks (``None``: no cap).
    """

    rows: int
    columns: list[ColumnFindings]
    rules: list[RuleTally]
    candidates: set[str] | None
    classes: ClassTally | None
    risk_problem: str | None
    limit: int | None = None

    def merge(self, other: MaskingTally) -> MaskingTally:
        """The tally of both tallies' rows (chunks of the same table)."""
        if [c.column for c in self.columns] != [c.column for c in other.columns]:
            raise ValueError("cannot merge masking tallies of tables with other columns.")
        candidates = None
        if self.candidates is not None and other.candidates is not None:
            candidates = self.candidates | other.candidates
            if self.limit is not None and len(candidates) > self.limit:
                candidates = None
        classes = None
        if self.classes is not None and other.classes is not None:
            classes = self.classes.merge(other.classes)
        return MaskingTally(
            self.rows + other.rows,
            [a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)],
            [a.merge(b, self.limit) for a, b in zip(self.rules, other.rules, strict=True)],
            candidates,
            classes,
            self.risk_problem or other.risk_problem,
            self.limit,
        )


def risk_problem(columns: Sequence[str], settings: MaskingConfig) -> str | None:
    """Why k and l cannot be measured on a table with ``columns``, or ``None``."""
    if not settings.quasi_identifiers:
        return ERR_NO_QI
    wanted = [*settings.quasi_identifiers]
    if settings.sensitive_attribute:
        wanted.append(settings.sensitive_attribute)
    missing = [c for c in wanted if c not in columns]
    if missing:
        return ERR_MISSING_COLUMNS.format(
            what="quasi-identifier or sensitive",
            names=", ".join(repr(c) for c in missing),
            columns=", ".join(map(str, list(columns)[:20])),
        )
    return None


def _candidates(scans: Sequence[ColumnScan]) -> set[str]:
    """Every distinct value the scanner found, in any column."""
    texts = [h.texts for scan in scans for h in scan.hits.values() if len(h.texts)]
    if not texts:
        return set()
    return set(pc.unique(pa.concat_arrays(texts)).to_pylist())


def tally_table(
    frame: pd.DataFrame,
    settings: MaskingConfig,
    recognizers: Sequence[Recognizer],
    ner: NerEngine | None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> MaskingTally:
    """Scan ``frame`` (rows of a table from ``offset`` on), check the rules, count classes.

    ``limit`` caps the distinct values kept for the hash checks (``None``: no cap).
    """
    scans = scan_table(
        frame,
        recognizers,
        skip=settings.skip_columns,
        max_chars=settings.max_cell_chars,
        ner=ner,
    )
    rules = tally_rules(
        frame,
        settings.rules,
        {s.column: s for s in scans},
        max_chars=settings.max_cell_chars,
        offset=offset,
    )
    hashed = any(
        c in frame.columns
        for r in settings.rules
        if r.treatment in HASH_TREATMENTS
        for c in r.columns
    )
    candidates: set[str] | None = _candidates(scans) if hashed else set()
    if limit is not None and candidates is not None and len(candidates) > limit:
        candidates = None
    problem = risk_problem([str(c) for c in frame.columns], settings)
    classes = None
    if problem is None:
        classes = tally_classes(frame, settings.quasi_identifiers, settings.sensitive_attribute)
    return MaskingTally(
        len(frame),
        [ColumnFindings.of(scan, offset) for scan in scans],
        rules,
        candidates,
        classes,
        problem,
        limit,
    )

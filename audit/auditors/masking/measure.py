"""What the masking auditor measures in a table, as plain numbers.

:func:`measure` turns the (merged) :class:`~audit.auditors.masking.tally.MaskingTally`
of a table into :class:`TableMeasures`: the PII cells per entity, each rule's check,
k and l.  Nothing here builds a report table (:mod:`~audit.auditors.masking.evidence`
does).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from audit.auditors.masking.config import MaskingConfig
from audit.auditors.masking.risk import Risk, risk_of
from audit.auditors.masking.tally import ColumnFindings, MaskingTally
from audit.auditors.masking.verify import (
    ERR_TOO_MANY_CANDIDATES,
    HASH_TREATMENTS,
    EntityCells,
    RuleCheck,
    settle_rules,
)

__all__ = ["TableMeasures", "kept", "measure"]


@dataclass(frozen=True)
class TableMeasures:
    """Everything the masking auditor measured in one table.

    Attributes
    ----------
    rows : int
        Rows of the table.
    columns : list of ColumnFindings
        What the scanner found, per column.
    checks : list of RuleCheck
        One per masking rule, in order.
    risk : Risk or None
        k, l and the classes; ``None`` when they could not be measured (``risk_problem``).
    risk_problem : str or None
        Why the risk was not measured.
    unmasked, free : collections.Counter
        Cells holding raw PII per entity (outside what a 'keep' rule allows); those in
        free-text columns.
    unsalted : int or None
        Cells of hashed columns holding a plain hash; ``None`` when not checked
        (``unsalted_problem``).
    unsalted_problem : str or None
        Why no cell was checked for a plain hash, when none was.
    pii_columns : int
        Columns (not kept raw) holding an entity in at least the policy's share of cells.
    warnings : list of str
        What was noted while scanning, per column.
    """

    rows: int
    columns: list[ColumnFindings]
    checks: list[RuleCheck]
    risk: Risk | None
    risk_problem: str | None
    unmasked: Counter[str]
    free: Counter[str]
    unsalted: int | None
    unsalted_problem: str | None
    pii_columns: int
    warnings: list[str]


ERR_NO_HASHED_COLUMNS = (
    "no column present in the data is governed by an 'hmac' or 'tokenize' rule and has a "
    "non-empty cell, so no value was checked for being a plain hash; name the hashed "
    "columns in the masking rules"
)


def kept(settings: MaskingConfig) -> tuple[set[str], set[str]]:
    """Columns and entities a 'keep' rule allows raw."""
    columns = {c for r in settings.rules if r.treatment == "keep" for c in r.columns}
    entities = {
        r.entity for r in settings.rules if r.treatment == "keep" and r.entity and not r.columns
    }
    return columns, entities


def _unsalted(checks: list[RuleCheck]) -> tuple[int | None, str | None]:
    hashed = [c for c in checks if c.rule.treatment in HASH_TREATMENTS and c.columns and c.cells]
    if not hashed:
        return None, ERR_NO_HASHED_COLUMNS
    unverifiable = [c.unverifiable for c in hashed if c.unverifiable]
    if ERR_TOO_MANY_CANDIDATES in unverifiable or any("max_hash_values" in u for u in unverifiable):
        return None, next(u for u in unverifiable if "max_hash_values" in u)
    return sum(c.problems.get("unsalted hash", 0) for c in checks), None


def measure(tally: MaskingTally, settings: MaskingConfig) -> TableMeasures:
    """The measures of a table from the merged tally of its rows (at least one row)."""
    found: dict[str, list[EntityCells]] = {}
    for column in tally.columns:
        for entity, hits in column.hits.items():
            found.setdefault(entity, []).append(EntityCells(column.column, hits.cells, hits.firsts))
    checks = settle_rules(
        settings.rules, tally.rules, found, tally.candidates, samples=settings.samples
    )
    risk = None
    if tally.classes is not None:
        risk = risk_of(tally.classes, k_target=settings.k_target, l_target=settings.l_target)
    kept_columns, kept_entities = kept(settings)
    unmasked: Counter[str] = Counter()
    free: Counter[str] = Counter()
    for column in tally.columns:
        for entity, hits in column.hits.items():
            if column.column in kept_columns or entity in kept_entities:
                continue
            unmasked[entity] += hits.cells
            if column.free_text:
                free[entity] += hits.cells
    unsalted, unsalted_problem = _unsalted(checks)
    return TableMeasures(
        rows=tally.rows,
        columns=tally.columns,
        checks=checks,
        risk=risk,
        risk_problem=tally.risk_problem,
        unmasked=unmasked,
        free=free,
        unsalted=unsalted,
        unsalted_problem=unsalted_problem,
        pii_columns=sum(
            1
            for c in tally.columns
            if any(c.holds(e, settings.column_share) for e in c.hits)
            and c.column not in kept_columns
        ),
        warnings=[
            f"column '{c.column}': {note}"
            for c in tally.columns
            for note in c.notes(settings.max_cell_chars)
        ],
    )

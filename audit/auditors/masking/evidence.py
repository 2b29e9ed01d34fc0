"""The masking auditor's evidence: its measurements in tables and words, masked.

Nothing here measures; every number comes from :mod:`~audit.auditors.masking.measure`
(or a probe run).  Raw values never appear: examples are masked (``j***@e***.com``)
and cells are located by row position only.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.auditors.masking.probes import ProbeRun
from audit.auditors.masking.redact import mask_sample
from audit.auditors.masking.risk import Risk
from audit.auditors.masking.tally import ColumnFindings
from audit.auditors.masking.verify import RuleCheck
from audit.core.measurements import EvidenceTable

__all__ = [
    "first_rows",
    "pii_table",
    "probe_table",
    "risk_table",
    "rule_evidence",
    "rule_target",
    "rules_table",
]


def rule_target(check: RuleCheck) -> str:
    """What a rule governs, in words: its treatment, columns and entity."""
    rule = check.rule
    where = ", ".join(rule.columns)
    if rule.entity:
        where = f"{where}; {rule.entity} anywhere" if where else f"{rule.entity} anywhere"
    return f"{rule.treatment} of {where}"


def rule_evidence(check: RuleCheck) -> str:
    """What one rule's check found, in words, with masked examples only."""
    if check.unverifiable:
        return f"not verifiable: {check.unverifiable}"
    if not check.violations:
        return f"obeyed in {check.cells:,} cell(s) checked"
    problems = ", ".join(f"{k}: {n:,}" for k, n in sorted(check.problems.items()))
    shown = f"; masked examples: {'; '.join(check.samples)}" if check.samples else ""
    return (
        f"{check.violations:,} of {check.cells:,} cell(s) break it ({problems}){shown}; "
        f"first rows: {first_rows(check.rows)}"
    )


def probe_table(run: ProbeRun, prompts: Sequence[str]) -> EvidenceTable:
    """The probe answers that held PII: prompt, entity and a masked example (never the answer)."""

    def shown(index: int) -> str:
        prompt = " ".join(prompts[index].split())
        return prompt if len(prompt) <= 60 else prompt[:59] + "\N{HORIZONTAL ELLIPSIS}"

    rows = [
        (leak.prompt + 1, shown(leak.prompt), leak.entity, leak.masked, leak.recognizers)
        for leak in run.leaks
    ]
    return EvidenceTable(
        title="Output leakage: PII in the answers to probe prompts",
        columns=("Prompt #", "Prompt", "Entity", "Masked example", "Recognizers"),
        rows=tuple(rows),
        caption=f"{run.sent} prompt(s) sent to {run.endpoint}; answers are never shown, "
        "only the masked first match of each entity.",
    )


def first_rows(rows: Sequence[int], *, more: bool = False) -> str:
    """The first ten row positions, with an ellipsis when there are more (or ``more``)."""
    more = more or len(rows) > 10
    return ", ".join(str(r) for r in rows[:10]) + (", ..." if more else "")


def pii_table(columns: Sequence[ColumnFindings], samples: int) -> EvidenceTable:
    """The PII found, one row per column and entity, with masked examples."""
    rows = []
    for column in columns:
        for entity, hits in sorted(column.hits.items()):
            rows.append(
                (
                    column.column,
                    entity,
                    hits.cells,
                    hits.cells / column.cells if column.cells else None,
                    hits.score,
                    ", ".join(sorted(hits.recognizers)),
                    "yes" if column.free_text else "no",
                    "; ".join(mask_sample(t) for t in hits.firsts.texts[:samples]),
                    first_rows(hits.firsts.rows[:10], more=hits.cells > 10),
                )
            )
    return EvidenceTable(
        title="PII found, by column",
        columns=(
            "Column",
            "Entity",
            "Cells",
            "Share of non-empty cells",
            "Confidence",
            "Recognizers",
            "Free text",
            "Masked examples",
            "First rows",
        ),
        rows=tuple(rows),
        caption="Raw values are never shown: examples keep each word's first character; "
        "rows are positions in the data (0 is the first row).",
    )


def rules_table(checks: Sequence[RuleCheck]) -> EvidenceTable:
    """Each masking rule's check: cells, violations, problems and masked examples."""
    rows = []
    for c in checks:
        status = "not verifiable" if c.unverifiable else "violated" if c.violations else "obeyed"
        problems = "; ".join(f"{k}: {n}" for k, n in sorted(c.problems.items()))
        rows.append(
            (
                c.rule.id,
                c.rule.treatment,
                ", ".join(c.columns) or (c.unverifiable and "(missing)") or "-",
                c.rule.entity or "",
                c.cells,
                c.violations,
                status,
                problems or c.unverifiable or "",
                "; ".join(c.samples),
                first_rows(c.rows),
            )
        )
    return EvidenceTable(
        title="Masking rules",
        columns=(
            "Rule",
            "Treatment",
            "Columns",
            "Entity",
            "Cells checked",
            "Violations",
            "Status",
            "Problems",
            "Masked examples",
            "First rows",
        ),
        rows=tuple(rows),
        caption="Each failing cell counts once, whatever number of problems it has.",
    )


def risk_table(risk: Risk) -> EvidenceTable:
    """The equivalence classes by size bucket (no quasi-identifier value is shown)."""
    return EvidenceTable(
        title="Equivalence classes by size",
        columns=("Class size", "Classes", "Rows"),
        rows=tuple(risk.histogram),
        caption=f"{risk.classes} classes over {risk.rows} rows; values of the "
        "quasi-identifiers are not shown.",
    )

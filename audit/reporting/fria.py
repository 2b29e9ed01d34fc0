"""The fundamental-rights impact assessment of EU AI Act Art. 27, arranged from an audit.

Regulation (EU) 2024/1689, Art. 27(1), binds deployers (not providers) of the high-risk
AI systems of Art. 6(2) (Annex III point 2 excepted) that are bodies governed by public
law or private entities providing public services, and deployers of the systems of
Annex III points 5(b) and (c): before deploying, they "shall perform an assessment
consisting of" points (a) to (f), quoted in :data:`ELEMENTS`.

An audit can give evidence for two of them: for (c), the sensitive columns it audited
and the groups it found in the data; for (d), its fairness findings with their figures
and, where the explanations auditor ran, its findings (e.g. proxies of a sensitive
column).  Everything else (the deployer's processes, the period and frequency of use,
human oversight, the measures and complaint mechanisms, and the specific context of
(c) and (d)) only the deployer can state: each element names the statement that states
it (``report.statements`` in the policy, ``maas-audit run --statement ID=TEXT``) and is
a to-do until it is given.  Nothing is computed here: figures are the findings' own.
The section appears when the policy asks for it (``report: {sections: [eu-fria]}``, as
the ``eu-ai-act-high-risk`` pack does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["ELEMENTS", "SECTION", "FriaElement", "FriaEvidence", "FriaSection", "fria_section"]

SECTION = "eu-fria"
"""The policy's ``report.sections`` entry that adds this section to the report."""

ELEMENTS = (
    (
        "a",
        "fria-processes",
        "a description of the deployer\u2019s processes in which the high-risk AI system will "
        "be used in line with its intended purpose",
    ),
    (
        "b",
        "fria-period-frequency",
        "a description of the period of time within which, and the frequency with which, "
        "each high-risk AI system is intended to be used",
    ),
    (
        "c",
        "fria-affected-persons",
        "the categories of natural persons and groups likely to be affected by its use in "
        "the specific context",
    ),
    (
        "d",
        "fria-risks",
        "the specific risks of harm likely to have an impact on the categories of natural "
        "persons or groups of persons identified pursuant to point (c) of this paragraph, "
        "taking into account the information given by the provider pursuant to Article 13",
    ),
    (
        "e",
        "fria-human-oversight",
        "a description of the implementation of human oversight measures, according to the "
        "instructions for use",
    ),
    (
        "f",
        "fria-measures",
        "the measures to be taken in the case of the materialisation of those risks, "
        "including the arrangements for internal governance and complaint mechanisms",
    ),
)
"""Each point of Art. 27(1): its letter, the statement id that answers it, and its words
(as in the Official Journal text, OJ L, 12.7.2024)."""

TO_BE_STATED = "To do: to be stated by the deployer (maas-audit run --statement {id}=...)."
FAIRNESS = "fairness"
EXPLANATIONS = "explanations"
TABLE_PREFIX = "Selection rates by "
"""The fairness auditor's per-group tables, one per sensitive column or combination."""


@dataclass(frozen=True)
class FriaEvidence:
    """One thing the audit found that bears on an element, with a link to it."""

    text: str
    """The finding's own summary, or the groups of a breakdown with their row counts."""
    outcome: str = ""
    """The finding's verdict in words (PASS/FAIL, or against a benchmark); empty for groups."""
    anchor: str = ""
    """The report's element id of the finding, e.g. ``finding-3``; empty for groups."""


@dataclass(frozen=True)
class FriaElement:
    """One point of Art. 27(1): what it asks, the audit's evidence, the deployer's statement."""

    point: str
    """The letter, ``a`` to ``f``."""
    asks: str
    statement_id: str
    statement: str
    """The deployer's statement as given; empty when it is still to be given."""
    evidence: tuple[FriaEvidence, ...] = ()

    @property
    def todo(self) -> str:
        """What is still to be done for this element; empty once the deployer stated it."""
        return "" if self.statement else TO_BE_STATED.format(id=self.statement_id)


@dataclass(frozen=True)
class FriaSection:
    """The elements of the assessment, in the order of Art. 27(1)."""

    elements: tuple[FriaElement, ...]
    sensitive: tuple[str, ...]
    """The sensitive columns the audit read."""

    @property
    def todos(self) -> tuple[FriaElement, ...]:
        """The elements the deployer has yet to state."""
        return tuple(e for e in self.elements if e.todo)


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _groups(result: AuditResult) -> tuple[FriaEvidence, ...]:
    """Each breakdown's groups with their row counts, from the fairness auditor's tables."""
    evidence = []
    for output in result.outputs:
        if output.auditor != FAIRNESS:
            continue
        for table in output.tables:
            if not table.title.startswith(TABLE_PREFIX):
                continue
            columns = table.columns
            if "group" not in columns or "rows" not in columns:
                continue
            cells = [dict(zip(columns, row, strict=True)) for row in table.rows]
            groups = ", ".join(f"{c['group']} ({_count(c['rows'])} rows)" for c in cells)
            evidence.append(FriaEvidence(f"{table.title[len(TABLE_PREFIX) :]}: {groups}"))
    return tuple(evidence)


def _findings(result: AuditResult, auditors: frozenset[str]) -> tuple[FriaEvidence, ...]:
    """The findings of the given auditors, numbered as the report's summary numbers them."""
    return tuple(
        FriaEvidence(f.summary, result.outcome(f), f"finding-{i}")
        for i, f in enumerate(result.findings, start=1)
        if f.auditor in auditors
    )


def fria_section(result: AuditResult) -> FriaSection | None:
    """Arrange the Art. 27(1) elements with the audit's evidence and the deployer's statements.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    FriaSection or None
        ``None`` unless the policy asks for the section (:data:`SECTION`).
    """
    if SECTION not in result.policy.report_sections:
        return None
    statements: Mapping[str, str] = result.details.statements
    evidence = {
        "c": _groups(result),
        "d": _findings(result, frozenset({FAIRNESS, EXPLANATIONS})),
    }
    sensitive = result.data.get("sensitive") or ()
    return FriaSection(
        elements=tuple(
            FriaElement(point, asks, sid, statements.get(sid, ""), evidence.get(point, ()))
            for point, sid, asks in ELEMENTS
        ),
        sensitive=tuple(str(column) for column in sensitive),
    )

"""The audit as a short Markdown summary: a CI job summary or a pull-request comment.

It holds the overall verdict, one table row per finding (requirement, grouping, verdict,
measured value against the threshold, worst group), a table per law when the policy combines
several, the reasons of findings that could not be established, and links to the full
reports.  The HTML report remains the document of
record; this summary only points at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from audit.core.findings import Finding, Verdict
from audit.core.secrets import redact
from audit.reporting.formats import (
    compared_threshold,
    format_measured,
    format_threshold,
)
from audit.reporting.write import write_atomic

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["render_markdown", "write_markdown"]

_MARK = {Verdict.PASS: "✅ PASS", Verdict.FAIL: "❌ FAIL", Verdict.INCONCLUSIVE: "⚠️ INCONCLUSIVE"}


def _cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell: one line, pipes and markup escaped."""
    flat = " ".join(str(text).split())
    for char in ("\\", "|", "*", "_", "`", "<", ">", "[", "]"):
        flat = flat.replace(char, "\\" + char)
    return flat


def _code(text: str) -> str:
    """``text`` as an inline code span inside a table cell."""
    flat = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{flat}`"


def _row(finding: Finding, outcome: str) -> str:
    grouping = " × ".join(finding.grouping) if finding.grouping else "all rows"
    cells = (
        _code(finding.requirement_id),
        _cell(grouping),
        f"{_MARK[finding.verdict]}" if outcome == finding.verdict.value else _cell(outcome),
        finding.severity.value,
        f"{format_measured(finding)} ({_cell(finding.comparison)}{_limit(finding)})",
        _cell(finding.worst_group or "—"),
    )
    return "| " + " | ".join(cells) + " |"


def _limit(finding: Finding) -> str:
    """`` 0.8`` after the comparison's name; nothing for ``established``, which has none."""
    threshold = compared_threshold(finding.comparison, finding.threshold)
    return "" if threshold is None else f" {format_threshold(threshold)}"


def render_markdown(result: AuditResult, *, links: Mapping[str, str] | None = None) -> str:
    """A Markdown summary of ``result``.

    Parameters
    ----------
    result : AuditResult
        The audit to summarise.
    links : mapping of str to str, optional
        Artefacts to link, e.g. ``{"HTML report": "reports/audit/report.html"}``.

    Returns
    -------
    str
        Markdown text ending with a newline.
    """
    findings = result.findings
    applying = [f for f in findings if f.applies]
    counts = {v: sum(1 for f in applying if f.verdict is v) for v in Verdict}
    not_applicable = len(findings) - len(applying)
    lines = [
        f"## maas-audit: {_cell(result.policy.name)} {_cell(result.policy.version)}",
        "",
        f"**Overall: {_cell(str(result.verdict))}** — "
        f"{counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
        f"{counts[Verdict.INCONCLUSIVE]} inconclusive, "
        + (f"{not_applicable} not applicable, " if not_applicable else "")
        + f"of {len(findings)} findings.",
    ]
    groups = result.findings_by_regime()
    for regime, grouped in groups:
        if len(groups) > 1:  # several laws: a table each, headed by the pack or file
            heading = regime.title if regime else "Other requirements"
            lines += ["", f"### {_cell(heading)}"]
        lines += [
            "",
            "| requirement | groups | verdict | severity | measured (threshold) | worst group |",
            "|---|---|---|---|---|---|",
            *(_row(f, result.outcome(f)) for f in grouped),
        ]
    unsettled = [f for f in applying if f.verdict is Verdict.INCONCLUSIVE and f.reasons]
    for heading, listed in (
        ("Why some requirements could not be established", unsettled),
        ("Why some requirements did not apply", [f for f in findings if not f.applies]),
    ):
        if listed:
            lines += ["", f"### {heading}", ""]
        for finding in listed:
            reasons = "; ".join(_cell(r) for r in finding.reasons)
            lines.append(f"- {_code(finding.requirement_id)}: {reasons}")
    if links:
        lines += ["", "### Reports", ""]
        lines += [f"- {_cell(name)}: {_code(target)}" for name, target in links.items()]
    return redact("\n".join(lines) + "\n")


def write_markdown(
    result: AuditResult, path: str | Path, *, links: Mapping[str, str] | None = None
) -> Path:
    """Write the Markdown summary of ``result`` atomically to ``path``; returns the path."""
    return write_atomic(Path(path), render_markdown(result, links=links))

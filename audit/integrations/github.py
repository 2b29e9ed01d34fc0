"""GitHub Actions: a job summary and one annotation per requirement that did not pass.

Under GitHub Actions (``GITHUB_ACTIONS=true``), ``maas-audit run`` prints a workflow
command per finding that is not a PASS: ``::error`` for a blocking requirement (it fails
the gate), ``::warning`` for an advisory one.  Each points at the line of the policy file
where the requirement is declared, so that GitHub shows it on that line of a pull
request; a requirement from a shipped pack has no file in the repository and gets no
location.  When ``GITHUB_STEP_SUMMARY`` names a file, the Markdown summary
(:mod:`audit.reporting.markdown`) is appended to it, as GitHub expects.

Values are escaped as the workflow-command format requires (``%``, carriage return and
newline in messages; also ``:`` and ``,`` in properties), so a group label or a policy
title cannot end the command early or forge another one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit.core.findings import Finding, Verdict
from audit.reporting.markdown import render_markdown

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["SourceLine", "in_github_actions", "workflow_annotations", "write_step_summary"]


@dataclass(frozen=True)
class SourceLine:
    """Where a requirement is declared: a file in the repository and a 1-based line."""

    file: str
    line: int

    @classmethod
    def parse(cls, location: str) -> SourceLine | None:
        """``"policy.yaml:12:5"`` → ``SourceLine("policy.yaml", 12)``; a shipped pack → ``None``."""
        path, _, rest = location.rpartition(":")
        path, _, line = path.rpartition(":")
        if not path or path.startswith("pack:") or not line.isdigit() or not rest.isdigit():
            return None
        return cls(path, int(line))


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(finding: Finding, where: SourceLine | None, outcome: str) -> str:
    # a blocking requirement that does not apply to this audit gates nothing: a notice
    level = "error" if finding.gates else "warning" if finding.applies else "notice"
    grouping = " × ".join(finding.grouping) if finding.grouping else "all rows"
    title = f"{finding.requirement_id} ({grouping}): {outcome}"
    properties = [f"title={_escape_property(title)}"]
    if where is not None:
        properties = [
            f"file={_escape_property(where.file)}",
            f"line={where.line}",
            *properties,
        ]
    message = finding.summary
    if finding.reasons:
        message += " " + " ".join(finding.reasons)
    return f"::{level} {','.join(properties)}::{_escape_data(message)}"


def workflow_annotations(
    result: AuditResult, locations: Mapping[str, str] | None = None
) -> list[str]:
    """Workflow commands for every finding of ``result`` that is not a PASS.

    Parameters
    ----------
    result : AuditResult
        The audit.
    locations : mapping of str to str, optional
        ``"file:line:column"`` where each requirement id is declared (see
        :meth:`audit.policy.LoadedPolicy.locate`).

    Returns
    -------
    list of str
        One line per finding that did not pass: ``::error`` for a blocking one,
        ``::warning`` for an advisory one, ``::notice`` for one that does not apply.
    """
    where = {rid: SourceLine.parse(loc) for rid, loc in (locations or {}).items()}
    return [
        _annotation(f, where.get(f.requirement_id), result.outcome(f))
        for f in result.findings
        if f.verdict is not Verdict.PASS
    ]


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    """True when running as a GitHub Actions step."""
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def write_step_summary(
    result: AuditResult,
    *,
    links: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY``; ``None`` when it is not set."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as summary:
        summary.write(render_markdown(result, links=links))
    return path

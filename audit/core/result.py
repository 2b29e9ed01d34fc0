"""The result of one audit, as returned by :func:`audit.run_audit`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.core.details import AuditDetails
from audit.core.findings import Finding, Severity, Verdict
from audit.core.measurements import AuditorOutput
from audit.core.provenance import Provenance

__all__ = ["AuditResult", "PolicySummary", "RequirementSummary"]


@dataclass(frozen=True)
class RequirementSummary:
    """A policy requirement as the report states it."""

    id: str
    title: str
    citation: str
    auditor: str
    metric: str
    comparison: str
    threshold: float
    severity: Severity
    group_by: str
    description: str = ""


@dataclass(frozen=True)
class PolicySummary:
    """The resolved policy an audit ran against."""

    name: str
    version: str
    description: str
    sources: tuple[str, ...]
    """The policy file and every file or pack it extends, outermost first."""
    requirements: tuple[RequirementSummary, ...]
    report_sections: tuple[str, ...] = ()
    """Extra report sections the policy asks for, e.g. ``nyc-ll144-summary``."""


@dataclass(frozen=True)
class AuditResult:
    """Findings, measurements and provenance of one audit.

    ``passed`` is True only when every blocking requirement has a PASS verdict.
    """

    findings: tuple[Finding, ...]
    outputs: tuple[AuditorOutput, ...]
    policy: PolicySummary
    provenance: Provenance
    model: Mapping[str, Any]
    """The adapter's description (kind, location, settings; never credentials)."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Rows, column roles and positive label of the audited data."""
    details: AuditDetails = field(default_factory=AuditDetails)
    """What the person filing the audit stated: data source and dates, the sign-off."""

    @property
    def passed(self) -> bool:
        """True when no blocking finding is FAIL or INCONCLUSIVE."""
        return not any(f.blocks for f in self.findings)

    @property
    def verdict(self) -> Verdict:
        """PASS when passed; FAIL when a blocking finding failed; else INCONCLUSIVE."""
        if self.passed:
            return Verdict.PASS
        blocking = [f for f in self.findings if f.blocks]
        if any(f.verdict is Verdict.FAIL for f in blocking):
            return Verdict.FAIL
        return Verdict.INCONCLUSIVE

    def output(self, auditor: str) -> AuditorOutput | None:
        """The named auditor's output, if it ran."""
        return next((o for o in self.outputs if o.auditor == auditor), None)

    def to_dict(self) -> dict[str, Any]:
        """Every finding and number as plain JSON-safe data (see :mod:`audit.reporting.json`)."""
        from audit.reporting.json import result_to_dict

        return result_to_dict(self)

    def to_json(self, path: str | Path) -> Path:
        """Write the JSON report atomically to ``path``; returns the path."""
        from audit.reporting.json import write_json

        return write_json(self, Path(path))

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report atomically to ``path``; returns the path."""
        from audit.reporting.html import write_html

        return write_html(self, Path(path))

    def to_pdf(self, path: str | Path) -> Path:
        """Print the report to PDF with headless Chromium, atomically, to ``path``.

        Raises :class:`~audit.errors.UsageError` when Chromium is not available;
        see :mod:`audit.reporting.pdf`.
        """
        from audit.reporting.pdf import write_pdf

        return write_pdf(self, Path(path))

    def _repr_html_(self) -> str:
        from audit.reporting.html import render_html

        return render_html(self)

"""The result of one audit, as returned by :func:`audit.run_audit`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.core.details import AuditDetails, StatementRequest
from audit.core.findings import Finding, OverallVerdict, Severity, Verdict, overall_verdict
from audit.core.measurements import AuditorOutput
from audit.core.provenance import Provenance
from audit.core.renderers import renderers
from audit.core.wording import outcome_label
from audit.errors import AuditFailed, ExitCode

__all__ = ["AuditResult", "PolicySummary", "Regime", "RequirementSummary"]


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
    threshold_source: str = "law"
    """``law``: the cited text sets the threshold; ``benchmark``: a screening benchmark where
    the text sets none; ``policy``: the policy's own choice."""
    citation_verified: bool | None = None
    """Checked against the text it cites (``True``), could not be (``False``), not stated."""
    citation_checked: str = ""
    """When the citation was last checked, ``YYYY-MM-DD``."""
    source: str = ""
    """The policy file or pack that defined the requirement (``pack:nyc-ll144``); reports
    group findings by it when a policy's requirements come from more than one."""


@dataclass(frozen=True)
class Regime:
    """A policy file or pack that defined requirements of the policy an audit ran against."""

    source: str
    """As :attr:`RequirementSummary.source` names it, e.g. ``pack:nyc-ll144``."""
    name: str
    version: str
    description: str

    @property
    def title(self) -> str:
        """Its name and version, as reports head its findings."""
        return f"{self.name} {self.version}"


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
    statements: tuple[StatementRequest, ...] = ()
    """Statements the policy's cited texts ask for that the data cannot show."""
    regimes: tuple[Regime, ...] = ()
    """The files or packs that defined the requirements, in the order of their first
    requirement; more than one when the policy combines several (``extends: [a, b]``,
    or ``--policy a --policy b``)."""


@dataclass(frozen=True)
class AuditResult:
    """Findings, measurements and provenance of one audit.

    ``verdict`` is the overall verdict (exit code ``verdict.exit_code``); ``passed`` is True
    only when it is PASS: every blocking requirement measured and passed.  The report
    methods (``to_json``, ``to_html``, ``to_pdf``, ``_repr_html_``) call the writers that
    :mod:`audit.reporting` registers on import (see :mod:`audit.core.renderers`).
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
    def verdict(self) -> OverallVerdict:
        """The audit's overall verdict; PASS only when every blocking requirement passed.

        See :class:`~audit.core.findings.OverallVerdict`: a policy without blocking
        requirements gets ADVISORY (or INCONCLUSIVE when something could not be measured),
        never PASS.
        """
        return overall_verdict(self.findings)

    @property
    def passed(self) -> bool:
        """True when the overall verdict is PASS: every blocking requirement measured and passed."""
        return self.verdict is OverallVerdict.PASS

    @property
    def inconclusive(self) -> tuple[str, ...]:
        """The requirements (ids, in policy order) that at least one finding left INCONCLUSIVE."""
        ids = (f.requirement_id for f in self.findings if f.verdict is Verdict.INCONCLUSIVE)
        return tuple(dict.fromkeys(ids))

    def outcome(self, finding: Finding) -> str:
        """``finding``'s outcome in words: its verdict, or where it lies against a benchmark.

        A requirement whose cited text sets no threshold (``threshold_source: benchmark``)
        reads "Below benchmark" / "Within benchmark", never PASS or FAIL; one that does
        not apply reads "Not applicable", and ``compare: established`` "Established"; see
        :func:`audit.core.wording.outcome_label`.
        """
        requirement = next(
            (r for r in self.policy.requirements if r.id == finding.requirement_id), None
        )
        benchmark = requirement is not None and requirement.threshold_source == "benchmark"
        return outcome_label(
            finding.verdict, finding.comparison, benchmark=benchmark, applies=finding.applies
        )

    def findings_by_regime(self) -> tuple[tuple[Regime | None, tuple[Finding, ...]], ...]:
        """The findings grouped by the law (pack or file) that defined their requirement.

        With one regime, one group headed ``None`` holding every finding.  With several, a
        group per regime in the policy's order (regimes without findings left out), then
        the findings whose requirement no regime names, headed ``None``, if any.  The
        HTML, Markdown and JUnit reports all group this way.
        """
        regimes = self.policy.regimes
        if len(regimes) <= 1:
            return ((None, self.findings),)
        source = {r.id: r.source for r in self.policy.requirements}
        groups = [
            (r, tuple(f for f in self.findings if source.get(f.requirement_id) == r.source))
            for r in regimes
        ]
        known = {r.source for r in regimes}
        rest = tuple(f for f in self.findings if source.get(f.requirement_id) not in known)
        return tuple(g for g in groups if g[1]) + (((None, rest),) if rest else ())

    def output(self, auditor: str) -> AuditorOutput | None:
        """The named auditor's output, if it ran."""
        return next((o for o in self.outputs if o.auditor == auditor), None)

    def to_dict(self) -> dict[str, Any]:
        """Every finding and number as plain JSON-safe data (see :mod:`audit.reporting.json`)."""
        return renderers().to_dict(self)

    def to_json(self, path: str | Path) -> Path:
        """Write the JSON report atomically to ``path``; returns the path."""
        return renderers().write_json(self, Path(path))

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report atomically to ``path``; returns the path."""
        return renderers().write_html(self, Path(path))

    def to_pdf(self, path: str | Path) -> Path:
        """Print the report to PDF with headless Chromium, atomically, to ``path``.

        Raises :class:`~audit.errors.UsageError` when Chromium is not available;
        see :mod:`audit.reporting.pdf`.
        """
        return renderers().write_pdf(self, Path(path))

    def raise_for_verdict(self) -> None:
        """Raise :class:`~audit.errors.AuditFailed` unless the verdict's exit code is 0.

        PASS and ADVISORY return quietly; FAIL and INCONCLUSIVE raise, naming the
        requirements that failed or could not be established, as a pipeline step needs.
        """
        verdict = self.verdict
        if verdict.exit_code == ExitCode.PASSED:
            return
        unsettled = tuple(
            dict.fromkeys(f.requirement_id for f in self.findings if f.verdict is not Verdict.PASS)
        )
        named = f": {', '.join(unsettled)}" if unsettled else ""
        raise AuditFailed(
            f"audit verdict {verdict.value} ({verdict.meaning}){named}",
            verdict=verdict.value,
            requirements=unsettled,
        )

    def _repr_html_(self) -> str:
        """A compact summary for notebooks; :meth:`to_html` writes the whole report."""
        return renderers().render_summary_html(self)

"""The audit as JUnit XML, the test-report format CI systems display.

GitLab, Jenkins, Azure DevOps and GitHub test reporters read JUnit XML.  Each finding (one
requirement for one grouping) is one ``<testcase>``:

=====================  ==========================================================
finding                test case
=====================  ==========================================================
PASS                   passed (no child element)
FAIL, blocking         ``<failure>``: the requirement failed; the gate fails
INCONCLUSIVE, blocking ``<error>``: the requirement could not be established, which
                       also fails the gate (an INCONCLUSIVE is never a pass)
advisory, not PASS     ``<skipped>``: reported, never gating; the message starts
                       with "advisory"
=====================  ==========================================================

INCONCLUSIVE is an *error*, not a skip, because a skipped test reads as "nothing to see"
in every reporter, while a blocking requirement that could not be measured fails the
audit (exit code 1).  The message of each element is the finding's one-line summary;
the element's text adds the citation, the measured value against the threshold, and the
reasons.  The suite's ``<properties>`` record the policy, the overall verdict and the
SHA-256 of the data, model and policy.  When the policy combines several laws (packs or
files), each gets a ``<testsuite>`` of its own findings, named after it, with a
``regime`` property naming its source.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audit.core.findings import Finding, Severity, Verdict
from audit.core.secrets import redact
from audit.core.wording import NOT_APPLICABLE
from audit.reporting.formats import compared_threshold
from audit.reporting.write import write_atomic

if TYPE_CHECKING:
    from audit.core.result import AuditResult, Regime

__all__ = ["render_junit", "write_junit"]

_ALL = "whole population"
_ADVISORY = "advisory requirement, not gating"


def _case_name(finding: Finding) -> str:
    grouping = " × ".join(finding.grouping) if finding.grouping else _ALL
    return f"{finding.requirement_id} [{grouping}]"


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "not measured"
    return f"{value:.6g}"


def _limit(threshold: float | None) -> str:
    """`` 0.8`` after the comparison's name; nothing for a comparison with no threshold."""
    return "" if threshold is None else f" {_number(threshold)}"


def _details(finding: Finding) -> str:
    lines = [
        f"{finding.title}",
        f"Citation: {finding.citation}",
        f"Metric: {finding.metric} ({finding.comparison}"
        f"{_limit(compared_threshold(finding.comparison, finding.threshold))}); "
        f"measured: {_number(finding.measured)}",
        f"Severity: {finding.severity.value}; verdict: {finding.verdict.value}",
    ]
    if finding.worst_group:
        lines.append(f"Worst group: {finding.worst_group}")
    if finding.reference_group:
        lines.append(f"Reference group: {finding.reference_group}")
    lines.extend(f"Reason: {reason}" for reason in finding.reasons)
    return "\n".join(lines)


def _outcome(finding: Finding) -> tuple[str, str] | None:
    """The child element's tag and type for ``finding``; ``None`` for a pass."""
    if finding.verdict is Verdict.PASS:
        return None
    if not finding.applies:
        return "skipped", NOT_APPLICABLE
    if finding.severity is Severity.ADVISORY:
        return "skipped", _ADVISORY
    if finding.verdict is Verdict.FAIL:
        return "failure", "FAIL"
    return "error", "INCONCLUSIVE"


def _testcase(finding: Finding, suite: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"name": _case_name(finding), "classname": f"{suite}.{finding.auditor}", "time": "0"},
    )
    outcome = _outcome(finding)
    if outcome is None:
        ET.SubElement(case, "system-out").text = _details(finding)
        return case
    tag, kind = outcome
    message = f"{_ADVISORY}: {finding.summary}" if kind == _ADVISORY else finding.summary
    child = ET.SubElement(case, tag, {"message": message, "type": kind})
    if tag == "skipped":
        ET.SubElement(case, "system-out").text = _details(finding)
    else:
        child.text = _details(finding)
    return case


def render_junit(result: AuditResult) -> str:
    """JUnit XML of ``result``: one ``<testcase>`` per finding (see the module docstring).

    Parameters
    ----------
    result : AuditResult
        The audit to report.

    Returns
    -------
    str
        An XML document with one ``<testsuites>`` holding one ``<testsuite>``, or one per
        law when the policy combines several.
    """
    name = f"maas-audit {result.policy.name}"
    groups = result.findings_by_regime()
    suites = [
        _testsuite(result, findings, regime, f"{name} / {_regime_name(regime)}")
        if len(groups) > 1
        else _testsuite(result, findings, None, name)
        for regime, findings in groups
    ]
    totals = {
        key: str(sum(int(suite.get(key, "0")) for suite in suites))
        for key in ("tests", "failures", "errors")
    }
    root = ET.Element("testsuites", {"name": "maas-audit", **totals, "time": "0"})
    root.extend(suites)
    ET.indent(root)
    return redact(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def _regime_name(regime: Regime | None) -> str:
    return regime.title if regime else "other requirements"


def _testsuite(
    result: AuditResult, findings: Sequence[Finding], regime: Regime | None, name: str
) -> ET.Element:
    """One ``<testsuite>`` of ``findings``: a test case each, counts and the run's properties."""
    cases = [_testcase(f, name) for f in findings]
    counts = {
        tag: sum(1 for case in cases if case.find(tag) is not None)
        for tag in ("failure", "error", "skipped")
    }
    suite = ET.Element(
        "testsuite",
        {
            "name": name,
            "tests": str(len(cases)),
            "failures": str(counts["failure"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"]),
            "time": "0",
            "timestamp": result.provenance.started_at.removesuffix("Z")[:19],
            "hostname": "maas-audit",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("policy", result.policy.name),
        ("policy.version", result.policy.version),
        *((("regime", regime.source),) if regime else ()),
        ("verdict", str(result.verdict)),
        ("data.sha256", result.provenance.data_sha256),
        ("model.sha256", result.provenance.model_sha256),
        ("policy.sha256", result.provenance.policy_sha256),
    ):
        ET.SubElement(properties, "property", {"name": key, "value": value})
    suite.extend(cases)
    return suite


def write_junit(result: AuditResult, path: str | Path) -> Path:
    """Write the JUnit XML of ``result`` atomically to ``path``; returns the path."""
    return write_atomic(Path(path), render_junit(result))

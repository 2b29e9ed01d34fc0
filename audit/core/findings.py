"""Verdicts on policy requirements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from audit.errors import ExitCode

__all__ = ["Finding", "OverallVerdict", "Severity", "Verdict", "overall_verdict"]


class Verdict(StrEnum):
    """The outcome of checking one requirement."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    """The evidence does not allow a verdict (missing data, too-small groups); never a pass."""


class Severity(StrEnum):
    """Whether a requirement gates the audit."""

    BLOCKING = "blocking"
    """A FAIL or INCONCLUSIVE verdict fails the audit (exit code 1)."""
    ADVISORY = "advisory"
    """Reported, never gating."""


@dataclass(frozen=True)
class Finding:
    """The verdict on one requirement for one grouping of the population."""

    requirement_id: str
    title: str
    citation: str
    auditor: str
    metric: str
    comparison: str
    """How the metric was compared, e.g. ``ratio_to_max`` (see :mod:`audit.policy.schema`)."""
    threshold: float
    severity: Severity
    verdict: Verdict
    measured: float | None
    """The compared quantity (e.g. the lowest impact ratio); ``None`` when not measured."""
    grouping: tuple[str, ...]
    summary: str
    """One plain-language sentence stating the measured value against the threshold."""
    worst_group: str | None = None
    reference_group: str | None = None
    reasons: tuple[str, ...] = ()
    """Why the verdict is INCONCLUSIVE, and which groups were set aside and why."""
    applies: bool = True
    """False when the requirement does not apply to this audit (combined groups asked of
    an audit with one sensitive column): the finding is INCONCLUSIVE, its first reason
    says why, and it never blocks; it is never a PASS either."""

    @property
    def blocks(self) -> bool:
        """True when this finding stops the audit from passing."""
        return self.gates and self.verdict is not Verdict.PASS

    @property
    def gates(self) -> bool:
        """True when this finding decides the overall verdict: blocking, and applicable."""
        return self.severity is Severity.BLOCKING and self.applies


class OverallVerdict(StrEnum):
    """The verdict of a whole audit: the CLI's last line, its exit code and the report's badge.

    It never claims more than the findings show: PASS needs at least one blocking
    requirement and every blocking requirement measured and passed.  A requirement that
    does not apply to the audit (:attr:`Finding.applies`) decides nothing, unless it is
    all there is: an audit of requirements that do not apply is INCONCLUSIVE.
    """

    PASS = "PASS"
    """Every blocking requirement was measured and passed (exit code 0)."""
    FAIL = "FAIL"
    """A blocking requirement failed (exit code 1)."""
    INCONCLUSIVE = "INCONCLUSIVE"
    """Not established (exit code 1): a blocking requirement is INCONCLUSIVE and none failed;
    or the policy has no blocking requirement and some requirement could not be measured;
    or the audit produced no finding at all."""
    ADVISORY = "ADVISORY"
    """No blocking requirement; every requirement was measured; findings are advisory
    only (exit code 0)."""

    @property
    def exit_code(self) -> ExitCode:
        """The process exit code of an audit with this verdict."""
        if self in (OverallVerdict.PASS, OverallVerdict.ADVISORY):
            return ExitCode.PASSED
        return ExitCode.FAILED

    @property
    def meaning(self) -> str:
        """The verdict in a few words, for the command line and the report."""
        return _MEANINGS[self]


_MEANINGS = {
    OverallVerdict.PASS: "every blocking requirement was measured and passed",
    OverallVerdict.FAIL: "a blocking requirement failed",
    OverallVerdict.INCONCLUSIVE: "the evidence could not establish every requirement",
    OverallVerdict.ADVISORY: "no blocking requirement; advisory findings only",
}


def overall_verdict(findings: Iterable[Finding]) -> OverallVerdict:
    """The verdict of an audit with these findings (see :class:`OverallVerdict`)."""
    findings = tuple(findings)
    blocking = [f for f in findings if f.gates]
    if any(f.verdict is Verdict.FAIL for f in blocking):
        return OverallVerdict.FAIL
    if any(f.verdict is Verdict.INCONCLUSIVE for f in blocking):
        return OverallVerdict.INCONCLUSIVE
    if blocking:
        return OverallVerdict.PASS
    applicable = [f for f in findings if f.applies]
    if not applicable or any(f.verdict is Verdict.INCONCLUSIVE for f in applicable):
        return OverallVerdict.INCONCLUSIVE
    return OverallVerdict.ADVISORY

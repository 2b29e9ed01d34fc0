"""Verdicts on policy requirements."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Severity", "Verdict"]


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

    @property
    def blocks(self) -> bool:
        """True when this finding stops the audit from passing."""
        return self.severity is Severity.BLOCKING and self.verdict is not Verdict.PASS

"""The maas-audit exception tree and the CLI's exit codes.

::

    AuditError                  base of everything maas-audit raises on purpose
    ├── UsageError              bad input or usage: the CLI prints one line and exits 2
    │   ├── PolicyError         a policy file is malformed, invalid or cannot be resolved
    │   ├── DataError           the data cannot be read or lacks what the audit needs
    │   ├── ModelSpecError      a model spec names nothing that can be loaded
    │   └── PluginError         an auditor plugin is missing, broken or duplicated
    ├── ModelError              the model raised or answered something unusable (exit 2 as well)
    │   └── EndpointError       a served model did not answer, or answered wrongly
    └── AuditFailed             an audit ran, and its verdict is not a pass (exit 1);
                                raised only on request (``AuditResult.raise_for_verdict``)

Every message names what is wrong and, where it helps, what is there instead.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "AuditError",
    "AuditFailed",
    "DataError",
    "EndpointError",
    "ModelError",
    "ExitCode",
    "ModelSpecError",
    "PluginError",
    "PolicyError",
    "UsageError",
]


class ExitCode(IntEnum):
    """Process exit codes of ``maas-audit``; a public contract for CI gates."""

    PASSED = 0
    """Every blocking requirement was measured and passed (verdict PASS), or the policy has
    no blocking requirement and every requirement was measured (verdict ADVISORY)."""
    FAILED = 1
    """A blocking requirement failed or could not be established, or something of an
    advisory-only policy could not be measured (verdicts FAIL and INCONCLUSIVE)."""
    USAGE = 2
    """Bad input or usage; nothing was concluded."""


class AuditError(Exception):
    """Base class of every error maas-audit raises deliberately."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(AuditError):
    """The user's input or invocation is wrong; the message says how."""


class PolicyError(UsageError):
    """A policy file is malformed, fails the schema, or cannot be resolved."""


class DataError(UsageError):
    """The data cannot be read, or lacks the columns or values the audit needs."""


class ModelSpecError(UsageError):
    """A model spec cannot be turned into a model adapter."""


class PluginError(UsageError):
    """An auditor plugin is unknown, fails to load, or is registered twice."""


class ModelError(AuditError):
    """The model raised while predicting, or returned predictions that cannot be used."""


class EndpointError(ModelError):
    """A served model did not answer, or answered something that cannot be trusted."""


class AuditFailed(AuditError):
    """An audit's overall verdict is FAIL or INCONCLUSIVE; raised only when asked for.

    :meth:`audit.AuditResult.raise_for_verdict` raises it, so that a pipeline step stops
    on a failing audit.  ``verdict`` is the overall verdict's value; ``requirements`` the
    ids of the requirements that failed or could not be established.
    """

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, verdict: str, requirements: tuple[str, ...]) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.requirements = requirements

"""maas-audit: responsible-AI audits of served models, with compliance reports.

>>> from audit import run_audit
>>> result = run_audit(model="column:prediction", data="decisions.csv",  # doctest: +SKIP
...                    policy="four-fifths", target="hired", sensitive=["sex", "race"])
>>> result.passed, result.to_html("reports/audit/report.html")  # doctest: +SKIP

The public names are imported on first use, so that ``import audit.core`` (and the
command line's start-up) does not pay for the whole numeric stack.  Asking for
``AuditResult`` or ``run_audit`` also imports :mod:`audit.reporting`, which registers the
report writers that ``AuditResult.to_html()`` and its siblings call (see
:mod:`audit.core.renderers`).
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.core.details import AuditDetails, SignOff
    from audit.core.findings import Finding, OverallVerdict, Severity, Verdict
    from audit.core.protocols import Auditor, ModelAdapter, Predictions
    from audit.core.result import AuditResult
    from audit.errors import AuditError, ExitCode
    from audit.policy import LoadedPolicy, Policy, load_policy
    from audit.runner import run_audit

try:
    __version__ = metadata.version("maas-audit")
except metadata.PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

_PUBLIC = {
    "AuditDetails": "audit.core.details",
    "AuditError": "audit.errors",
    "AuditResult": "audit.core.result",
    "Auditor": "audit.core.protocols",
    "ExitCode": "audit.errors",
    "Finding": "audit.core.findings",
    "LoadedPolicy": "audit.policy",
    "ModelAdapter": "audit.core.protocols",
    "OverallVerdict": "audit.core.findings",
    "Policy": "audit.policy",
    "Predictions": "audit.core.protocols",
    "Severity": "audit.core.findings",
    "SignOff": "audit.core.details",
    "Verdict": "audit.core.findings",
    "load_policy": "audit.policy",
    "run_audit": "audit.runner",
}

__all__ = [
    "AuditDetails",
    "AuditError",
    "AuditResult",
    "Auditor",
    "ExitCode",
    "Finding",
    "LoadedPolicy",
    "ModelAdapter",
    "OverallVerdict",
    "Policy",
    "Predictions",
    "Severity",
    "SignOff",
    "Verdict",
    "__version__",
    "load_policy",
    "run_audit",
]


_RENDERS = frozenset({"AuditResult", "run_audit"})
"""Public names whose users render reports: their import registers the report writers."""


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'audit' has no attribute {name!r}")
    if name in _RENDERS:
        importlib.import_module("audit.reporting")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

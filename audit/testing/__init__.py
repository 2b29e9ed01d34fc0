"""Test helpers for maas-audit and its plugin authors.

:func:`check_auditor` runs the contract every built-in auditor keeps on a plugin's
auditor class (see :mod:`audit.testing.conformance`), as scikit-learn's
``check_estimator`` does for estimators.  :func:`assert_audit_passes` gates a model
repository's own tests on an audit (see :mod:`audit.testing.assertions`).
:func:`serve_model` runs a local scoring server (MLflow and Open Inference Protocol v2)
around a Python predict function, with injectable faults; see
:mod:`audit.testing.endpoint`.  Names are imported lazily, so that
``python -m audit.testing.endpoint`` runs its module only once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.testing.assertions import assert_audit_passes
    from audit.testing.conformance import ConformanceError, check_auditor
    from audit.testing.endpoint import (
        Fault,
        FaultKind,
        PredictFn,
        RespondMode,
        ServedModel,
        serve_model,
        sklearn_predict_fn,
        start_server,
    )

__all__ = [
    "ConformanceError",
    "Fault",
    "FaultKind",
    "PredictFn",
    "RespondMode",
    "ServedModel",
    "assert_audit_passes",
    "check_auditor",
    "serve_model",
    "sklearn_predict_fn",
    "start_server",
]

_LAZY = {name: "audit.testing.endpoint" for name in __all__}
_LAZY.update(dict.fromkeys(["ConformanceError", "check_auditor"], "audit.testing.conformance"))
_LAZY["assert_audit_passes"] = "audit.testing.assertions"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'audit.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

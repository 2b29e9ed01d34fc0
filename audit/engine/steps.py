"""The steps every engine shares: open the model, run or finish an auditor, assemble the result.

Each engine has the same shape, load → score → audit → evaluate → result; only how it
reads and scores the table differs.  What does not differ lives here, so the engines'
findings cannot drift apart.

An auditor that raises, for whatever reason (a plugin bug, bad data it meets, or a
:class:`~audit.errors.ModelError` when the model or its endpoint fails in the middle of
the auditor's work), never stops the audit and never yields a PASS: its output carries
no measurements and the failure (``AuditorOutput.failure``), and policy evaluation makes
each of its requirements INCONCLUSIVE with that reason.  The other auditors' findings
stand.  A model that fails while the engine scores the table, before any auditor ran,
stops the audit instead (:func:`audit.run_audit` raises; exit code 2): nothing could be
measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from audit.adapters import ColumnAdapter, load_model
from audit.core.context import AuditContext, ColumnRoles, ProgressFactory, Task
from audit.core.details import AuditDetails
from audit.core.measurements import AuditorOutput
from audit.core.outcomes import matches_label
from audit.core.protocols import Auditor, ChunkedAuditor, ModelAdapter, Tally
from audit.core.provenance import Provenance
from audit.core.result import AuditResult
from audit.data import resolve_roles
from audit.engine.request import AuditRequest
from audit.policy import evaluate_policy

__all__ = [
    "crashed",
    "finish_auditor",
    "label_warning",
    "model_result",
    "opened_model",
    "run_auditor",
    "unanswered_warning",
]


@contextmanager
def opened_model(request: AuditRequest) -> Iterator[ModelAdapter]:
    """The request's model as an adapter; one the engine made is closed afterwards."""
    model = request.model
    adapter = load_model(model, trust_pickle=request.trust_pickle, **dict(request.model_options))
    try:
        yield adapter
    finally:
        close = getattr(adapter, "close", None)
        if adapter is not model and callable(close):  # adapters made here may hold connections
            close()


def model_roles(
    frame: pd.DataFrame,
    request: AuditRequest,
    adapter: ModelAdapter,
    *,
    positive_label: Any,
    task: Task | None,
) -> ColumnRoles:
    """The columns' roles (:func:`audit.data.resolve_roles`) for a model audit.

    Without ``--features``, a model that names its inputs (a scikit-learn model fitted on
    named columns, an MLflow signature) has those as its features, and the report lists
    those; any other model, every column but the target.  A decision log names its logged
    decisions, which are never features: its features are the other columns.
    """
    logged = isinstance(adapter, ColumnAdapter)
    roles = resolve_roles(
        frame,
        target=request.target_column,
        sensitive=list(request.sensitive),
        features=request.features,
        reserved=list(adapter.input_columns or ()) if logged else [],
        positive_label=positive_label,
        threshold=request.threshold,
        task=task,
    )
    inputs = adapter.input_columns
    if request.features is not None or not inputs or logged:
        return roles
    return dataclasses.replace(roles, features=tuple(str(c) for c in inputs))


def run_auditor(auditor: Auditor, context: AuditContext, config: BaseModel) -> AuditorOutput:
    """Run an auditor; a crash becomes an output with no measurements and the reason."""
    try:
        return auditor.run(context, config)
    except Exception as exc:  # a plugin bug must yield INCONCLUSIVE findings, not a PASS
        return crashed(auditor, exc)


def finish_auditor(
    auditor: ChunkedAuditor,
    tally: Tally,
    config: BaseModel,
    *,
    roles: ColumnRoles,
    seed: int,
    progress: ProgressFactory,
) -> AuditorOutput:
    """Finish an auditor from its tally; a crash becomes an output with the reason."""
    try:
        return auditor.finish(tally, config, roles=roles, seed=seed, progress=progress)
    except Exception as exc:  # a plugin bug must yield INCONCLUSIVE findings, not a PASS
        return crashed(auditor, exc)


def crashed(auditor: Auditor, exc: Exception) -> AuditorOutput:
    """The output of an auditor that raised ``exc``: no measurements, the failure named."""
    failure = f"auditor '{auditor.name}' failed: {type(exc).__name__}: {exc}"
    return AuditorOutput(
        auditor=auditor.name, metrics=(), method="", warnings=(failure,), failure=failure
    )


def unanswered_warning(reasons: Mapping[str, int], rows: int) -> str:
    """The warning each auditor's output carries when rows were left out unanswered."""
    left_out = sum(reasons.values())
    why = "; ".join(f"{n} {reason}" for reason, n in reasons.items())
    return (
        f"{left_out} of {rows} rows ({left_out / rows:.1%}) were left out of this audit: the "
        f"model gave them no decision ({why}). Every figure is on the {rows - left_out} "
        "answered rows; the rows left out may differ from them."
    )


def _spelling(value: Any) -> str:
    """A label as text without case, surrounding spaces or a trailing full stop."""
    return str(value).strip().rstrip(".").strip().casefold()


def label_warning(target: str, labels: Collection[Any], positive: Any) -> str | None:
    """The warning when the target holds another spelling of the favourable label, or ``None``.

    A binary audit counts every target value but ``positive`` as unfavourable.  A value
    that differs from it only in case, surrounding spaces or a trailing full stop (UCI
    Adult's test split writes ``>50K.``, its training split ``>50K``) is most likely the
    same label written another way, and its rows would count as unfavourable unsaid.
    """
    if positive is None:
        return None
    wanted = _spelling(positive)
    others = sorted(
        str(value)
        for value in labels
        if _spelling(value) == wanted
        and not matches_label(np.array([value], dtype=object), positive)[0]
    )
    if not others:
        return None
    named = ", ".join(repr(value) for value in others)
    return (
        f"target column {target!r} holds {named} beside the favourable label {str(positive)!r}: "
        f"only {str(positive)!r} counts as favourable, so the rows of {named} count as "
        "unfavourable; if they are the same label written another way, make the target's "
        "labels agree and audit again"
    )


def model_result(
    request: AuditRequest,
    outputs: tuple[AuditorOutput, ...],
    *,
    roles: ColumnRoles,
    positive: Any,
    model: Mapping[str, Any],
    provenance: Provenance,
    rows: int,
    engine: str,
    target_labels: Collection[Any] = (),
    unanswered: Mapping[str, int] | None = None,
) -> AuditResult:
    """Evaluate the policy on a model audit's outputs and assemble the result.

    ``target_labels`` are the target's distinct values over the whole table: every
    auditor's output warns of another spelling of the favourable label among them
    (:func:`label_warning`).  ``unanswered`` counts, by reason, the rows left out because
    the model gave them no decision (:func:`audit.scoring.leave_out_unanswered`): the
    data block records them, and every auditor's output warns of them.
    """
    reasons = dict(unanswered or {})
    left_out = sum(reasons.values())
    warnings = [label_warning(roles.target, target_labels, positive)]
    if left_out:
        warnings.append(unanswered_warning(reasons, rows))
    added = tuple(w for w in warnings if w is not None)
    if added:
        outputs = tuple(dataclasses.replace(o, warnings=(*o.warnings, *added)) for o in outputs)
    return AuditResult(
        findings=evaluate_policy(request.policy.policy, outputs, sensitive=roles.sensitive),
        outputs=outputs,
        policy=request.policy.summary(),
        provenance=provenance,
        model=dict(model),
        data={
            "source": provenance.data_source,
            "rows": rows,
            "target": roles.target,
            "sensitive": list(roles.sensitive),
            "features": list(roles.features),
            "task": roles.task.value,
            "positive_label": None if positive is None else str(positive),
            "threshold": roles.threshold,
            "engine": engine,
            **({"rows_unanswered": left_out, "unanswered_reasons": reasons} if left_out else {}),
        },
        details=request.details or AuditDetails(),
    )

"""``run_audit``: validate the inputs, score once, run the auditors, evaluate the policy.

The runner writes no files; :class:`~audit.core.result.AuditResult` does that on request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from audit.adapters import load_model
from audit.core.context import AuditContext, ProgressFactory, Task, no_progress
from audit.core.details import AuditDetails
from audit.core.measurements import AuditorOutput
from audit.core.outcomes import resolve_outcomes
from audit.core.protocols import Auditor
from audit.core.provenance import Provenance, sha256_file, sha256_frame, utc_now
from audit.core.result import AuditResult
from audit.data import load_table, resolve_roles
from audit.errors import DataError, ModelSpecError
from audit.policy import LoadedPolicy, evaluate_policy, load_policy
from audit.policy.bind import BoundAuditor, bind_auditors
from audit.scoring import score

__all__ = ["run_audit"]

ERR_NEEDS_MODEL = (
    "no model was given, but auditor(s) {auditors} measure a model's decisions; pass a "
    "model (--model), or a policy whose auditors all read only the data (e.g. masking)"
)
ERR_NO_TARGET = "name the ground-truth column (--target) to audit a model"
NO_MODEL = {"kind": "none", "location": "no model: a data-only audit"}
"""The model description of a data-only audit."""


def _load_data(data: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, str, str]:
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        return frame, "in-memory DataFrame", sha256_frame(frame)
    path = Path(data)
    frame = load_table(path)
    digest = sha256_file(path) if path.is_file() else sha256_frame(frame)
    return frame, str(path), digest


def _close(adapter: object) -> None:
    close = getattr(adapter, "close", None)
    if callable(close):
        close()


def _run_one(auditor: Auditor, context: AuditContext, config: BaseModel) -> AuditorOutput:
    """Run an auditor; a crash becomes an output with no measurements and the reason."""
    try:
        return auditor.run(context, config)
    except Exception as exc:  # a plugin bug must yield INCONCLUSIVE findings, not a PASS
        return AuditorOutput(
            auditor=auditor.name,
            metrics=(),
            method="",
            warnings=(f"auditor '{auditor.name}' failed: {type(exc).__name__}: {exc}",),
        )


def _needs_model(auditors: Sequence[BoundAuditor]) -> list[str]:
    """Names of the auditors that need a model (those not declaring ``needs_model = False``)."""
    return [a.name for a, _ in auditors if getattr(a, "needs_model", True)]


def run_audit(
    *,
    model: Any = None,
    data: pd.DataFrame | str | Path,
    policy: LoadedPolicy | str | Path,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    features: Sequence[str] | None = None,
    positive_label: Any = None,
    threshold: float | None = None,
    task: Task | str | None = None,
    seed: int = 0,
    trust_pickle: bool = False,
    model_options: Mapping[str, Any] | None = None,
    progress: ProgressFactory = no_progress,
    command: Sequence[str] = (),
    details: AuditDetails | None = None,
) -> AuditResult:
    """Audit a model against a policy and return the result (writes no files).

    Parameters
    ----------
    model
        A model spec string (``http(s)://...``, ``path.onnx``, ``path.skops``,
        ``module:attribute``, ``column:NAME``), a fitted scikit-learn estimator, a callable,
        or a :class:`~audit.core.protocols.ModelAdapter`.  ``None``: a data-only audit,
        allowed when every auditor of the policy declares ``needs_model = False``; nothing
        is scored and ``target``, ``sensitive`` and the model options are not used.
    data
        A DataFrame, or the path of a CSV or Parquet file.
    policy
        A policy file, a shipped pack name (e.g. ``"four-fifths"``), or a loaded policy.
    target, sensitive, features
        The ground-truth column, the sensitive columns (their combinations form the
        intersectional groups), and the model's input columns (default: all but the target).
    positive_label, threshold
        The favourable target value, and the score at or above which a prediction is
        positive (when the model's scores, not its labels, make the decision).
    task
        ``"binary"`` or ``"regression"``; inferred from the target when omitted.
    seed
        Seed of every random step (bootstrap resamples), recorded in the provenance.
    trust_pickle
        Allow loading pickle/joblib model files, which runs code from the file.
    model_options
        Adapter settings passed to :func:`audit.adapters.load_model` (``batch_size``,
        ``timeout``, ``max_retries``, ``header_env``).
    progress
        Factory of progress bars for long steps.
    command
        The command line to record in the provenance.
    details
        Statements for the report that the data cannot tell: the data's source and
        dates in words, and the auditor's sign-off (see :class:`~audit.core.details.AuditDetails`).

    Raises
    ------
    UsageError
        Bad policy, data, model spec or plugin (see :mod:`audit.errors`).
    ModelError
        The model raised, or an endpoint failed after its retries.
    """
    started = utc_now()
    loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
    auditors = bind_auditors(loaded)
    frame, data_source, data_sha = _load_data(data)
    if model is None:
        needing = _needs_model(auditors)
        if needing:
            raise ModelSpecError(ERR_NEEDS_MODEL.format(auditors=", ".join(map(repr, needing))))
        return _data_only_audit(
            loaded,
            auditors,
            frame,
            Provenance(
                data_sha256=data_sha,
                model_sha256="none",
                policy_sha256=loaded.sha256,
                seed=seed,
                started_at=started,
                finished_at=started,
                command=tuple(command),
                data_source=data_source,
            ),
            progress=progress,
            details=details,
        )
    if target is None:
        raise DataError(ERR_NO_TARGET)
    adapter = load_model(model, trust_pickle=trust_pickle, **dict(model_options or {}))
    try:
        roles = resolve_roles(
            frame,
            target=target,
            sensitive=list(sensitive),
            features=features,
            reserved=list(adapter.input_columns or ()),
            positive_label=positive_label,
            threshold=threshold,
            task=Task(task) if task is not None else None,
        )
        predictions = score(adapter, frame, roles, progress=progress)
        outcomes, positive = resolve_outcomes(
            frame[roles.target],
            predictions,
            task=roles.task,
            positive_label=roles.positive_label,
            threshold=roles.threshold,
        )
        context = AuditContext(
            data=frame,
            roles=roles,
            outcomes=outcomes,
            model=adapter,
            seed=seed,
            progress=progress,
        )
        outputs = tuple(_run_one(auditor, context, config) for auditor, config in auditors)
        fingerprint = adapter.fingerprint()
        description = dict(adapter.describe())
    finally:
        if adapter is not model:  # adapters the runner made may hold connections
            _close(adapter)
    findings = evaluate_policy(loaded.policy, outputs, sensitive=roles.sensitive)
    provenance = Provenance(
        data_sha256=data_sha,
        model_sha256=fingerprint,
        policy_sha256=loaded.sha256,
        seed=seed,
        started_at=started,
        finished_at=utc_now(),
        command=tuple(command),
        data_source=data_source,
    )
    return AuditResult(
        findings=findings,
        outputs=outputs,
        policy=loaded.summary(),
        provenance=provenance,
        model=description,
        data={
            "source": data_source,
            "rows": len(frame),
            "target": roles.target,
            "sensitive": list(roles.sensitive),
            "features": list(roles.features),
            "task": roles.task.value,
            "positive_label": None if positive is None else str(positive),
            "threshold": roles.threshold,
        },
        details=details or AuditDetails(),
    )


def _data_only_audit(
    loaded: LoadedPolicy,
    auditors: Sequence[BoundAuditor],
    frame: pd.DataFrame,
    provenance: Provenance,
    *,
    progress: ProgressFactory,
    details: AuditDetails | None,
) -> AuditResult:
    """Run auditors that read only the data: no model is loaded and nothing is scored."""
    context = AuditContext(data=frame, seed=provenance.seed, progress=progress)
    outputs = tuple(_run_one(auditor, context, config) for auditor, config in auditors)
    findings = evaluate_policy(loaded.policy, outputs, sensitive=())
    return AuditResult(
        findings=findings,
        outputs=outputs,
        policy=loaded.summary(),
        provenance=dataclasses.replace(provenance, finished_at=utc_now()),
        model=dict(NO_MODEL),
        data={"source": provenance.data_source, "rows": len(frame)},
        details=details or AuditDetails(),
    )

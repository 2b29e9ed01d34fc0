"""The in-memory engine: the whole table as one DataFrame, every auditor on every row.

load (:func:`audit.data.load_table`) → score (:func:`audit.scoring.score_batches`) →
leave out the rows the model gave no decision (:func:`audit.scoring.leave_out_unanswered`)
→ audit (each auditor's ``run``, on the answered rows) → evaluate → result.  Without a
model it runs a data-only audit: nothing is scored, and the auditors read the data alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.adapters.column import MissingDecisions
from audit.core.context import AuditContext, Task
from audit.core.details import AuditDetails
from audit.core.outcomes import resolve_outcomes
from audit.core.protocols import ModelAdapter
from audit.core.provenance import sha256_frame, sha256_path
from audit.core.result import AuditResult
from audit.data import load_table
from audit.engine.job import auditor_columns, read_columns
from audit.engine.request import AuditRequest
from audit.engine.source import require_stored
from audit.engine.steps import model_result, model_roles, opened_model, run_auditor
from audit.engine.usage import UsageLedger
from audit.policy import evaluate_policy
from audit.scoring import leave_out_unanswered, score_batches

__all__ = ["ENGINE_DESCRIPTION", "NO_MODEL", "audit_pandas"]

ENGINE_DESCRIPTION = "pandas (the whole table in memory)"
"""The engine, in words, for the report."""
NO_MODEL = {"kind": "none", "location": "no model: a data-only audit"}
"""The model description of a data-only audit."""


def load_frame(
    data: pd.DataFrame | str | Path, *, codes_as_text: bool = False
) -> tuple[pd.DataFrame, str, str]:
    """The table, where it came from in words, and its SHA-256.

    ``codes_as_text``: see :func:`audit.data.load_table`.
    """
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        return frame, "in-memory DataFrame", sha256_frame(frame)
    path = Path(data)
    return load_table(path, codes_as_text=codes_as_text), str(path), sha256_path(path)


def audit_pandas(request: AuditRequest, data: pd.DataFrame | str | Path) -> AuditResult:
    """Read the whole table, score it once, run every auditor and evaluate the policy.

    Raises
    ------
    UsageError
        Bad data or model spec.
    ModelError
        The model raised, or an endpoint failed after its retries, while scoring.
    """
    unscored = request.model is None or request.target is None
    frame, source, data_sha = load_frame(data, codes_as_text=unscored)
    if request.model is None:
        return _data_only(request, frame, source, data_sha)
    if request.target is None:  # a data-only policy whose probes reach the model
        with opened_model(request) as adapter:
            return _data_only(request, frame, source, data_sha, model=adapter)
    with opened_model(request) as adapter:
        roles = model_roles(
            frame, request, adapter, positive_label=request.positive_label, task=request.task
        )
        extra = auditor_columns(request.auditors, frame.columns)
        inputs = adapter.input_columns or roles.features
        require_stored(data, read_columns(inputs, roles.target, roles.sensitive, extra))
        ledger = UsageLedger(adapter)
        try:
            predictions, scoring = score_batches(
                adapter,
                frame,
                roles,
                progress=request.progress,
                concurrency=request.concurrency,
                cache=request.cache_dir,
            )
        except MissingDecisions as gaps:  # the first batch's count: say the table's
            missing = int(frame[gaps.column].isna().sum())
            raise MissingDecisions(gaps.column, missing, len(frame)) from None
        ledger.record("scoring the rows")
        answered, predictions, unanswered = leave_out_unanswered(adapter, frame, predictions)
        # the target's labels, found once for both steps below (a regression has none)
        binary = roles.task is not Task.REGRESSION
        labels = answered[roles.target].unique().tolist() if binary else None
        outcomes, positive = resolve_outcomes(
            answered[roles.target],
            predictions,
            task=roles.task,
            positive_label=roles.positive_label,
            threshold=roles.threshold,
            target_labels=labels,
        )
        context = AuditContext(
            data=answered,
            roles=roles,
            outcomes=outcomes,
            model=adapter,
            seed=request.seed,
            progress=request.progress,
            prediction_cache=request.cache_dir,
        )
        ran = []
        for auditor, config in request.auditors:
            ran.append(run_auditor(auditor, context, config))
            ledger.record(f"{auditor.name} auditor")
        outputs = tuple(ran)
        fingerprint = adapter.fingerprint()
        description = {**adapter.describe(), "scoring": scoring.to_dict(), **ledger.describe()}
    return model_result(
        request,
        outputs,
        roles=roles,
        positive=positive,
        model=description,
        provenance=request.provenance(
            data_sha256=data_sha, model_sha256=fingerprint, data_source=source
        ),
        rows=len(frame),
        engine=ENGINE_DESCRIPTION,
        target_labels=labels or (),
        unanswered=unanswered,
    )


def _data_only(
    request: AuditRequest,
    frame: pd.DataFrame,
    source: str,
    sha: str,
    *,
    model: ModelAdapter | None = None,
) -> AuditResult:
    """Run auditors that read only the data: nothing is scored.

    ``model``, when given, is there for the auditors to reach (a masking policy's probes
    sent to the audited model), never to decide the rows.
    """
    context = AuditContext(data=frame, model=model, seed=request.seed, progress=request.progress)
    outputs = tuple(run_auditor(a, context, config) for a, config in request.auditors)
    described = dict(NO_MODEL) if model is None else {**model.describe(), "scoring": "none"}
    return AuditResult(
        findings=evaluate_policy(request.policy.policy, outputs, sensitive=()),
        outputs=outputs,
        policy=request.policy.summary(),
        provenance=request.provenance(
            data_sha256=sha,
            model_sha256="none" if model is None else model.fingerprint(),
            data_source=source,
        ),
        model=described,
        data={"source": source, "rows": len(frame)},
        details=request.details or AuditDetails(),
    )

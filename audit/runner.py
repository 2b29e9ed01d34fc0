"""``run_audit``: validate the inputs, score once, run the auditors, evaluate the policy.

The runner writes no files; :class:`~audit.core.result.AuditResult` does that on request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel

from audit.adapters import load_model
from audit.core.context import AuditContext, ColumnRoles, ProgressFactory, Task, no_progress
from audit.core.details import AuditDetails
from audit.core.measurements import AuditorOutput
from audit.core.outcomes import resolve_outcomes
from audit.core.protocols import Auditor, ChunkedAuditor, Tally
from audit.core.provenance import Provenance, sha256_frame, sha256_path, utc_now
from audit.core.result import AuditResult
from audit.data import load_table, resolve_roles
from audit.engine import DEFAULT_CHUNK_ROWS, Engine, choose_engine
from audit.engine.source import TableSource, open_source
from audit.engine.table import AuditQuestion, ChunkSettings, tally_table
from audit.errors import DataError, ModelSpecError, PolicyError
from audit.policy import LoadedPolicy, evaluate_policy, load_policy
from audit.policy.bind import BoundAuditor, bind_auditors
from audit.scoring import score_batches

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
    return frame, str(path), sha256_path(path)


def _close(adapter: object) -> None:
    close = getattr(adapter, "close", None)
    if callable(close):
        close()


def _run_one(auditor: Auditor, context: AuditContext, config: BaseModel) -> AuditorOutput:
    """Run an auditor; a crash becomes an output with no measurements and the reason."""
    try:
        return auditor.run(context, config)
    except Exception as exc:  # a plugin bug must yield INCONCLUSIVE findings, not a PASS
        return _crashed(auditor, exc)


def _crashed(auditor: Auditor, exc: Exception) -> AuditorOutput:
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
    engine: Engine | str = Engine.PANDAS,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    dask_scheduler: str | None = None,
    concurrency: int | None = None,
    cache_dir: str | Path | None = None,
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
    engine
        ``"pandas"`` reads the whole table into memory and runs every auditor.
        ``"chunked"`` reads a Parquet file or folder ``chunk_rows`` rows at a time, and
        ``"dask"`` tallies its files as Dask tasks (on the cluster at ``dask_scheduler``,
        or on local threads); both keep memory bounded, need a model and a binary
        decision, run only auditors that count chunk by chunk (fairness), and give the
        same findings as ``"pandas"``.  Naming ``dask_scheduler`` selects ``"dask"``.
    chunk_rows
        Rows per chunk of the chunked and Dask engines.
    dask_scheduler
        Address of a ``dask.distributed`` scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    concurrency
        Batches in flight at once for models that allow it (served models: 4 unless
        told); others are scored one batch at a time.  See :mod:`audit.scoring`.
    cache_dir
        Keep predictions in this folder batch by batch, so that a rerun, or a resume
        after a crash, does not score again (see :mod:`audit.cache`); ``None``: no cache.
        The report's ``model.scoring`` says how many batches came from the cache.

    Raises
    ------
    UsageError
        Bad policy, data, model spec or plugin (see :mod:`audit.errors`).
    ModelError
        The model raised, or an endpoint failed after its retries.
    """
    started = utc_now()
    engine = choose_engine(engine, dask_scheduler)
    loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
    auditors = bind_auditors(loaded)
    if engine is not Engine.PANDAS:
        if model is None:
            raise ModelSpecError(ERR_CHUNKS_NEED_MODEL.format(engine=engine.value))
        if target is None:
            raise DataError(ERR_NO_TARGET)
        if chunk_rows < 1:
            raise DataError(f"chunk_rows must be 1 or more; got {chunk_rows}")
        return _chunked_audit(
            loaded,
            _chunked_auditors(auditors, engine),
            open_source(data, partitions=DATAFRAME_PARTITIONS),
            ChunkSettings(
                engine,
                chunk_rows,
                dask_scheduler,
                concurrency,
                None if cache_dir is None else str(cache_dir),
            ),
            AuditQuestion(
                model=model,
                model_options=dict(model_options or {}),
                trust_pickle=trust_pickle,
                target=target,
                sensitive=sensitive,
                features=features,
                positive_label=positive_label,
                threshold=threshold,
                task=Task(task) if task is not None else None,
                seed=seed,
            ),
            progress=progress,
            command=command,
            details=details,
            started=started,
        )
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
        predictions, scoring = score_batches(
            adapter, frame, roles, progress=progress, concurrency=concurrency, cache=cache_dir
        )
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
        description = {**adapter.describe(), "scoring": scoring.to_dict()}
    finally:
        if adapter is not model:  # adapters the runner made may hold connections
            _close(adapter)
    return _model_result(
        loaded,
        outputs,
        roles=roles,
        positive=positive,
        model=description,
        provenance=Provenance(
            data_sha256=data_sha,
            model_sha256=fingerprint,
            policy_sha256=loaded.sha256,
            seed=seed,
            started_at=started,
            finished_at=utc_now(),
            command=tuple(command),
            data_source=data_source,
        ),
        rows=len(frame),
        engine="pandas (the whole table in memory)",
        details=details,
    )


def _model_result(
    loaded: LoadedPolicy,
    outputs: tuple[AuditorOutput, ...],
    *,
    roles: ColumnRoles,
    positive: Any,
    model: dict[str, Any],
    provenance: Provenance,
    rows: int,
    engine: str,
    details: AuditDetails | None,
) -> AuditResult:
    """Evaluate the policy on a model audit's outputs and assemble the result."""
    return AuditResult(
        findings=evaluate_policy(loaded.policy, outputs, sensitive=roles.sensitive),
        outputs=outputs,
        policy=loaded.summary(),
        provenance=provenance,
        model=model,
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


ERR_CHUNKS_NEED_MODEL = (
    "the {engine} engine audits a model's decisions chunk by chunk; pass a model (--model), "
    "or use --engine pandas for a data-only audit"
)
ERR_NOT_CHUNKED = (
    "auditor(s) {auditors} need the whole table in memory, so they cannot run on the "
    "{engine} engine; use --engine pandas, or a policy whose auditors count chunk by chunk "
    "(fairness)"
)
DATAFRAME_PARTITIONS = 4
"""Slices an in-memory DataFrame is cut into for the Dask engine."""


def _chunked_auditors(
    auditors: Sequence[BoundAuditor], engine: Engine
) -> tuple[tuple[ChunkedAuditor, BaseModel], ...]:
    """The policy's auditors, refused unless every one counts chunk by chunk."""
    refused = [a.name for a, _ in auditors if not isinstance(a, ChunkedAuditor)]
    if refused:
        raise PolicyError(
            ERR_NOT_CHUNKED.format(auditors=", ".join(map(repr, refused)), engine=engine.value)
        )
    return tuple((cast(ChunkedAuditor, a), config) for a, config in auditors)


def _chunked_audit(
    loaded: LoadedPolicy,
    auditors: tuple[tuple[ChunkedAuditor, BaseModel], ...],
    source: TableSource,
    settings: ChunkSettings,
    question: AuditQuestion,
    *,
    progress: ProgressFactory,
    command: Sequence[str],
    details: AuditDetails | None,
    started: str,
) -> AuditResult:
    """Score and tally the table chunk by chunk (or on Dask), then let each auditor finish."""
    model, seed = question.model, question.seed
    adapter = load_model(model, trust_pickle=question.trust_pickle, **question.model_options)
    try:
        tallied = tally_table(
            source, auditors, settings, question, adapter=adapter, progress=progress
        )
        fingerprint = adapter.fingerprint()
        description = {**adapter.describe(), "scoring": tallied.scoring.to_dict()}
    finally:
        if adapter is not model:  # adapters the runner made may hold connections
            _close(adapter)
    roles = tallied.roles
    outputs = tuple(
        _finish_one(auditor, tally, config, roles=roles, seed=seed, progress=progress)
        for (auditor, config), tally in zip(auditors, tallied.tallies, strict=True)
    )
    return _model_result(
        loaded,
        outputs,
        roles=roles,
        positive=tallied.positive_label,
        model=description,
        provenance=Provenance(
            data_sha256=source.sha256(),
            model_sha256=fingerprint,
            policy_sha256=loaded.sha256,
            seed=seed,
            started_at=started,
            finished_at=utc_now(),
            command=tuple(command),
            data_source=source.description,
        ),
        rows=source.rows,
        engine=settings.describe(),
        details=details,
    )


def _finish_one(
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
        return _crashed(auditor, exc)

"""``run_audit``: check the request, then hand it to the engine that reads the table.

The runner validates what can be validated before any data is read (the engine's name,
the policy and its auditors, a model for the auditors that need one, a target) and
dispatches to one engine: :mod:`audit.engine.pandas`, :mod:`audit.engine.chunked` or
:mod:`audit.engine.dask`.  Each has the same shape, load → score → audit → evaluate →
result, and writes no files; :class:`~audit.core.result.AuditResult` does that on request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import audit.reporting  # noqa: F401  (registers the writers AuditResult.to_html() calls)
from audit.core.context import ProgressFactory, Task, no_progress
from audit.core.details import AuditDetails
from audit.core.provenance import utc_now
from audit.core.result import AuditResult
from audit.engine import DEFAULT_CHUNK_ROWS, Engine, choose_engine
from audit.engine.chunked import audit_chunked
from audit.engine.dask import audit_dask
from audit.engine.pandas import audit_pandas
from audit.engine.request import ERR_NO_TARGET, AuditRequest
from audit.errors import DataError, ModelSpecError
from audit.policy import LoadedPolicy, load_policy
from audit.policy.bind import bind_auditors

__all__ = ["run_audit"]

ERR_UNSCORED_MODEL_ENGINE = (
    "a model without a target (for probes only) runs on the pandas engine, not {engine}"
)
ERR_NEEDS_MODEL = (
    "no model was given, but auditor(s) {auditors} measure a model's decisions; pass a "
    "model (--model), or a policy whose auditors all read only the data (e.g. masking)"
)


def run_audit(
    *,
    model: Any = None,
    data: pd.DataFrame | str | Path,
    policy: LoadedPolicy | str | Path | Sequence[str | Path],
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
        A policy file, a shipped pack name (e.g. ``"four-fifths"``), a loaded policy, or a
        list of files and packs applied together (merged as ``extends: [...]`` would merge
        them; the report groups the findings by the pack or file that defined each).
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
        or on local threads); both keep memory bounded, run only auditors that count
        chunk by chunk (fairness on a binary decision; masking, without a model), and
        give the same findings as ``"pandas"``.  Naming ``dask_scheduler`` selects ``"dask"``.
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
        The model raised, or an endpoint failed after its retries, while the table was
        scored (before any auditor ran).  A model error inside an auditor's own work
        does not stop the audit: that auditor's requirements are INCONCLUSIVE and name
        the failure (see :mod:`audit.engine.steps`).
    """
    started = utc_now()
    engine = choose_engine(engine, dask_scheduler)
    loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
    auditors = tuple(bind_auditors(loaded))
    needing = [a.name for a, _ in auditors if getattr(a, "needs_model", True)]
    if model is None and needing:
        raise ModelSpecError(ERR_NEEDS_MODEL.format(auditors=", ".join(map(repr, needing))))
    if model is not None and target is None:
        # a data-only policy may still reach the model (probes sent to it): nothing is scored
        if needing:
            raise DataError(ERR_NO_TARGET)
        if engine is not Engine.PANDAS:
            raise DataError(ERR_UNSCORED_MODEL_ENGINE.format(engine=engine.value))
    if engine is not Engine.PANDAS and chunk_rows < 1:
        raise DataError(f"chunk_rows must be 1 or more; got {chunk_rows}")
    request = AuditRequest(
        policy=loaded,
        auditors=auditors,
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
        started=started,
        concurrency=concurrency,
        cache_dir=None if cache_dir is None else str(cache_dir),
        progress=progress,
        command=tuple(command),
        details=details,
    )
    if engine is Engine.CHUNKED:
        return audit_chunked(request, data, chunk_rows=chunk_rows)
    if engine is Engine.DASK:
        return audit_dask(request, data, chunk_rows=chunk_rows, scheduler=dask_scheduler)
    return audit_pandas(request, data)

"""What the chunked and Dask engines share: load → score and tally → finish → evaluate → result.

The two engines differ only in how they tally the chunks (:data:`TallyChunks`: in turn
in one process, or as Dask tasks).  One pass over the target settles what the decision
means for the whole table (the task, the positive label, every target value); the first
rows check the columns' roles; then every chunk is scored and tallied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel

from audit.adapters.column import MissingDecisions
from audit.core.context import ColumnRoles, ProgressFactory, Task
from audit.core.details import AuditDetails
from audit.core.outcomes import ERR_LABELS_ONLY, infer_positive_label, infer_task, label_occurs
from audit.core.protocols import ChunkedAuditor, ModelAdapter, Tally
from audit.core.result import AuditResult
from audit.data import check_columns
from audit.engine import Engine
from audit.engine.job import ChunkJob, ChunkTallies, auditor_columns, read_columns
from audit.engine.request import AuditRequest
from audit.engine.source import TableSource, open_source
from audit.engine.steps import finish_auditor, model_result, model_roles, opened_model
from audit.errors import DataError, PolicyError
from audit.policy import evaluate_policy
from audit.policy.bind import BoundAuditor
from audit.scoring import ScoringReport

__all__ = ["ChunkSettings", "TallyChunks", "TalliedTable", "audit_table", "tally_table"]

HEAD_ROWS = 1000
"""Rows read to check the columns' roles before the chunked pass."""
ERR_REGRESSION = (
    "the chunked and dask engines audit binary decisions; regression fairness needs "
    "every row's error in memory: use --engine pandas"
)
ERR_REGRESSION_INFERRED = (
    "target column {target!r} has {count} distinct numbers (from {low} to {high}), so it reads "
    "as a regression target, which the chunked and dask engines do not audit; name the "
    "favourable value with --positive-label to audit decisions, or use --engine pandas"
)
ERR_NOT_CHUNKED = (
    "auditor(s) {auditors} need the whole table in memory, so they cannot run on the "
    "{engine} engine; use --engine pandas, or a policy whose auditors count chunk by chunk "
    "(fairness, masking)"
)
DATAFRAME_PARTITIONS = 4
"""Slices an in-memory DataFrame is cut into for the Dask engine."""


@dataclass(frozen=True)
class ChunkSettings:
    """How the chunked and Dask engines read the table."""

    engine: Engine
    chunk_rows: int
    scheduler: str | None = None

    def describe(self) -> str:
        """The engine, in words, for the report."""
        rows = f"{self.chunk_rows:,} rows per chunk"
        if self.engine is Engine.CHUNKED:
            return f"chunked ({rows})"
        where = f"Dask cluster at {self.scheduler}" if self.scheduler else "local Dask threads"
        return f"dask ({where}; {rows})"


TallyChunks = Callable[[TableSource, ChunkJob, ChunkSettings, ProgressFactory], ChunkTallies | None]
"""How an engine tallies every chunk of a table: in this process, or on Dask."""


@dataclass(frozen=True)
class TalliedTable:
    """What the chunked pass produced: each auditor's tally, the settled roles, the scoring."""

    tallies: list[Tally]
    roles: ColumnRoles
    positive_label: Any
    scoring: ScoringReport
    """Every chunk's scoring report, added up (see :meth:`ScoringReport.combine`)."""
    target_labels: frozenset[Any]
    """The target's distinct values over the whole table."""
    usage: dict[str, Any] | None = None
    """On a Dask cluster, the workers' adapters' usage added up (see
    :meth:`ChunkTallies.usage_total`); ``None`` where this process's adapter scored."""


def audit_table(
    request: AuditRequest,
    data: pd.DataFrame | str | Path,
    settings: ChunkSettings,
    tally: TallyChunks,
) -> AuditResult:
    """The chunked engines' audit: open the table, score and tally it, finish, evaluate.

    Raises
    ------
    UsageError
        Bad data or model spec (no rows, a missing column, a regression target, ...).
    ModelError
        The model raised, or an endpoint failed after its retries.
    """
    auditors = chunked_auditors(request.auditors, settings.engine)
    source = open_source(data, partitions=DATAFRAME_PARTITIONS)
    if request.model is None:
        return _data_only(request, source, auditors, settings, tally)
    with opened_model(request) as adapter:
        tallied = tally_table(source, auditors, settings, request, adapter=adapter, tally=tally)
        fingerprint = adapter.fingerprint()
        description = {**adapter.describe(), "scoring": tallied.scoring.to_dict()}
        if tallied.usage is not None:  # the workers' adapters scored, not this one
            description["usage"] = tallied.usage
    roles = tallied.roles
    outputs = tuple(
        finish_auditor(
            auditor, counted, config, roles=roles, seed=request.seed, progress=request.progress
        )
        for (auditor, config), counted in zip(auditors, tallied.tallies, strict=True)
    )
    return model_result(
        request,
        outputs,
        roles=roles,
        positive=tallied.positive_label,
        model=description,
        provenance=request.provenance(
            data_sha256=source.sha256(),
            model_sha256=fingerprint,
            data_source=source.description,
        ),
        rows=source.rows,
        engine=settings.describe(),
        target_labels=tallied.target_labels,
    )


def _data_only(
    request: AuditRequest,
    source: TableSource,
    auditors: tuple[tuple[ChunkedAuditor, BaseModel], ...],
    settings: ChunkSettings,
    tally: TallyChunks,
) -> AuditResult:
    """Tally every column of every chunk for auditors that read only the data (no model)."""
    if source.rows == 0:
        raise DataError(f"data file '{source.description}' has no rows")
    roles = ColumnRoles(target="", sensitive=(), features=())
    job = ChunkJob(
        model=None,
        model_options={},
        trust_pickle=False,
        roles=roles,
        positive_label=None,
        target_labels=frozenset(),
        auditors=auditors,
        seed=request.seed,
        data_columns=tuple(source.columns),
    )
    merged = tally(source, job, settings, request.progress)
    assert merged is not None  # the source has rows, so at least one chunk was tallied
    outputs = tuple(
        finish_auditor(
            auditor, counted, config, roles=roles, seed=request.seed, progress=request.progress
        )
        for (auditor, config), counted in zip(auditors, merged.tallies, strict=True)
    )
    return AuditResult(
        findings=evaluate_policy(request.policy.policy, outputs, sensitive=()),
        outputs=outputs,
        policy=request.policy.summary(),
        provenance=request.provenance(
            data_sha256=source.sha256(), model_sha256="none", data_source=source.description
        ),
        model={"kind": "none", "location": "no model: a data-only audit"},
        data={"source": source.description, "rows": source.rows, "engine": settings.describe()},
        details=request.details or AuditDetails(),
    )


def chunked_auditors(
    auditors: Sequence[BoundAuditor], engine: Engine
) -> tuple[tuple[ChunkedAuditor, BaseModel], ...]:
    """The policy's auditors, refused unless every one counts chunk by chunk.

    Raises
    ------
    PolicyError
        When an auditor needs the whole table in memory.
    """
    refused = [a.name for a, _ in auditors if not isinstance(a, ChunkedAuditor)]
    if refused:
        raise PolicyError(
            ERR_NOT_CHUNKED.format(auditors=", ".join(map(repr, refused)), engine=engine.value)
        )
    return tuple((cast(ChunkedAuditor, a), config) for a, config in auditors)


def settle_target(
    source: TableSource, head: pd.DataFrame, target: str, task: Task | None, positive_label: Any
) -> tuple[Task, Any, frozenset[Any]]:
    """Task, positive label and target labels of the whole table, from one pass over the target."""
    check_columns(head, [target], "target")
    values, missing = source.distinct(target)
    if missing:
        raise DataError(f"target column {target!r} has {missing} missing values")
    inferred = task is None
    task = task or infer_task(values, positive_label)
    if task is Task.REGRESSION:
        if inferred:  # say why: a stray value in a 0/1 target makes it read as a regression
            raise DataError(
                ERR_REGRESSION_INFERRED.format(
                    target=target, count=len(values), low=values.min(), high=values.max()
                )
            )
        raise DataError(ERR_REGRESSION)
    labels = frozenset(values.tolist())
    if positive_label is None:
        positive_label = infer_positive_label(values)
    elif not label_occurs(values, positive_label):
        raise DataError(
            f"positive label {positive_label!r} does not occur in target column {target!r}"
        )
    return task, positive_label, labels | {positive_label}


def tally_table(
    source: TableSource,
    auditors: tuple[tuple[ChunkedAuditor, BaseModel], ...],
    settings: ChunkSettings,
    request: AuditRequest,
    *,
    adapter: ModelAdapter,
    tally: TallyChunks,
) -> TalliedTable:
    """Score every chunk of ``source`` and tally it for each auditor.

    ``adapter`` is the loaded ``request.model``: this process uses it; Dask workers load
    their own from the model (a spec) and its options when the adapter cannot travel.

    Raises
    ------
    UsageError
        Bad data or model spec (no rows, a missing column, a regression target, ...).
    ModelError
        The model raised, or an endpoint failed after its retries.
    """
    if source.rows == 0:
        raise DataError(f"data file '{source.description}' has no rows")
    head = source.head(HEAD_ROWS)
    extra = auditor_columns(auditors, source.columns)
    # the model may read its own inputs, the features named, or every column
    inputs = adapter.input_columns or request.features or source.columns
    source.require(read_columns(inputs, request.target_column, request.sensitive, extra))
    task, positive, labels = settle_target(
        source, head, request.target_column, request.task, request.positive_label
    )
    roles = model_roles(head, request, adapter, positive_label=positive, task=task)
    reads = list(adapter.input_columns or roles.features)
    missing = [c for c in reads if c not in source.columns]
    if missing:
        raise DataError(f"the model reads columns missing from the data: {', '.join(missing)}")
    job = ChunkJob(
        model=request.model,
        model_options=request.model_options,
        trust_pickle=request.trust_pickle,
        roles=roles,
        positive_label=positive,
        target_labels=labels,
        auditors=auditors,
        seed=request.seed,
        concurrency=request.concurrency,
        cache_dir=request.cache_dir,
        auditor_columns=extra,
        _adapter=adapter,
    )
    merged = tally(source, job, settings, request.progress)
    assert merged is not None  # the source has rows, so at least one chunk was tallied
    if merged.missing_decisions:
        column, gaps = next(iter(merged.missing_decisions.items()))
        raise MissingDecisions(column, gaps, source.rows)
    if merged.labels_as_scores is False:  # no fraction in any chunk: labels, not scores
        raise DataError(ERR_LABELS_ONLY.format(threshold=roles.threshold))
    usage = merged.usage_total()
    return TalliedTable(merged.tallies, roles, positive, merged.scoring, labels, usage)

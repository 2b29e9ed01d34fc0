"""Tally a whole table with the chunked or Dask engine, before the auditors finish.

One pass over the target settles what the decision means for the whole table (the
task, the positive label, every target value); the first rows check the columns'
roles; then every chunk is scored and tallied, on this process or on Dask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel

from audit.core.context import ColumnRoles, ProgressFactory, Task
from audit.core.outcomes import infer_positive_label, infer_task
from audit.core.protocols import ChunkedAuditor, ModelAdapter, Tally
from audit.data import check_columns, resolve_roles
from audit.engine import Engine
from audit.engine.chunked import tally_chunked
from audit.engine.cluster import tally_dask
from audit.engine.job import ChunkJob
from audit.engine.source import TableSource
from audit.errors import DataError
from audit.scoring import ScoringReport

__all__ = ["AuditQuestion", "ChunkSettings", "TalliedTable", "tally_table"]

HEAD_ROWS = 1000
"""Rows read to check the columns' roles before the chunked pass."""
ERR_REGRESSION = (
    "the chunked and dask engines audit binary decisions; regression fairness needs "
    "every row's error in memory: use --engine pandas"
)


@dataclass(frozen=True)
class ChunkSettings:
    """How the chunked and Dask engines read the table and score each chunk."""

    engine: Engine
    chunk_rows: int
    scheduler: str | None = None
    concurrency: int | None = None
    """Batches of one chunk in flight at once, for a served model (``None``: its default)."""
    cache_dir: str | None = None
    """Folder of the prediction cache, or ``None`` for no cache."""

    def describe(self) -> str:
        """The engine, in words, for the report."""
        rows = f"{self.chunk_rows:,} rows per chunk"
        if self.engine is Engine.CHUNKED:
            return f"chunked ({rows})"
        where = f"Dask cluster at {self.scheduler}" if self.scheduler else "local Dask threads"
        return f"dask ({where}; {rows})"


@dataclass(frozen=True)
class AuditQuestion:
    """What a chunked audit asks: the model (and how to load it) and the columns' roles.

    The fields are :func:`audit.run_audit`'s, as given; ``model_options`` and
    ``trust_pickle`` go to :func:`audit.adapters.load_model`.
    """

    model: Any
    model_options: Mapping[str, Any]
    trust_pickle: bool
    target: str
    sensitive: Sequence[str]
    features: Sequence[str] | None
    positive_label: Any
    threshold: float | None
    task: Task | None
    seed: int


@dataclass(frozen=True)
class TalliedTable:
    """What the chunked pass produced: each auditor's tally, the settled roles, the scoring."""

    tallies: list[Tally]
    roles: ColumnRoles
    positive_label: Any
    scoring: ScoringReport
    """Every chunk's scoring report, added up (see :meth:`ScoringReport.combine`)."""


def settle_target(
    source: TableSource, head: pd.DataFrame, target: str, task: Task | None, positive_label: Any
) -> tuple[Task, Any, frozenset[Any]]:
    """Task, positive label and target labels of the whole table, from one pass over the target."""
    check_columns(head, [target], "target")
    values, missing = source.distinct(target)
    if missing:
        raise DataError(f"target column {target!r} has {missing} missing values")
    task = task or infer_task(values, positive_label)
    if task is Task.REGRESSION:
        raise DataError(ERR_REGRESSION)
    labels = frozenset(values.tolist())
    if positive_label is None:
        positive_label = infer_positive_label(values)
    elif str(positive_label) not in {str(v) for v in labels}:
        raise DataError(
            f"positive label {positive_label!r} does not occur in target column {target!r}"
        )
    return task, positive_label, labels | {positive_label}


def tally_table(
    source: TableSource,
    auditors: tuple[tuple[ChunkedAuditor, BaseModel], ...],
    settings: ChunkSettings,
    question: AuditQuestion,
    *,
    adapter: ModelAdapter,
    progress: ProgressFactory,
) -> TalliedTable:
    """Score every chunk of ``source`` and tally it for each auditor.

    ``adapter`` is the loaded ``question.model``: this process uses it; Dask workers load
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
    task, positive, labels = settle_target(
        source, head, question.target, question.task, question.positive_label
    )
    roles = resolve_roles(
        head,
        target=question.target,
        sensitive=list(question.sensitive),
        features=question.features,
        reserved=list(adapter.input_columns or ()),
        positive_label=positive,
        threshold=question.threshold,
        task=task,
    )
    reads = list(adapter.input_columns or roles.features)
    missing = [c for c in reads if c not in source.columns]
    if missing:
        raise DataError(f"the model reads columns missing from the data: {', '.join(missing)}")
    job = ChunkJob(
        model=question.model,
        model_options=question.model_options,
        trust_pickle=question.trust_pickle,
        roles=roles,
        positive_label=positive,
        target_labels=labels,
        auditors=auditors,
        seed=question.seed,
        concurrency=settings.concurrency,
        cache_dir=settings.cache_dir,
        _adapter=adapter,
    )
    if settings.engine is Engine.DASK:
        merged = tally_dask(
            source, job, chunk_rows=settings.chunk_rows, scheduler=settings.scheduler
        )
    else:
        merged = tally_chunked(source, job, chunk_rows=settings.chunk_rows, progress=progress)
    assert merged is not None  # the source has rows, so at least one chunk was tallied
    return TalliedTable(merged.tallies, roles, positive, merged.scoring)

"""The Dask engine: partitions are scored and tallied in parallel, then merged.

load (a Parquet file or folder, or slices of a DataFrame) → score and tally each
partition as a Dask task → finish each auditor → evaluate → result
(:func:`audit.engine.table.audit_table`).

Without a scheduler address the work runs on Dask's local threaded scheduler; with
one (``--dask-scheduler tcp://host:8786``) it runs on that ``dask.distributed``
cluster, whose workers must have maas-audit installed and must reach the model
(a spec string is loaded by each worker; a model object is pickled to them).  The
report's model usage (requests, models that answered, cached answers) is then the
workers' adapters' added up (:attr:`audit.engine.job.ChunkTallies.usage`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, cast

import pandas as pd

from audit.core.context import ProgressFactory
from audit.core.result import AuditResult
from audit.engine import Engine
from audit.engine.job import ChunkJob, ChunkTallies, merge_tallies
from audit.engine.request import AuditRequest
from audit.engine.source import SourcePart, TableSource
from audit.engine.table import ChunkSettings, audit_table
from audit.errors import DataError, ModelSpecError

__all__ = ["audit_dask", "tally_dask"]

ERR_NO_DASK = "the dask engine needs Dask: pip install 'maas-audit[dask]' (or dask[distributed])"


def audit_dask(
    request: AuditRequest,
    data: pd.DataFrame | str | Path,
    *,
    chunk_rows: int,
    scheduler: str | None = None,
) -> AuditResult:
    """Audit ``data`` as Dask tasks, on local threads or on the cluster at ``scheduler``.

    Raises
    ------
    UsageError
        Bad data or model spec, an auditor that needs the whole table, Dask missing or
        its scheduler unreachable.
    ModelError
        The model raised, or an endpoint failed after its retries, while scoring.
    """
    settings = ChunkSettings(Engine.DASK, chunk_rows, scheduler)
    return audit_table(request, data, settings, tally_dask)


def _import(name: str) -> Any:
    """Dask's modules, imported only when the engine runs (Dask is an optional extra)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise DataError(ERR_NO_DASK) from None


def _tally_part(part: SourcePart, job: ChunkJob, chunk_rows: int) -> ChunkTallies | None:
    return job.tally_all(part.batches(job.columns(), chunk_rows))


def tally_dask(
    source: TableSource,
    job: ChunkJob,
    settings: ChunkSettings,
    progress: ProgressFactory,
) -> ChunkTallies | None:
    """Tally the parts of ``source`` as Dask tasks and merge them in a tree.

    The merges add up the chunks' scoring reports along with their tallies.

    Parameters
    ----------
    source:
        The table; each of its parts (runs of files of at least ``chunk_rows`` rows, or
        slices of a DataFrame) is a task.
    job:
        What to do with each chunk.
    settings:
        Rows per chunk within a part (bounds each worker's memory), and the address
        of a ``dask.distributed`` scheduler, or ``None`` for the local one.
    progress:
        Unused: the tasks run out of order, on other processes.

    Raises
    ------
    DataError
        When Dask is not installed or the scheduler cannot be reached.
    ModelSpecError
        When the model object cannot be sent to the workers.
    """
    chunk_rows, scheduler = settings.chunk_rows, settings.scheduler
    dask = _import("dask")
    # one task holds the job (and its model): each worker fetches it once, instead of
    # every task carrying its own copy
    shared = dask.delayed(job, pure=False, traverse=False)
    tasks: list[Any] = [
        dask.delayed(_tally_part)(part, shared, chunk_rows) for part in source.split(chunk_rows)
    ]
    while len(tasks) > 1:  # a binary tree of merges, so no single task holds every tally
        pairs = [tasks[i : i + 2] for i in range(0, len(tasks), 2)]
        tasks = [
            dask.delayed(merge_tallies)(*pair) if len(pair) == 2 else pair[0] for pair in pairs
        ]
    if scheduler is None:
        (merged,) = dask.compute(tasks[0], scheduler="threads")
        return cast("ChunkTallies | None", merged)
    return _on_cluster(tasks[0], scheduler)


def _on_cluster(task: Any, scheduler: str) -> ChunkTallies | None:
    distributed = _import("distributed")
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise DataError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        return cast("ChunkTallies | None", client.compute(task).result())
    except (TypeError, AttributeError) as exc:
        if "pickle" in str(exc).lower():
            raise ModelSpecError(
                "the model object cannot be sent to the Dask workers "
                f"({type(exc).__name__}: {exc}); pass the model as a spec (a file path or URL)"
            ) from None
        raise
    finally:
        client.close()

"""The chunked engine: one process reads the table chunk by chunk and adds up the tallies.

load (a Parquet file or folder, :mod:`audit.engine.source`) → score and tally each chunk
in turn → finish each auditor → evaluate → result (:func:`audit.engine.table.audit_table`).
Peak memory is a few chunks of the columns the audit reads, whatever the table's size.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.core.context import ProgressFactory
from audit.core.result import AuditResult
from audit.engine import Engine
from audit.engine.job import ChunkJob, ChunkTallies, merge_tallies
from audit.engine.request import AuditRequest
from audit.engine.source import TableSource
from audit.engine.table import ChunkSettings, audit_table

__all__ = ["audit_chunked", "tally_chunked"]


def audit_chunked(
    request: AuditRequest, data: pd.DataFrame | str | Path, *, chunk_rows: int
) -> AuditResult:
    """Audit ``data`` ``chunk_rows`` rows at a time in this process.

    Raises
    ------
    UsageError
        Bad data, model spec, or an auditor that needs the whole table.
    ModelError
        The model raised, or an endpoint failed after its retries, while scoring.
    """
    return audit_table(request, data, ChunkSettings(Engine.CHUNKED, chunk_rows), tally_chunked)


def tally_chunked(
    source: TableSource,
    job: ChunkJob,
    settings: ChunkSettings,
    progress: ProgressFactory,
) -> ChunkTallies | None:
    """Tally every chunk of ``source`` in turn and return the merged tallies and scoring.

    Parameters
    ----------
    source:
        The table.
    job:
        What to do with each chunk.
    settings:
        Rows per chunk.
    progress:
        Factory of progress bars (counted in rows).
    """
    merged: ChunkTallies | None = None
    bar = progress("Scoring and counting, chunk by chunk", source.rows)
    try:
        for frame in source.batches(job.columns(), settings.chunk_rows):
            merged = merge_tallies(merged, job.tally(frame))
            bar.update(len(frame))
    finally:
        bar.close()
    return merged

"""The chunked engine: one process reads the table chunk by chunk and adds up the tallies.

Peak memory is a few chunks of the columns the audit reads, whatever the table's size.
"""

from __future__ import annotations

from audit.core.context import ProgressFactory, no_progress
from audit.engine.job import ChunkJob, ChunkTallies, merge_tallies
from audit.engine.source import TableSource

__all__ = ["tally_chunked"]


def tally_chunked(
    source: TableSource,
    job: ChunkJob,
    *,
    chunk_rows: int,
    progress: ProgressFactory = no_progress,
) -> ChunkTallies | None:
    """Tally every chunk of ``source`` in turn and return the merged tallies and scoring.

    Parameters
    ----------
    source:
        The table.
    job:
        What to do with each chunk.
    chunk_rows:
        Rows per chunk.
    progress:
        Factory of progress bars (counted in rows).
    """
    merged: ChunkTallies | None = None
    bar = progress("Scoring and counting, chunk by chunk", source.rows)
    try:
        for frame in source.batches(job.columns(), chunk_rows):
            merged = merge_tallies(merged, job.tally(frame))
            bar.update(len(frame))
    finally:
        bar.close()
    return merged

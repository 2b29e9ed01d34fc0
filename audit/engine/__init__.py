"""Engines that read the audited table: whole in memory, chunk by chunk, or on Dask.

The in-memory engine (``pandas``) runs every auditor.  The ``chunked`` and ``dask``
engines read a Parquet file or folder in bounded chunks, score each chunk and add
up per-group counts, for auditors whose measurements are sums over rows
(:class:`~audit.core.protocols.ChunkedAuditor`, e.g. fairness on binary decisions);
their findings equal the in-memory engine's.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEFAULT_CHUNK_ROWS", "Engine"]

DEFAULT_CHUNK_ROWS = 1_000_000
"""Rows per chunk of the chunked and Dask engines."""


class Engine(StrEnum):
    """How the audited table is read."""

    PANDAS = "pandas"
    CHUNKED = "chunked"
    DASK = "dask"

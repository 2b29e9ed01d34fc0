"""Engines that read the audited table: whole in memory, chunk by chunk, or on Dask.

The in-memory engine (``pandas``) runs every auditor.  The ``chunked`` and ``dask``
engines read a Parquet file or folder in bounded chunks, score each chunk and add
up per-group counts, for auditors whose measurements are sums over rows
(:class:`~audit.core.protocols.ChunkedAuditor`, e.g. fairness on binary decisions);
their findings equal the in-memory engine's.
"""

from __future__ import annotations

from enum import StrEnum

from audit.errors import DataError

__all__ = ["DEFAULT_CHUNK_ROWS", "Engine", "choose_engine"]

DEFAULT_CHUNK_ROWS = 1_000_000
"""Rows per chunk of the chunked and Dask engines."""


class Engine(StrEnum):
    """How the audited table is read."""

    PANDAS = "pandas"
    CHUNKED = "chunked"
    DASK = "dask"


ERR_SCHEDULER_ENGINE = "--dask-scheduler runs on the dask engine; it cannot be used with {engine}"


def choose_engine(engine: Engine | str, scheduler: str | None) -> Engine:
    """The engine named, or the Dask engine when a scheduler address is given.

    Raises
    ------
    DataError
        When the name is unknown, or a scheduler is given with the chunked engine.
    """
    try:
        chosen = Engine(engine)
    except ValueError:
        names = ", ".join(e.value for e in Engine)
        raise DataError(f"unknown engine {engine!r}; choose one of {names}") from None
    if scheduler is not None:
        if chosen is Engine.CHUNKED:
            raise DataError(ERR_SCHEDULER_ENGINE.format(engine=chosen.value))
        return Engine.DASK
    return chosen

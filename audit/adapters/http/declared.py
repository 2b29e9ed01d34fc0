"""The :class:`RestAdapter`: a model behind any JSON endpoint, declared by a :class:`RestCodec`.

It runs on the shared :class:`~audit.adapters.http.transport.HttpTransport`
(timeouts, bounded retries, credentials), declares ``concurrency`` so the runner
keeps several batches in flight (see :mod:`audit.scoring`), and works with the
prediction cache: its :meth:`~RestAdapter.fingerprint` hashes the URL (without
credentials), the body template's SHA-256 and the answer expressions, so editing
the template or an expression starts a new cache entry.  A
:class:`~audit.adapters.http.guard.RequestGuard` may cap the requests sent.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.http.guard import RequestGuard
from audit.adapters.http.rest import RestCodec
from audit.adapters.http.templating import row_values
from audit.adapters.http.transport import HttpTransport, safe_url
from audit.core.closing import Closing
from audit.core.protocols import Predictions
from audit.errors import DataError, EndpointError, UsageError

__all__ = ["RestAdapter", "select_columns"]


def select_columns(rows: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    """``rows`` restricted to ``columns`` (all when ``None``).

    Raises
    ------
    DataError
        If a column is missing; the message lists the columns there are.
    """
    if columns is None:
        return rows
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise DataError(
            f"input columns {missing} are not in the data; columns are: {list(rows.columns)}."
        )
    return rows.loc[:, list(columns)]


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"The {name!r} parameter must be an int >= 1; got {value!r} instead.")
    return value


class RestAdapter(Closing):
    """A served model spoken to through a declared :class:`RestCodec`.

    Parameters
    ----------
    url:
        Where the bodies are POSTed.
    codec:
        Renders bodies and reads answers.
    transport:
        Timeouts, retries, credentials; a default :class:`HttpTransport` when left out.
    batch_size:
        Rows per :meth:`predict_batch` call (and per request in batch mode).
    concurrency:
        Batches the runner keeps in flight at once.
    input_columns:
        Columns given to the template, in order; ``None``: the audit's features.
    max_requests:
        Most requests to send (see :class:`~audit.adapters.http.guard.RequestGuard`);
        ``None``: no limit.
    preset:
        The preset the config started from, for the report.

    Raises
    ------
    UsageError
        If ``batch_size``, ``concurrency`` or ``max_requests`` is not a positive int.
    """

    def __init__(
        self,
        url: str,
        *,
        codec: RestCodec,
        transport: HttpTransport | None = None,
        batch_size: int = 100,
        concurrency: int = 4,
        input_columns: Sequence[str] | None = None,
        max_requests: int | None = None,
        preset: str | None = None,
    ) -> None:
        self.url = url
        self.codec = codec
        self.batch_size = _positive(batch_size, "batch_size")
        self.concurrency = _positive(concurrency, "concurrency")
        self.transport = transport if transport is not None else HttpTransport()
        self.preset = preset
        self._input_columns = None if input_columns is None else list(input_columns)
        self._rows_answered = 0
        self._lock = threading.Lock()
        self.guard = RequestGuard(
            max_requests=max_requests,
            sent=lambda: self.transport.requests_sent,
            progress=lambda: f"{self._rows_answered:,} rows answered before the stop",
        )

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Columns given to the template, or ``None`` for the audit's feature columns."""
        return self._input_columns

    def __repr__(self) -> str:
        return f"RestAdapter({safe_url(self.url)!r}, mode={self.codec.mode!r})"

    def close(self) -> None:
        """Close the transport's connections."""
        self.transport.close()

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Predict every row: one request per batch, or per row (see :class:`RestCodec`).

        Raises
        ------
        DataError
            If a column is missing, a value cannot be sent, or the template fails.
        EndpointError
            If the endpoint fails or answers something the expressions cannot read.
        SpendingLimitReached
            If the request limit would be passed.
        """
        rows = select_columns(rows, self._input_columns)
        if len(rows) == 0:
            return Predictions(labels=np.asarray([], dtype=object))
        columns = [str(c) for c in rows.columns]
        values = row_values(rows)
        parts = []
        for start in range(0, len(values), self.batch_size):
            chunk = values[start : start + self.batch_size]
            bodies = self.codec.encode(chunk, columns)
            answers = [self._post(body, rows=len(chunk) // len(bodies)) for body in bodies]
            try:
                parts.append(self.codec.decode(answers, rows=len(chunk)))
            except EndpointError as exc:  # the message may quote the answer: redact it
                raise EndpointError(self.transport.redact(f"{safe_url(self.url)}: {exc}")) from None
            with self._lock:
                self._rows_answered += len(chunk)
        return parts[0] if len(parts) == 1 else Predictions.concatenate(parts)

    def _post(self, body: Any, *, rows: int) -> Any:
        estimate = self.guard.reserve(tokens=0)
        # one row's answer that is its label ('@') may be plain text: TorchServe sends a
        # handler's str so; a text answer any other expression reads is refused as not JSON
        text = self.codec.mode == "row" and self.codec.labels == "@"
        answer = self.transport.post_json(self.url, body, rows=rows, text=text)
        self.guard.settle(estimated=estimate, spent=0)
        return answer

    def describe(self) -> dict[str, Any]:
        """Kind, URL without credentials, preset, template hash, expressions, batching, usage."""
        description: dict[str, Any] = {
            "kind": "rest",
            "location": safe_url(self.url),
            "preset": self.preset,
            **self.codec.identity(),
            "batch_size": self.batch_size,
            **self.transport.describe(),
            "concurrency": self.concurrency,
            "limits": self.guard.describe(),
            "usage": {"requests": self.transport.requests_sent},
        }
        if self._input_columns is not None:
            description["input_columns"] = list(self._input_columns)
        return description

    def fingerprint(self) -> str:
        """SHA-256 of the URL (without credentials), template hash, expressions and columns."""
        identity = {
            "kind": "rest",
            "url": safe_url(self.url),
            **self.codec.identity(),
            "input_columns": self._input_columns,
        }
        encoded = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()

"""The :class:`HttpAdapter`: a served model seen as a :class:`~audit.core.protocols.ModelAdapter`.

Two wire protocols are spoken, chosen from the URL by :func:`http_adapter`:

* MLflow scoring server: ``http(s)://host[:port][/prefix]/invocations``;
* Open Inference Protocol v2 (KServe v2, MLServer, Triton):
  ``http(s)://host[:port][/prefix]/v2/models/<name>[/versions/<v>]/infer``
  (``/infer`` is appended when left out).

A remote model's weights cannot be hashed from here, so its
:meth:`~HttpAdapter.fingerprint` identifies the *endpoint*: the protocol, the
URL without credentials and, for OIP v2, the model metadata the server reports.
What the answers themselves say (OIP v2's ``model_name`` and ``model_version``;
MLflow's say nothing) is kept with each batch in the prediction cache
(:meth:`~HttpAdapter.predict_recorded`), and :meth:`~HttpAdapter.describe` reports it
under ``usage``, with what the batches read from the cache recorded when first scored.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from audit.adapters.http import mlflow, oip_v2
from audit.adapters.http.transport import HttpTransport, RequestRefused, encode_json, safe_url
from audit.core.answers import AnswerRecord, CachedAnswers
from audit.core.closing import Closing
from audit.core.protocols import Predictions
from audit.core.provenance import utc_now
from audit.errors import DataError, EndpointError, ModelSpecError, UsageError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "HttpAdapter",
    "ProtocolName",
    "http_adapter",
    "parse_endpoint_url",
]

ProtocolName = Literal["mlflow", "oip-v2"]
"""The wire protocols an :class:`HttpAdapter` speaks."""

DEFAULT_BATCH_SIZE = 1000
"""Rows per request unless told otherwise."""

DEFAULT_CONCURRENCY = 4
"""Requests in flight at once while scoring, unless told otherwise."""

_REFUSED_OUTPUTS = (400, 404, 422)
"""Statuses with which a server may refuse a request that names outputs it lacks."""

_OIP_PATH = re.compile(r"^(?P<prefix>.*)/v2/models/[^/]+(?:/versions/[^/]+)?(?P<infer>/infer)?/?$")
_ACCEPTED = (
    "expected http(s)://host[:port]/.../invocations (MLflow scoring server) or "
    "http(s)://host[:port]/.../v2/models/<name>[/versions/<version>]/infer "
    "(Open Inference Protocol v2)"
)


def parse_endpoint_url(url: str) -> tuple[ProtocolName, str]:
    """Tell the protocol a URL speaks, and the URL to POST batches to.

    Raises
    ------
    ModelSpecError
        If the URL is not HTTP(S) or its path fits neither accepted form.

    Examples
    --------
    >>> parse_endpoint_url("http://127.0.0.1:8080/v2/models/adult")
    ('oip-v2', 'http://127.0.0.1:8080/v2/models/adult/infer')
    >>> parse_endpoint_url("https://scoring.example/invocations")
    ('mlflow', 'https://scoring.example/invocations')
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelSpecError(f"cannot use {safe_url(url)!r} as a model endpoint: {_ACCEPTED}.")
    path = parts.path.rstrip("/")
    if path.endswith("/invocations"):
        return "mlflow", url
    match = _OIP_PATH.match(parts.path)
    if match is None:
        raise ModelSpecError(
            f"cannot tell the protocol of {safe_url(url)!r} from its path {parts.path!r}: "
            f"{_ACCEPTED}."
        )
    if match.group("infer") is None:
        path = f"{path}/infer"
    return "oip-v2", urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _check_positive(value: object, *, owner: str, name: str = "batch_size") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"The {name!r} parameter of {owner} must be an int >= 1; got {value!r} instead."
        )


class HttpAdapter(Closing):
    """A model behind an HTTP endpoint, queried in batches of at most :attr:`batch_size` rows.

    Parameters
    ----------
    url:
        The URL batches are POSTed to (``.../invocations`` or ``.../infer``).
    protocol:
        ``"mlflow"`` or ``"oip-v2"``.
    batch_size:
        Rows per request (default 1000); larger inputs are split.
    input_columns:
        Columns to send, in order; ``None`` sends the audit's feature columns.
    output_name:
        OIP v2 only: ask for this output and read it, instead of asking for
        :data:`~audit.adapters.http.oip_v2.ASKED_OUTPUTS` and choosing by name.
    outputs:
        OIP v2 only: the outputs to ask for by name (``()``: none, the server's
        choice); default: ``output_name``, else
        :data:`~audit.adapters.http.oip_v2.ASKED_OUTPUTS`.  The first request finds
        out whether the server accepts being asked (the others wait for its answer);
        if it refuses, it and every later request ask for none.
    transport:
        The :class:`HttpTransport` (timeouts, retries, credentials); a default one
        when left out.
    concurrency:
        Requests the runner keeps in flight at once while scoring (default 4); see
        :attr:`concurrency`.

    Raises
    ------
    UsageError
        If ``protocol``, ``batch_size`` or ``concurrency`` is invalid.

    Notes
    -----
    Close the adapter (or use it as a context manager) to release its connections.
    :meth:`predict_batch` is safe to call from several threads at once: they share
    the transport's thread-safe connection pool, and each request keeps the
    transport's timeout and retries.
    """

    def __init__(
        self,
        url: str,
        *,
        protocol: ProtocolName,
        batch_size: int = DEFAULT_BATCH_SIZE,
        input_columns: Sequence[str] | None = None,
        output_name: str | None = None,
        outputs: Sequence[str] | None = None,
        transport: HttpTransport | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if protocol not in get_args(ProtocolName):
            raise UsageError(
                f"The 'protocol' parameter of HttpAdapter must be one of "
                f"{list(get_args(ProtocolName))}; got {protocol!r} instead."
            )
        _check_positive(batch_size, owner="HttpAdapter")
        _check_positive(concurrency, owner="HttpAdapter", name="concurrency")
        self.url = url
        self.protocol: ProtocolName = protocol
        self.batch_size = batch_size
        # a served model spends its time waiting on the network: the runner keeps this
        # many batches in flight, each from its own thread (see audit.scoring)
        self.concurrency = concurrency
        self.output_name = output_name
        if protocol != "oip-v2":
            outputs = ()
        elif outputs is None:
            outputs = (output_name,) if output_name is not None else oip_v2.ASKED_OUTPUTS
        self.outputs_asked: tuple[str, ...] = tuple(outputs)
        """OIP v2: the outputs requests ask for by name (before any refusal)."""
        # the outputs each request names: () once the server refused to be asked for them
        self._asked = self.outputs_asked
        self._asking_settled = threading.Event()
        self._asking_lock = threading.Lock()
        self.transport = transport if transport is not None else HttpTransport()
        self._input_columns = list(input_columns) if input_columns is not None else None
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self._models: set[str] = set()  # named by the answers of this run
        self._cached = CachedAnswers()

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Columns this adapter sends, or ``None`` for the audit's feature columns."""
        return self._input_columns

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self.transport.requests_sent

    @property
    def rows_sent(self) -> int:
        """Rows sent so far, retries included."""
        return self.transport.rows_sent

    def __repr__(self) -> str:
        return (
            f"HttpAdapter({safe_url(self.url)!r}, protocol={self.protocol!r}, "
            f"batch_size={self.batch_size}, transport={self.transport!r})"
        )

    def close(self) -> None:
        """Close the transport's connections."""
        self.transport.close()

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Predict for every row, in requests of at most :attr:`batch_size` rows.

        Raises
        ------
        DataError
            If a configured input column is missing, or a value cannot be sent as JSON.
        EndpointError
            If the endpoint fails, or answers something unreadable or of the wrong length.
        """
        return self.predict_recorded(rows)[0]

    def predict_recorded(self, rows: pd.DataFrame) -> tuple[Predictions, AnswerRecord]:
        """:meth:`predict_batch`, and the models its answers named: for the cache to keep.

        Raises
        ------
        DataError, EndpointError
            As :meth:`predict_batch`.
        """
        rows = self._select(rows)
        if len(rows) == 0:
            empty = Predictions(labels=np.asarray([], dtype=object))
            return empty, AnswerRecord(rows=0, scored_at=utc_now())
        answered = [
            self._predict_chunk(rows.iloc[start : start + self.batch_size])
            for start in range(0, len(rows), self.batch_size)
        ]
        parts = [predictions for predictions, _ in answered]
        models = {name for _, name in answered if name is not None}
        with self._lock:
            self._models.update(models)
        record = AnswerRecord(
            rows=len(rows), scored_at=utc_now(), models=tuple(sorted(models)), answers=len(parts)
        )
        return (parts[0] if len(parts) == 1 else Predictions.concatenate(parts)), record

    def add_cached(self, record: AnswerRecord | None) -> None:
        """Count a batch read from the prediction cache, with who answered it when recorded."""
        self._cached.add(record)

    def describe(self) -> dict[str, Any]:
        """Kind, protocol, URL without credentials, batching, timeout, retries, header names.

        ``usage`` is added once a request was sent or a batch read from the cache: the
        requests sent, the models the answers named (``models``: this run's and the cached
        batches'; MLflow answers name none), and what the batches read from the cache
        recorded when first scored (``from_cache``).
        """
        description: dict[str, Any] = {
            "kind": "http",
            "protocol": self.protocol,
            "location": safe_url(self.url),
            "batch_size": self.batch_size,
            **self.transport.describe(),
        }
        if self._input_columns is not None:
            description["input_columns"] = list(self._input_columns)
        if self.output_name is not None:
            description["output_name"] = self.output_name
        if self.outputs_asked:
            description["outputs_asked"] = list(self.outputs_asked)
        cached = self._cached.describe()
        with self._lock:
            models = self._models | self._cached.models()
        if models or cached is not None or self.transport.requests_sent:
            description["usage"] = {
                "requests": self.transport.requests_sent,
                "models": sorted(models),
                "from_cache": cached,
            }
        return description

    def fingerprint(self) -> str:
        """SHA-256 of the endpoint's identity, computed once.

        A remote model's weights cannot be hashed, so this hashes the protocol, the
        URL without credentials and, for OIP v2, the metadata from
        ``GET /v2/models/<name>[/versions/<v>]`` when the server answers it (one
        attempt; a failure leaves the metadata out).  The same URL serving a
        different model gives the same fingerprint unless its metadata differ.
        """
        if self._fingerprint is None:
            identity: dict[str, Any] = {"protocol": self.protocol, "url": safe_url(self.url)}
            if self.protocol == "oip-v2":
                identity["metadata"] = self._metadata()
            encoded = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
            self._fingerprint = hashlib.sha256(encoded.encode()).hexdigest()
        return self._fingerprint

    def _metadata(self) -> Any:
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/").removesuffix("/infer")
        url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        try:
            return self.transport.get_json(url)
        except EndpointError:
            return None

    def _select(self, rows: pd.DataFrame) -> pd.DataFrame:
        if self._input_columns is None:
            return rows
        missing = [c for c in self._input_columns if c not in rows.columns]
        if missing:
            raise DataError(
                f"input columns {missing} are not in the data; columns are: {list(rows.columns)}."
            )
        return rows.loc[:, self._input_columns]

    def _encode(self, rows: pd.DataFrame, request_id: str, asked: Sequence[str]) -> bytes:
        if self.protocol == "mlflow":
            return encode_json(mlflow.encode_dataframe_split(rows))
        return encode_json(oip_v2.encode_infer_request(rows, request_id=request_id, outputs=asked))

    def _post(self, rows: pd.DataFrame, request_id: str) -> Any:
        """POST ``rows``; the first request finds out whether outputs may be asked for."""
        if self._asked and not self._asking_settled.is_set():
            with self._asking_lock:
                if not self._asking_settled.is_set():
                    try:
                        return self._post_asking(rows, request_id)
                    finally:
                        self._asking_settled.set()
        return self._send(rows, request_id, self._asked)

    def _post_asking(self, rows: pd.DataFrame, request_id: str) -> Any:
        try:
            return self._send(rows, request_id, self._asked)
        except RequestRefused as exc:
            if exc.status not in _REFUSED_OUTPUTS:
                raise
        # a server that knows only its model's own output names (Triton), or a model
        # without probabilities (MLServer's runtime for a regressor or a text model),
        # refuses a request naming others: ask again, and from now on, for none
        self._asked = ()
        return self._send(rows, request_id, ())

    def _send(self, rows: pd.DataFrame, request_id: str, asked: Sequence[str]) -> Any:
        # encoded here, so the payload's lists are gone before the request waits: objects
        # alive at a garbage collection reach the oldest generation, whose collections
        # stop every thread (tens of milliseconds with pandas loaded)
        body = self._encode(rows, request_id, asked)
        return self.transport.post_encoded(self.url, body, rows=len(rows))

    def _predict_chunk(self, rows: pd.DataFrame) -> tuple[Predictions, str | None]:
        """The predictions for ``rows`` (one request), and the model the answer names."""
        where = safe_url(self.url)
        request_id = uuid.uuid4().hex
        answer = self._post(rows, request_id)
        try:
            if self.protocol == "mlflow":
                predictions = mlflow.decode_predictions(answer)
            else:
                predictions = oip_v2.decode_infer_response(
                    answer, output_name=self.output_name, request_id=request_id
                )
        except EndpointError as exc:
            raise EndpointError(self.transport.redact(f"{where}: {exc}")) from None
        if len(predictions) != len(rows):
            raise EndpointError(
                f"{where}: endpoint returned {len(predictions)} predictions for {len(rows)} rows."
            )
        return predictions, oip_v2.answered_model(answer) if self.protocol == "oip-v2" else None


def http_adapter(
    url: str,
    *,
    batch_size: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    header_env: Mapping[str, str] | None = None,
    output_name: str | None = None,
    outputs: Sequence[str] | None = None,
    concurrency: int | None = None,
    default_token: bool = True,
) -> HttpAdapter:
    """Build an :class:`HttpAdapter` for ``url``, telling its protocol from the URL's path.

    Parameters
    ----------
    url:
        ``.../invocations`` (MLflow) or ``.../v2/models/<name>[/versions/<v>][/infer]``
        (Open Inference Protocol v2).
    batch_size, timeout, max_retries:
        Rows per request (1000), seconds per request (30), retries (3); ``None``
        keeps the default.
    header_env:
        Header name → environment variable holding its value; see
        :mod:`audit.adapters.http.transport`.
    output_name:
        OIP v2 only: the output to read.
    outputs:
        OIP v2 only: the outputs to ask for by name; see :class:`HttpAdapter`.
    concurrency:
        Requests in flight at once while scoring (4); ``None`` keeps the default.
    default_token:
        Send ``MAAS_AUDIT_TOKEN`` as a bearer token when no ``Authorization`` header is
        set: true for a URL the user named, false for one a policy names.

    Raises
    ------
    ModelSpecError
        If the URL fits neither form.
    UsageError
        If a setting is out of range or a credential variable is unset.

    Examples
    --------
    >>> http_adapter("http://127.0.0.1:5000/invocations", batch_size=200).describe()["protocol"]
    'mlflow'
    """
    protocol, post_url = parse_endpoint_url(url)
    if batch_size is not None:
        _check_positive(batch_size, owner="http_adapter")
    if concurrency is not None:
        _check_positive(concurrency, owner="http_adapter", name="concurrency")
    settings: dict[str, Any] = {}
    if timeout is not None:
        settings["timeout"] = timeout
    if max_retries is not None:
        settings["max_retries"] = max_retries
    transport = HttpTransport(header_env=header_env, default_token=default_token, **settings)
    return HttpAdapter(
        post_url,
        protocol=protocol,
        batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
        output_name=output_name,
        outputs=outputs,
        transport=transport,
        concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
    )

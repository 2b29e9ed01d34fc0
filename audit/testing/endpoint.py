"""A local scoring server for tests and demos: one Python model over MLflow and OIP v2.

:func:`serve_model` serves a predict function ``fn(DataFrame) -> Predictions``
on ``127.0.0.1`` (never another interface) from a daemon thread:

* MLflow scoring server: ``POST /invocations`` (``dataframe_split`` or
  ``dataframe_records``), ``GET /ping``, ``GET /health``;
* Open Inference Protocol v2: ``POST /v2/models/<name>[/versions/<v>]/infer``
  (one input tensor per column; like MLServer's scikit-learn runtime it answers only
  ``predict`` unless the request asks for ``predict_proba`` by name),
  ``GET /v2/health/live``, ``GET /v2/health/ready``,
  ``GET /v2/models/<name>`` (metadata) and ``GET /v2/models/<name>/ready``.

Like a served model, it keeps connections alive (HTTP/1.1), answers each request in
one write with ``TCP_NODELAY`` set, and queues a burst of new connections (a listen
backlog of 128, not ``socketserver``'s 5, whose overflow made clients wait a second).

``faults`` injects failures into the first prediction requests, e.g.
``[Fault("status", times=2, status=503, retry_after="0")]``; with ``latency`` every
prediction request is answered that many seconds after its first line came, like a real model
behind a network (reading and parsing the body and the model's own computing count towards
it).  The server counts the prediction requests it receives and the most it was handling at
once.

From the command line it serves a scikit-learn model saved with skops::

    python -m audit.testing.endpoint --model model.skops --port 8080 [--model-name adult]

(``--latency SECONDS`` answers every prediction request that long after it came), printing
``serving on http://127.0.0.1:PORT`` once ready and stopping on SIGTERM
or SIGINT.  The file is loaded as ``--model`` loads one: only an explicit list of
exact types is trusted (:func:`audit.adapters.sklearn.load_skops`); anything else exits
with status 2.

The module is over 500 lines on purpose: the two protocols, the fault injection and the
command line share one server, and ``python -m audit.testing.endpoint`` must start it from
this one module.
"""

from __future__ import annotations

import argparse
import gc
import hmac
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from audit.adapters.http import oip_v2
from audit.adapters.http._values import json_scalar
from audit.adapters.sklearn import load_skops
from audit.core.protocols import Predictions
from audit.errors import AuditError, EndpointError, UsageError
from audit.testing._server import (
    LocalHTTPServer,
    LocalServer,
    TimedHandler,
    send_json,
    wait_until,
)

__all__ = [
    "Fault",
    "FaultKind",
    "PredictFn",
    "RespondMode",
    "ServedModel",
    "main",
    "serve_model",
    "sklearn_predict_fn",
    "start_server",
]

PredictFn = Callable[[pd.DataFrame], Predictions]
"""What the server serves: rows in, predictions out."""

RespondMode = Literal["labels", "probabilities", "records"]
"""How ``/invocations`` answers: ``[label, ...]``, ``[[p0, p1], ...]`` or
``[{"label": ..., "probability": ...}, ...]``."""

FaultKind = Literal[
    "ok",
    "status",
    "wrong_row_count",
    "malformed_json",
    "delay",
    "reset",
    "drip",
    "wrong_shape",
    "html",
    "bad_probabilities",
    "foreign_id",
]
"""``ok``: answer normally (a plan may begin with healthy requests, e.g. to fail
after the first few); ``status``: answer ``Fault.status`` (with ``Retry-After`` when set);
``wrong_row_count``: leave out the last prediction; ``malformed_json``: answer 200
with a truncated JSON body; ``delay``: wait ``Fault.seconds``, then answer;
``reset``: read the request, then reset the connection (TCP RST) without answering;
``drip``: send the answer's headers, then its body one byte every ``Fault.seconds``;
``wrong_shape``: answer 200 with predictions nested one level too deep (MLflow) or
tensors whose declared shape disagrees with their data (OIP v2); ``html``: answer 200
with an HTML error page; ``bad_probabilities``: answer each score ``s`` as ``3 s - 1``
(outside [0, 1] for most rows); ``foreign_id``: answer an OIP v2 request with another
request's ``id``."""

HOST = "127.0.0.1"
_OIP_MODEL = re.compile(r"^/v2/models/(?P<name>[^/]+)(?:/versions/[^/]+)?(?P<rest>/infer|/ready)?$")


@dataclass(frozen=True)
class Fault:
    """A failure the server injects into the next ``times`` prediction requests.

    Parameters
    ----------
    kind:
        What goes wrong; see :data:`FaultKind`.
    times:
        How many consecutive prediction requests it hits (default 1).
    status:
        HTTP status of a ``"status"`` fault (default 503).
    retry_after:
        ``Retry-After`` header of a ``"status"`` fault, or ``None`` for none.
    seconds:
        Wait of a ``"delay"`` fault, or between the bytes of a ``"drip"`` fault.

    Raises
    ------
    ValueError
        If a field is out of range.
    """

    kind: FaultKind
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"Fault kind must be one of {get_args(FaultKind)}; got {self.kind!r}.")
        if self.times < 1:
            raise ValueError(f"Fault times must be >= 1; got {self.times}.")
        if not 400 <= self.status <= 599:
            raise ValueError(f"Fault status must be an HTTP error (400-599); got {self.status}.")
        if self.seconds < 0:
            raise ValueError(f"Fault seconds must be >= 0; got {self.seconds}.")


class _FaultPlan:
    """The faults still to inject, one entry per request they hit."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self._queue = [fault for fault in faults for _ in range(fault.times)]
        self._lock = threading.Lock()

    def next(self) -> Fault | None:
        with self._lock:
            return self._queue.pop(0) if self._queue else None


class _ScoringServer(LocalHTTPServer):
    block_on_close = False

    def __init__(
        self,
        port: int,
        *,
        fn: PredictFn,
        model_name: str,
        require_token: str | None,
        faults: Sequence[Fault],
        respond: RespondMode,
        latency: float,
    ) -> None:
        super().__init__((HOST, port), _Handler)
        self.fn = fn
        self.model_name = model_name
        self.require_token = require_token
        self.plan = _FaultPlan(faults)
        self.respond = respond
        self.latency = latency
        self.lock = threading.Lock()
        self.requests = 0
        self.rows = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that hung up is not the server's problem."""


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class _Handler(TimedHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    # headers and body leave in one send (flushed after each request, and by _drip)
    wbufsize = 64 * 1024
    server: _ScoringServer

    def setup(self) -> None:
        """Send small answers at once (no Nagle delay on keep-alive connections)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""

    def do_GET(self) -> None:
        """Answer health and metadata requests."""
        self._dispatch(self._get)

    def do_POST(self) -> None:
        """Answer prediction requests."""
        self._dispatch(self._post)

    def _dispatch(self, route: Callable[[], None]) -> None:
        try:
            route()
        except _Reply as reply:
            self._send(reply.status, reply.body, reply.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        send_json(self, status, body, headers)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _check_token(self) -> None:
        token = self.server.require_token
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise _Reply(
                401,
                {"error": "missing or invalid bearer token"},
                {"WWW-Authenticate": "Bearer"},
            )

    def _get(self) -> None:
        path = self._path()
        if path in ("/ping", "/health"):
            raise _Reply(200, b"\n")
        if path in ("/v2/health/live", "/v2/health/ready"):
            raise _Reply(200, {path.rsplit("/", 1)[1]: True})
        self._check_token()
        if path == "/v2":
            raise _Reply(200, {"name": "maas-audit-testing", "version": "1", "extensions": []})
        match = _OIP_MODEL.match(path)
        if match is None or match.group("rest") == "/infer":
            raise _Reply(404, {"error": f"no such resource: GET {path}"})
        self._check_model(match.group("name"))
        if match.group("rest") == "/ready":
            raise _Reply(200, {"name": self.server.model_name, "ready": True})
        raise _Reply(200, self._metadata())

    def _metadata(self) -> dict[str, Any]:
        return {
            "name": self.server.model_name,
            "versions": [],
            "platform": "maas-audit-testing",
            "inputs": [],
            "outputs": [
                {"name": "predict", "datatype": "BYTES", "shape": [-1]},
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]},
            ],
        }

    def _check_model(self, name: str) -> None:
        if name != self.server.model_name:
            raise _Reply(404, {"error": f"model {name!r} not found"})

    def _read_json(self) -> Any:
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            raise _Reply(411, {"error": "Content-Length required"})
        if not length.isdigit():
            self.close_connection = True
            raise _Reply(400, {"error": f"bad Content-Length: {length!r}"})
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _Reply(400, {"error": f"request body is not JSON: {exc}"}) from None

    def _post(self) -> None:
        path = self._path()
        match = _OIP_MODEL.match(path)
        mlflow = path == "/invocations"
        if not mlflow and (match is None or match.group("rest") != "/infer"):
            self._read_json()
            raise _Reply(404, {"error": f"no such resource: POST {path}"})
        body = self._read_json()
        with self.server.lock:
            self.server.requests += 1
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            rows = self._rows(body, match, mlflow=mlflow)
            request_id = None if mlflow or not isinstance(body, dict) else body.get("id")
            asked = () if mlflow else self._asked(body)
            # the parsed JSON (a list per row) must not outlive the wait: objects alive at
            # a garbage collection move to an older generation, and the full collections
            # that follow stopped every thread of the server for tens of milliseconds
            del body
            self._answer(
                rows,
                mlflow=mlflow,
                due=self.arrived + self.server.latency,
                request_id=request_id if isinstance(request_id, str) else None,
                asked=asked,
            )
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _rows(self, body: Any, match: re.Match[str] | None, *, mlflow: bool) -> pd.DataFrame:
        self._check_token()
        if match is not None:
            self._check_model(match.group("name"))
        try:
            return _mlflow_frame(body) if mlflow else oip_v2.decode_infer_request(body)
        except EndpointError as exc:
            raise _Reply(400, {"error": str(exc)}) from None

    @staticmethod
    def _asked(body: Any) -> tuple[str, ...]:
        try:
            return oip_v2.asked_outputs(body)
        except EndpointError as exc:
            raise _Reply(400, {"error": str(exc)}) from None

    def _answer(
        self,
        rows: pd.DataFrame,
        *,
        mlflow: bool,
        due: float,
        request_id: str | None = None,
        asked: tuple[str, ...] = (),
    ) -> None:
        """Answer at ``due`` (monotonic seconds) at the earliest, computing meanwhile.

        An OIP v2 answer returns the request's ``id``, as the protocol requires, and
        the outputs ``asked`` for, as MLServer's scikit-learn runtime does.
        """
        with self.server.lock:
            self.server.rows += len(rows)
        fault = self.server.plan.next()
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            raise _Reply(fault.status, {"error": "injected fault"}, headers)
        if fault is not None and fault.kind == "malformed_json":
            raise _Reply(200, b'{"predictions": [')
        if fault is not None and fault.kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            raise _Reply(200, page, {"Content-Type": "text/html"})
        if fault is not None and fault.kind == "foreign_id":
            request_id = "another-request"
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
            due += fault.seconds
        predictions = self._predict(rows)
        if fault is not None and fault.kind == "wrong_row_count":
            predictions = _drop_last(predictions)
        if fault is not None and fault.kind == "bad_probabilities":
            predictions = _stretch_scores(predictions)
        if mlflow:
            answer: dict[str, Any] = {
                "predictions": _mlflow_answer(predictions, self.server.respond)
            }
        else:
            try:
                answer = oip_v2.encode_infer_response(
                    predictions,
                    model_name=self.server.model_name,
                    request_id=request_id,
                    asked=asked,
                )
            except EndpointError as exc:
                raise _Reply(400, {"error": str(exc)}) from None
        if fault is not None and fault.kind == "wrong_shape":
            answer = _wrong_shape(answer)
        raw = json.dumps(answer, allow_nan=False).encode()
        del answer
        wait_until(due)  # the answer leaves ``latency`` after the request came, not later
        if fault is not None and fault.kind == "drip":
            self._drip(raw, fault.seconds)
            return
        raise _Reply(200, raw)

    def _reset(self) -> None:
        """Abort the connection with a TCP reset: linger 0, then close."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _drip(self, raw: bytes, seconds: float) -> None:
        """Send a complete, valid answer, one byte of its body every ``seconds``."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.flush()
        for index in range(len(raw)):
            self.wfile.write(raw[index : index + 1])
            self.wfile.flush()
            time.sleep(seconds)

    def _predict(self, rows: pd.DataFrame) -> Predictions:
        try:
            predictions = self.server.fn(rows)
        except (KeyError, ValueError, TypeError) as exc:
            raise _Reply(400, {"error": f"{type(exc).__name__}: {exc}"}) from None
        except Exception as exc:
            raise _Reply(500, {"error": f"{type(exc).__name__}: {exc}"}) from None
        if len(predictions) != len(rows):
            raise _Reply(500, {"error": "the model returned the wrong number of predictions"})
        return predictions


def _mlflow_frame(body: Any) -> pd.DataFrame:
    if isinstance(body, dict) and isinstance(body.get("dataframe_split"), dict):
        split = body["dataframe_split"]
        columns, data = split.get("columns"), split.get("data")
        if not isinstance(columns, list) or not isinstance(data, list):
            raise EndpointError("dataframe_split needs 'columns' and 'data' lists.")
        if any(not isinstance(row, list) or len(row) != len(columns) for row in data):
            raise EndpointError(f"every row of dataframe_split must hold {len(columns)} values.")
        return pd.DataFrame(data, columns=columns) if data else pd.DataFrame(columns=columns)
    if isinstance(body, dict) and isinstance(body.get("dataframe_records"), list):
        return pd.DataFrame.from_records(body["dataframe_records"])
    raise EndpointError("expected an object with 'dataframe_split' or 'dataframe_records'.")


def _wrong_shape(answer: dict[str, Any]) -> dict[str, Any]:
    if "predictions" in answer:
        return {"predictions": [[[value]] for value in answer["predictions"]]}
    outputs = [{**output, "shape": [*output["shape"], 3]} for output in answer["outputs"]]
    return {**answer, "outputs": outputs}


def _drop_last(predictions: Predictions) -> Predictions:
    if len(predictions) == 0:
        return predictions
    labels = predictions.labels[:-1] if predictions.labels is not None else None
    scores = predictions.scores[:-1] if predictions.scores is not None else None
    return Predictions(labels=labels, scores=scores)


def _stretch_scores(predictions: Predictions) -> Predictions:
    """Scores ``s`` as ``3 s - 1``: what a server answering margins as probabilities sends."""
    if predictions.scores is None:
        return predictions
    scores = 3.0 * np.asarray(predictions.scores, dtype=np.float64) - 1.0
    return Predictions(labels=predictions.labels, scores=scores)


def _mlflow_answer(predictions: Predictions, respond: RespondMode) -> list[Any]:
    labels = _label_values(predictions.labels) if predictions.labels is not None else None
    scores = (
        np.asarray(predictions.scores, dtype=np.float64).tolist()
        if predictions.scores is not None
        else None
    )
    if respond == "probabilities":
        if scores is None:
            raise _Reply(500, {"error": "the model returns no scores to answer probabilities"})
        return [[1.0 - s, s] for s in scores]
    if respond == "records":
        if labels is not None and scores is not None:
            return [
                {"label": label, "probability": s} for label, s in zip(labels, scores, strict=True)
            ]
        if labels is not None:
            return [{"label": label} for label in labels]
        if scores is not None:
            return [{"probability": s} for s in scores]
        return [{} for _ in range(len(predictions))]
    if labels is None:
        raise _Reply(500, {"error": "the model returns no labels to answer labels"})
    return labels


def _label_values(labels: np.ndarray) -> list[Any]:
    """Labels as JSON values: strings, ints and booleans as they are, others cell by cell."""
    values: list[Any] = np.asarray(labels).tolist()
    if set(map(type, values)) <= {str, int, bool}:
        return values
    return [json_scalar(v, column="label") for v in values]


class ServedModel(LocalServer):
    """A running local scoring server; close it, or use :func:`serve_model`.

    Attributes
    ----------
    port:
        The TCP port it listens on, on ``127.0.0.1``.
    model_name:
        The OIP v2 model name.
    """

    _server: _ScoringServer

    def __init__(self, server: _ScoringServer) -> None:
        self.port: int = server.server_address[1]
        self.model_name = server.model_name
        super().__init__(server, name=f"maas-audit-endpoint-{self.port}", poll_interval=0.05)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    @property
    def mlflow_url(self) -> str:
        """The MLflow scoring URL, ``.../invocations``."""
        return f"{self.base_url}/invocations"

    @property
    def oip_url(self) -> str:
        """The OIP v2 inference URL, ``.../v2/models/<name>/infer``."""
        return f"{self.base_url}/v2/models/{self.model_name}/infer"

    @property
    def requests(self) -> int:
        """Prediction requests received so far (both protocols; health checks excluded)."""
        with self._server.lock:
            return self._server.requests

    @property
    def rows(self) -> int:
        """Rows received in prediction requests that could be decoded."""
        with self._server.lock:
            return self._server.rows

    @property
    def max_in_flight(self) -> int:
        """The most prediction requests the server was handling at the same time."""
        with self._server.lock:
            return self._server.max_in_flight

    def __repr__(self) -> str:
        return f"ServedModel({self.base_url!r}, model_name={self.model_name!r})"


def start_server(
    fn: PredictFn,
    *,
    model_name: str = "model",
    port: int = 0,
    require_token: str | None = None,
    faults: Sequence[Fault] | None = None,
    respond: RespondMode = "labels",
    latency: float = 0.0,
) -> ServedModel:
    """Start serving ``fn`` on ``127.0.0.1`` in a daemon thread; see :func:`serve_model`."""
    if not latency >= 0:
        raise UsageError(f"The latency must be a number of seconds >= 0; got {latency!r}.")
    if respond not in get_args(RespondMode):
        raise UsageError(
            f"The 'respond' parameter of serve_model must be one of {list(get_args(RespondMode))}; "
            f"got {respond!r} instead."
        )
    if "/" in model_name or not model_name:
        raise UsageError(f"The model name must be non-empty without '/'; got {model_name!r}.")
    server = _ScoringServer(
        port,
        fn=fn,
        model_name=model_name,
        require_token=require_token,
        faults=list(faults or ()),
        respond=respond,
        latency=float(latency),
    )
    return ServedModel(server)


@contextmanager
def serve_model(
    fn: PredictFn,
    *,
    model_name: str = "model",
    port: int = 0,
    require_token: str | None = None,
    faults: Sequence[Fault] | None = None,
    respond: RespondMode = "labels",
    latency: float = 0.0,
) -> Iterator[ServedModel]:
    """Serve a predict function over MLflow and OIP v2 on ``127.0.0.1`` while in the block.

    Parameters
    ----------
    fn:
        Rows in, :class:`~audit.core.protocols.Predictions` out.
    model_name:
        The OIP v2 model name (default ``"model"``).
    port:
        The port; 0 (default) picks a free one.
    require_token:
        When set, every request but health checks needs ``Authorization: Bearer <token>``.
    faults:
        Failures for the first prediction requests, applied in order.
    respond:
        The shape of MLflow answers; see :data:`RespondMode`.
    latency:
        Seconds from reading a prediction request to answering it (default 0); the
        model's own computing counts towards them (a ``delay`` fault adds to them).

    Yields
    ------
    ServedModel
        With ``mlflow_url``, ``oip_url``, request and row counters and
        ``max_in_flight``.

    Examples
    --------
    >>> import numpy as np
    >>> from audit.core.protocols import Predictions
    >>> with serve_model(lambda rows: Predictions(labels=np.zeros(len(rows)))) as served:
    ...     served.mlflow_url.startswith("http://127.0.0.1:")
    True
    """
    with start_server(
        fn,
        model_name=model_name,
        port=port,
        require_token=require_token,
        faults=faults,
        respond=respond,
        latency=latency,
    ) as served:
        yield served


def sklearn_predict_fn(model: Any) -> PredictFn:
    """Wrap a fitted scikit-learn estimator as a predict function.

    Labels come from ``predict``; scores from ``predict_proba[:, 1]`` when the
    estimator is a binary classifier.  Columns are put in the order the model was
    fitted with when it records them (``feature_names_in_``).
    """
    names = getattr(model, "feature_names_in_", None)
    classes = getattr(model, "classes_", None)
    binary = hasattr(model, "predict_proba") and classes is not None and len(classes) == 2

    def predict(rows: pd.DataFrame) -> Predictions:
        features = rows.loc[:, list(names)] if names is not None else rows
        labels = np.asarray(model.predict(features))
        scores = np.asarray(model.predict_proba(features))[:, 1] if binary else None
        return Predictions(labels=labels, scores=scores)

    return predict


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a ``.skops`` model in the foreground until SIGTERM or SIGINT; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m audit.testing.endpoint",
        description="Serve a scikit-learn .skops model on 127.0.0.1 over MLflow and OIP v2.",
    )
    parser.add_argument("--model", required=True, help="path of a .skops file")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--model-name", default="model", help="OIP v2 model name")
    parser.add_argument(
        "--respond",
        choices=get_args(RespondMode),
        default="labels",
        help="shape of MLflow answers (default: labels)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds from reading a prediction request to answering it (default 0)",
    )
    args = parser.parse_args(argv)
    try:
        model = load_skops(args.model)
        served = start_server(
            sklearn_predict_fn(model),
            model_name=args.model_name,
            port=args.port,
            respond=args.respond,
            latency=args.latency,
        )
    except (AuditError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    gc.freeze()  # a server process: what start-up made is never collected (short pauses)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    sys.stdout.write(f"serving on {served.base_url}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.2):
            pass
    finally:
        served.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

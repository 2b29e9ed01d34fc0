"""JSON over HTTP with timeouts, bounded retries and credentials from the environment.

Retries
    Connection errors, timeouts, ``429`` and ``5xx`` answers are retried up to
    ``max_retries`` times, waiting ``min(backoff_max, backoff_base * 2**k)`` with
    jitter (between half and all of it) before retry ``k + 1``; a ``Retry-After``
    header (seconds, or an HTTP date) replaces that wait, capped at
    ``backoff_max``.  Any other ``4xx`` fails at once, as :class:`RequestRefused`.

Timeouts
    ``timeout`` bounds each attempt as a whole, from connecting to the last byte of
    the answer (checked as each piece arrives), so an endpoint that drips its answer
    byte by byte times out like one that never answers.

Answer size
    The body is read raw and decoded here, not by ``httpx``: ``gzip`` and ``deflate``
    are inflated piece by piece, never more than 1 MiB of output per step, and the
    inflated bytes are counted as they arrive, so an answer larger than
    ``max_answer_bytes`` (:data:`MAX_ANSWER_BYTES`) is refused before it fills memory,
    however well it compresses.  Stacked encodings (``gzip, gzip``) and encodings
    that were not asked for are refused.

Threads
    One transport may be shared by several threads at once; the counters are
    updated under a lock, and each thread's request keeps the transport's own
    timeout and retries.  Each request borrows an ``httpx`` client that holds one
    keep-alive connection, and gives it back when its answer is read: there are as
    many clients as requests were ever in flight at once (which the caller bounds),
    so no request waits for a new connection, nor for another's.  One client shared
    by all threads would queue them on its connection pool's lock, which is held
    while every idle connection is polled (a system call, and a hand-over of the
    interpreter lock, for each): at 16 requests in flight that queue cost more than
    encoding the rows.

Credentials
    ``header_env`` maps header names to the names of environment variables that
    hold their values, e.g. ``{"Authorization": "MY_TOKEN_VAR"}`` with
    ``MY_TOKEN_VAR="Bearer abc"``.  With ``default_token=True`` (set for endpoints
    the user named: ``--model`` and model configs, never for a URL a policy names),
    when no ``Authorization`` header is configured and ``MAAS_AUDIT_TOKEN`` is set,
    ``Authorization: Bearer $MAAS_AUDIT_TOKEN`` is sent.  Header values never appear
    in :meth:`HttpTransport.describe` or ``repr``; every error message and answer
    excerpt passes :func:`~audit.core.secrets.redact`, which removes each
    value and its bare token; URLs in messages lose their user info and query string.
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from audit.core.closing import Closing
from audit.core.secrets import redact, register_secret
from audit.errors import EndpointError, UsageError

__all__ = [
    "DEFAULT_TOKEN_ENV",
    "MAX_ANSWER_BYTES",
    "HttpTransport",
    "RequestRefused",
    "encode_json",
    "safe_url",
]

DEFAULT_TOKEN_ENV = "MAAS_AUDIT_TOKEN"
"""Environment variable read as a bearer token when no ``Authorization`` header is set."""

MAX_ANSWER_BYTES = 256 * 1024 * 1024
"""Largest answer body read from an endpoint; a larger one is an :class:`EndpointError`."""

_SNIPPET = 200


class RequestRefused(EndpointError):
    """The endpoint answered a ``4xx`` other than ``429``: the request itself was refused.

    ``status`` is the answer's HTTP status.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


_INFLATE_STEP = 1024 * 1024
_ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def safe_url(url: str) -> str:
    """``url`` without user info, query string or fragment, fit for messages and reports.

    Examples
    --------
    >>> safe_url("https://user:pw@host:8443/v2/models/m/infer?key=abc")
    'https://host:8443/v2/models/m/infer'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _positive(name: str, value: float, *, minimum: float, strict: bool) -> None:
    bad = value <= minimum if strict else value < minimum
    if bad or isinstance(value, bool):
        relation = ">" if strict else ">="
        raise UsageError(
            f"The {name!r} parameter of HttpTransport must be a number {relation} {minimum:g}; "
            f"got {value!r} instead."
        )


class HttpTransport(Closing):
    """POSTs JSON to a model endpoint, retrying what may pass and counting what it sent.

    Parameters
    ----------
    timeout:
        Seconds to wait for connecting and for each read (default 30).
    max_retries:
        Retries after the first attempt (default 3, so at most 4 attempts).
    backoff_base, backoff_max:
        Seconds of the first wait between attempts, and the cap on any wait.
    header_env:
        Header name → name of the environment variable holding its value.
    default_token:
        Send ``Authorization: Bearer $MAAS_AUDIT_TOKEN`` when no ``Authorization``
        header is configured.  Only for an endpoint the user named.
    max_answer_bytes:
        Largest answer read, counted after decompression.
    transport:
        An ``httpx`` transport to use instead of the network, e.g.
        :class:`httpx.MockTransport` in tests.
    sleep:
        Called with the seconds to wait between attempts (tests pass a recorder).
    seed:
        Seed of the jitter, for reproducible waits.

    Raises
    ------
    UsageError
        If a setting is out of range, or a variable named in ``header_env`` is unset.

    Attributes
    ----------
    requests_sent:
        HTTP requests sent by :meth:`post_json`, retries included.
    rows_sent:
        Rows carried by those requests, retries included.
    retries:
        Attempts that were retries.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        header_env: Mapping[str, str] | None = None,
        default_token: bool = False,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        _positive("timeout", timeout, minimum=0, strict=True)
        _positive("backoff_base", backoff_base, minimum=0, strict=False)
        _positive("backoff_max", backoff_max, minimum=0, strict=False)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(
                "The 'max_retries' parameter of HttpTransport must be an int >= 0; "
                f"got {max_retries!r} instead."
            )
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        if (
            isinstance(max_answer_bytes, bool)
            or not isinstance(max_answer_bytes, int)
            or max_answer_bytes < 1
        ):
            raise UsageError(
                "The 'max_answer_bytes' parameter of HttpTransport must be an int >= 1; "
                f"got {max_answer_bytes!r} instead."
            )
        self.max_answer_bytes = max_answer_bytes
        self._headers = _resolve_headers(header_env or {}, default_token=default_token)
        self._secrets = [v for v in self._headers.values() if v]
        for secret in self._secrets:
            register_secret(secret)
        self._sleep = sleep
        self._random = random.Random(seed)
        self._mock = transport
        # made once and shared: httpx would load the CA bundle again for every client
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._clients: list[httpx.Client] = []
        self._idle: list[httpx.Client] = []
        self._closed = False
        self.requests_sent = 0
        self.rows_sent = 0
        self.retries = 0
        self._lock = threading.Lock()

    @property
    def auth_headers(self) -> list[str]:
        """Names (never values) of the credential headers sent."""
        return sorted(self._headers)

    def describe(self) -> dict[str, Any]:
        """Describe the settings for reports: timeout, retries, credential header names."""
        return {
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "auth_headers": self.auth_headers,
        }

    def __repr__(self) -> str:
        return (
            f"HttpTransport(timeout={self.timeout:g}, max_retries={self.max_retries}, "
            f"auth_headers={self.auth_headers})"
        )

    def close(self) -> None:
        """Close every connection; a request sent afterwards raises ``RuntimeError``."""
        with self._lock:
            self._closed = True
            clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            client.close()

    @contextmanager
    def _borrow(self) -> Iterator[httpx.Client]:
        """A client (one keep-alive connection) that no other thread uses meanwhile."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the HTTP transport is closed")
            client = self._idle.pop() if self._idle else None
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                transport=self._mock,
                verify=self._ssl,
                headers={"Accept": "application/json", "Accept-Encoding": _ACCEPT_ENCODING},
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            with self._lock:
                self._clients.append(client)
        try:
            yield client
        finally:
            with self._lock:
                if self._closed:
                    client.close()
                else:
                    self._idle.append(client)  # last in, first out: the warmest connection

    def post_json(self, url: str, payload: Any, *, rows: int = 0, text: bool = False) -> Any:
        """POST ``payload`` as JSON to ``url`` and return the parsed JSON answer.

        Parameters
        ----------
        url:
            Where to send it; may carry credentials, which messages never show.
        payload:
            A JSON-safe value (no NaN or infinity).
        rows:
            Rows the payload carries, for :attr:`rows_sent`.
        text:
            Also take an answer that is one line of text, not JSON, sent without a
            Content-Type or as ``text/plain``, as that text (a ``str``): TorchServe
            sends a handler's Python ``str`` that way.  Only for a caller that reads
            the whole answer as one label; any other body that is not JSON (an HTML
            page, invalid JSON sent as JSON) is still refused.

        Raises
        ------
        EndpointError
            If no attempt got a ``2xx`` answer, a ``4xx`` other than 429 came back,
            or the answer is not JSON (nor, with ``text``, one line of text).
        """
        return self.post_encoded(url, encode_json(payload), rows=rows, text=text)

    def post_encoded(self, url: str, body: bytes, *, rows: int = 0, text: bool = False) -> Any:
        """POST ``body``, already encoded as JSON (:func:`encode_json`), like :meth:`post_json`.

        A caller that encodes its payload first lets the payload's objects go before
        the request waits on the network (see :meth:`post_json` for the errors).
        """
        headers = {"Content-Type": "application/json", **self._headers}
        return self._send(
            "POST", url, content=body, headers=headers, rows=rows, retry=True, text=text
        )

    def get_json(self, url: str) -> Any:
        """GET ``url`` once, without retries, and return the parsed JSON answer.

        Raises
        ------
        EndpointError
            If the request fails or the answer is not ``2xx`` JSON.
        """
        return self._send("GET", url, content=None, headers=self._headers, rows=0, retry=False)

    def _send(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None,
        headers: Mapping[str, str],
        rows: int,
        retry: bool,
        text: bool = False,
    ) -> Any:
        where = safe_url(url)
        attempts = self.max_retries + 1 if retry else 1
        reason = "no attempt made"
        for attempt in range(1, attempts + 1):
            if retry:  # prediction requests are counted; metadata look-ups are not
                with self._lock:
                    self.requests_sent += 1
                    self.rows_sent += rows
                    self.retries += int(attempt > 1)
            wait: float | None = None
            try:
                response, body = self._exchange(method, url, content=content, headers=headers)
            except httpx.TimeoutException:
                reason = f"timed out after {self.timeout:g} s"
            except httpx.ConnectError as exc:
                reason = _connect_reason(exc)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {self.redact(str(exc)) or 'no detail'}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._parse(response, body, where, text=text)
                if status != 429 and status < 500:
                    raise RequestRefused(self._client_error(response, body, where), status=status)
                reason = f"last answer HTTP {status} {response.reason_phrase}".rstrip()
                wait = _retry_after(response.headers.get("Retry-After"))
            if attempt < attempts:
                self._sleep(self._delay(attempt, wait))
        raise EndpointError(f"{where}: no answer after {attempts} attempts ({reason})")

    def _exchange(
        self, method: str, url: str, *, content: bytes | None, headers: Mapping[str, str]
    ) -> tuple[httpx.Response, bytes]:
        """Send one request and read its whole answer within :attr:`timeout` seconds."""
        deadline = time.monotonic() + self.timeout
        with (
            self._borrow() as client,
            client.stream(method, url, content=content, headers=headers) as response,
        ):
            if response.is_stream_consumed:  # built in memory (a mock transport): decoded
                inflater, pieces = None, iter([response.content])
            else:
                inflater = _decoder(response.headers.get("Content-Encoding"), safe_url(url))
                pieces = response.iter_raw()
            chunks: list[bytes] = []
            size = 0
            for raw in pieces:
                for chunk in [raw] if inflater is None else inflater.feed(raw):
                    size += len(chunk)
                    if size > self.max_answer_bytes:
                        raise EndpointError(self._too_large(url))
                    chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("answer incomplete at the deadline")
            if inflater is not None and chunks:
                inflater.finish()
        return response, b"".join(chunks)

    def _too_large(self, url: str) -> str:
        limit = self.max_answer_bytes
        shown = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        return f"{safe_url(url)}: the answer is larger than {shown}; refusing to read it"

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        full = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        with self._lock:
            return full / 2 + self._random.uniform(0, full / 2)

    def redact(self, text: str) -> str:
        """``text`` without any credential value, in any form (see :mod:`.secrets`)."""
        return redact(text, self._secrets)

    def _snippet(self, response: httpx.Response, body: bytes) -> str:
        text = " ".join(body.decode(response.encoding or "utf-8", errors="replace").split())
        if len(text) > _SNIPPET:
            text = text[: _SNIPPET - 3] + "..."
        return self.redact(text)

    def _parse(self, response: httpx.Response, body: bytes, where: str, *, text: bool) -> Any:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            line = _text_line(response, body) if text else None
            if line is not None:
                return line
            shown = self._snippet(response, body) or "an empty body"
            raise EndpointError(
                f"{where}: HTTP {response.status_code} with a body that is not JSON: {shown}"
            ) from None

    def _client_error(self, response: httpx.Response, body: bytes, where: str) -> str:
        status = response.status_code
        message = f"{where}: HTTP {status} {response.reason_phrase}".rstrip()
        if status in (401, 403):
            configured = ", ".join(self.auth_headers) or "none"
            message += (
                f" (credential headers sent: {configured}; set them with header_env or "
                f"{DEFAULT_TOKEN_ENV})"
            )
        snippet = self._snippet(response, body)
        return f"{message}: {snippet}" if snippet else message


def encode_json(payload: Any) -> bytes:
    """``payload`` as compact JSON bytes, as every request body is sent.

    Raises
    ------
    ValueError
        If it holds NaN or infinity, which JSON cannot carry.

    Examples
    --------
    >>> encode_json({"a": [1, 2.5, None]})
    b'{"a":[1,2.5,null]}'
    """
    return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()


def _resolve_headers(header_env: Mapping[str, str], *, default_token: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for header, variable in header_env.items():
        value = os.environ.get(variable)
        if value is None:
            raise UsageError(
                f"environment variable {variable!r} (for header {header!r}) is not set; "
                "export it before auditing the endpoint."
            )
        headers[header] = value
    token = os.environ.get(DEFAULT_TOKEN_ENV) if default_token else None
    if token and not any(h.lower() == "authorization" for h in headers):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _decoder(encoding: str | None, where: str) -> _Inflater | None:
    """What inflates a body sent with ``Content-Encoding: encoding``; ``None``: nothing."""
    codings = [c.strip().lower() for c in (encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise EndpointError(
            f"{where}: the answer is encoded {', '.join(codings)}; stacked encodings are refused"
        )
    if codings[0] not in _WBITS:
        raise EndpointError(
            f"{where}: the answer is encoded {codings[0]!r}, which was not asked for "
            f"(accepted: {_ACCEPT_ENCODING})"
        )
    return _Inflater(codings[0], where)


class _Inflater:
    """Inflates a gzip or deflate body piece by piece, each piece at most 1 MiB."""

    def __init__(self, coding: str, where: str) -> None:
        self._zlib = zlib.decompressobj(_WBITS[coding])
        self._raw_deflate_allowed = coding == "deflate"  # servers send it raw or zlib-wrapped
        self._where = where

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The inflated pieces of ``raw``, made one at a time as the caller asks."""
        data = raw
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, _INFLATE_STEP)
            except zlib.error as exc:
                if self._raw_deflate_allowed:
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._raw_deflate_allowed = False
                    continue
                raise EndpointError(
                    f"{self._where}: the compressed answer is corrupt ({exc})"
                ) from None
            self._raw_deflate_allowed = False
            data = self._zlib.unconsumed_tail
            if piece:
                yield piece
            while len(piece) == _INFLATE_STEP and not data and not self._zlib.eof:
                piece = self._zlib.decompress(b"", _INFLATE_STEP)  # output zlib held back
                if piece:
                    yield piece

    def finish(self) -> None:
        """Refuse a body that ended before its compressed stream did."""
        if not self._zlib.eof:
            raise EndpointError(f"{self._where}: the compressed answer is truncated")


def _text_line(response: httpx.Response, body: bytes) -> str | None:
    """The answer's one line of text, when it is sent as text; ``None`` otherwise.

    TorchServe (0.12) sends a handler's Python ``str`` as its bare UTF-8 bytes with no
    Content-Type header; other servers send text as ``text/plain``.  A body sent as
    anything else (``text/html``, ``application/json``), empty, not in its charset, or
    of several lines (an error page) is not a label.  One line ending is dropped, as
    servers often end text with one.
    """
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind not in ("", "text/plain"):
        return None
    try:
        line = body.decode(response.charset_encoding or "utf-8").removesuffix("\n")
    except (UnicodeDecodeError, LookupError):
        return None
    line = line.removesuffix("\r")
    return line if line and "\n" not in line and "\r" not in line else None


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "host name not found"
    return "cannot connect"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None

"""A client of OpenAI-compatible ``/v1/chat/completions`` endpoints, for probing text models.

Each prompt goes in its own request, one after the other, as a single user message::

    {"model": "<name>", "messages": [{"role": "user", "content": "<prompt>"}],
     "temperature": 0, "max_tokens": 256}

and the answer's ``choices[0].message.content`` is read.  Timeouts, retries and
credential headers are those of :class:`~audit.adapters.http.transport.HttpTransport`;
an answer of the wrong shape is an :class:`~audit.errors.EndpointError` whose message
is one line and never quotes the answer (it may hold personal data).

>>> chat_url("http://127.0.0.1:8000")
'http://127.0.0.1:8000/v1/chat/completions'
>>> chat_url("https://llm.example/v1")
'https://llm.example/v1/chat/completions'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from audit.adapters.http.transport import HttpTransport, safe_url
from audit.core.closing import Closing
from audit.core.protocols import Predictions
from audit.errors import EndpointError, ModelSpecError, UsageError

__all__ = ["DEFAULT_MAX_PROMPTS", "ChatClient", "chat_client", "chat_url", "parse_answer"]

ERR_NO_DECISIONS = (
    "the chat client for {url} answers prompts and decides no rows: it can be the model "
    "of a data-only policy whose probes use it (probes.endpoint: model); to audit an LLM's "
    "decisions, give a 'kind: chat' model config"
)

DEFAULT_MAX_PROMPTS = 50
"""Most prompts one :meth:`ChatClient.complete` call sends unless told otherwise."""

_PATH = "/v1/chat/completions"


def chat_url(url: str) -> str:
    """The ``/v1/chat/completions`` URL of an endpoint given by its base or full URL.

    Raises
    ------
    ModelSpecError
        If ``url`` is not an HTTP(S) URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelSpecError(
            f"cannot use {safe_url(url)!r} as a chat endpoint: expected "
            f"http(s)://host[:port][/prefix]{_PATH}"
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions" if path.endswith("/v1") else _PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def parse_answer(body: Any, where: str) -> str:
    """The text of ``choices[0].message.content`` in a chat completion answer.

    Raises
    ------
    EndpointError
        If the answer lacks it; the message names what is missing, never the content.

    Examples
    --------
    >>> parse_answer({"choices": [{"message": {"role": "assistant", "content": "Hi"}}]}, "x")
    'Hi'
    """
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices:
        raise EndpointError(f"{where}: the answer has no 'choices' list")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        raise EndpointError(f"{where}: choices[0] has no 'message' object")
    content = message.get("content")
    if content is None:
        return ""
    if not isinstance(content, str):
        raise EndpointError(
            f"{where}: choices[0].message.content is {type(content).__name__}, not text"
        )
    return content


class ChatClient(Closing):
    """Sends prompts to a chat completions endpoint and returns the answers' texts.

    As the audited model (``run_audit(model=chat_client(...))``) it answers a policy's
    probe prompts (``probes.endpoint: model``) with the credentials its caller chose; it
    decides no rows (a ``kind: chat`` model config does that).

    Parameters
    ----------
    url:
        The endpoint's ``.../v1/chat/completions`` URL (see :func:`chat_url`).
    model:
        The ``model`` field of each request.
    transport:
        Timeouts, retries and credentials; a default :class:`HttpTransport` when left out.
    max_prompts:
        Most prompts one :meth:`complete` call sends; extra prompts are refused.
    temperature, max_tokens:
        Sent with each request (``max_tokens`` only when not ``None``).

    Raises
    ------
    UsageError
        If ``max_prompts`` is not a positive int.
    """

    def __init__(
        self,
        url: str,
        *,
        model: str,
        transport: HttpTransport | None = None,
        max_prompts: int = DEFAULT_MAX_PROMPTS,
        temperature: float = 0.0,
        max_tokens: int | None = 256,
    ) -> None:
        if isinstance(max_prompts, bool) or not isinstance(max_prompts, int) or max_prompts < 1:
            raise UsageError(
                f"The 'max_prompts' parameter of ChatClient must be an int >= 1; "
                f"got {max_prompts!r} instead."
            )
        self.url = url
        self.model = model
        self.max_prompts = max_prompts
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.transport = transport if transport is not None else HttpTransport()

    def __repr__(self) -> str:
        return f"ChatClient({safe_url(self.url)!r}, model={self.model!r})"

    def describe(self) -> dict[str, Any]:
        """Settings for reports: protocol, URL without credentials, model, transport."""
        return {
            "protocol": "openai-chat",
            "url": safe_url(self.url),
            "model": self.model,
            "max_prompts": self.max_prompts,
            **self.transport.describe(),
        }

    @property
    def batch_size(self) -> int:
        """Of the model adapter protocol: a client decides no rows; its prompts per call."""
        return self.max_prompts

    @property
    def input_columns(self) -> None:
        """No columns: a chat client reads prompts, not rows."""
        return None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Refuse: a chat client answers prompts and makes no decision about rows.

        Raises
        ------
        ModelSpecError
            Always.
        """
        raise ModelSpecError(ERR_NO_DECISIONS.format(url=safe_url(self.url)))

    def fingerprint(self) -> str:
        """Hex SHA-256 of the endpoint (without credentials) and the model name."""
        return hashlib.sha256(f"{safe_url(self.url)}\n{self.model}".encode()).hexdigest()

    def complete(self, prompts: Sequence[str]) -> list[str]:
        """Send each prompt as one user message, in order; the answers' texts.

        Raises
        ------
        UsageError
            If there are more than :attr:`max_prompts` prompts.
        EndpointError
            If a request fails or an answer has the wrong shape.
        """
        if len(prompts) > self.max_prompts:
            raise UsageError(
                f"{len(prompts)} prompts given, but at most {self.max_prompts} are sent at once"
            )
        return [self._one(prompt, index) for index, prompt in enumerate(prompts)]

    def _one(self, prompt: str, index: int) -> str:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        body = self.transport.post_json(self.url, payload, rows=1)
        try:
            return parse_answer(body, f"{safe_url(self.url)} (prompt {index + 1})")
        except EndpointError as exc:
            raise EndpointError(self.transport.redact(str(exc))) from None

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()


def chat_client(
    url: str,
    *,
    model: str,
    header_env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    max_retries: int = 2,
    max_prompts: int = DEFAULT_MAX_PROMPTS,
    max_tokens: int | None = 256,
    default_token: bool = True,
) -> ChatClient:
    """Build a :class:`ChatClient` for ``url`` (a base URL or the full completions URL).

    ``default_token`` sends ``MAAS_AUDIT_TOKEN`` as a bearer token when no
    ``Authorization`` header is set: true for a URL the user named, false for one a
    policy names (see :mod:`audit.adapters.http.transport`).

    Raises
    ------
    ModelSpecError
        If ``url`` is not HTTP(S).
    UsageError
        If a setting is out of range or a credential variable is unset.
    """
    transport = HttpTransport(
        timeout=timeout,
        max_retries=max_retries,
        header_env=header_env,
        default_token=default_token,
    )
    return ChatClient(
        chat_url(url),
        model=model,
        transport=transport,
        max_prompts=max_prompts,
        max_tokens=max_tokens,
    )

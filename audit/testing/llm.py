"""A stand-in LLM screener behind a local OpenAI-compatible ``/v1/chat/completions`` server.

Its behaviour is planted, so tests know the truth an audit must find::

    with serve_screener(Screener(flip_rate=0.3)) as llm:
        ...  # llm.url, llm.requests, llm.expected(fields)

Reading the prompt
    Lines ``name: value`` of the last user message are the applicant's fields.

Deciding (:meth:`Screener.decide`)
    *Merit*: ``approve(fields)`` (default: ``education-num`` >= 13 or
    ``hours-per-week`` >= 50).  *Planted bias*: when ``fields[bias_field] ==
    bias_value`` (default ``sex: Female``), a merited applicant is rejected if
    ``u < flip_rate``, where ``u`` in [0, 1) is a hash of the *other* fields, so the
    same applicant with another cue is decided the same otherwise.  The
    probability of the chosen word is ``0.75 + 0.2 v`` (``v`` another hash), and
    logprobs, when asked, carry it and its complement for the other word.

Answers
    ``style``: ``"json"`` (``{"decision": "approve"}``), ``"word"`` (``Approve``)
    or ``"sentence"`` (``After review, I would approve this applicant.``).
    Faults, each on the prompts whose hash falls below the share: ``off_format``
    (an answer without a decision), ``truncate`` (cut, ``finish_reason:
    "length"``), ``refuse`` (no content, a ``message.refusal`` instead), ``flaky``
    (the decision alternates from call to call); and ``rate_limit`` answers the
    first N requests with 429.  ``max_completion_tokens`` (or ``max_tokens``) cuts
    the answer as a real model does.  ``usage`` counts tokens (words and punctuation).
    ``latency``: each answer leaves that many seconds after its request came, its
    parsing and computing included (as :func:`audit.testing.serve_model` answers).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from audit.testing._server import (
    LocalHTTPServer,
    LocalServer,
    TimedHandler,
    send_json,
    wait_until,
)

__all__ = ["Screener", "StandInLLM", "adult_merit", "main", "prompt_fields", "serve_screener"]

_PATH = "/v1/chat/completions"
# horizontal blanks only: an empty field must not take the next line as its value
_FIELD = re.compile(r"^[ \t]*([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")
Style = Literal["json", "word", "sentence"]


def prompt_fields(prompt: str) -> dict[str, str]:
    r"""The ``name: value`` lines of a prompt.

    >>> prompt_fields("Applicant\nage: 39\nsex: Female")
    {'age': '39', 'sex': 'Female'}
    >>> prompt_fields("occupation: \nhours-per-week: 25")
    {'occupation': '', 'hours-per-week': '25'}
    """
    return {m.group(1): m.group(2) for m in _FIELD.finditer(prompt)}


def _number(fields: Mapping[str, str], name: str) -> float:
    try:
        return float(fields.get(name, "nan"))
    except ValueError:
        return math.nan


def adult_merit(fields: Mapping[str, str]) -> bool:
    """The default merit rule: ``education-num`` >= 13 or ``hours-per-week`` >= 50."""
    return _number(fields, "education-num") >= 13 or _number(fields, "hours-per-week") >= 50


def _unit(text: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}\x1f{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Screener:
    """The planted behaviour of the stand-in (see the module docstring)."""

    approve: Callable[[Mapping[str, str]], bool] = adult_merit
    bias_field: str = "sex"
    bias_value: str = "Female"
    flip_rate: float = 0.0
    cue_fields: tuple[str, ...] = ("name",)
    style: Style = "json"
    off_format: float = 0.0
    truncate: float = 0.0
    refuse: float = 0.0
    flaky: float = 0.0
    rate_limit: int = 0
    latency: float = 0.0

    def base(self, fields: Mapping[str, str]) -> str:
        """The fields without the cues, as one text: what the hashes read."""
        ignored = {self.bias_field, *self.cue_fields}
        return json.dumps({k: v for k, v in sorted(fields.items()) if k not in ignored})

    def decide(self, fields: Mapping[str, str]) -> tuple[bool, float]:
        """The planted decision (True: approve) and the probability of the word chosen."""
        base = self.base(fields)
        decision = bool(self.approve(fields))
        cued = fields.get(self.bias_field) == self.bias_value
        if decision and cued and _unit(base, "flip") < self.flip_rate:
            decision = False
        return decision, 0.75 + 0.2 * _unit(base, "confidence")

    def p_approve(self, fields: Mapping[str, str]) -> float:
        """P(approve) as the logprobs report it."""
        decision, p = self.decide(fields)
        return p if decision else 1.0 - p

    def fault(self, fields: Mapping[str, str], name: str) -> bool:
        """Whether fault ``name`` (a share among the attributes) strikes this prompt."""
        share = float(getattr(self, name))
        return share > 0 and _unit(self.base(fields), name) < share


def _wording(style: Style, word: str) -> tuple[str, str]:
    """The answer text, and the token the decision word is (with its leading space)."""
    if style == "json":
        return json.dumps({"decision": word}), word
    if style == "word":
        return word.capitalize(), word.capitalize()
    return f"After review, I would {word} this applicant.", f" {word}"


class _Server(LocalHTTPServer):
    def __init__(self, screener: Screener, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.screener = screener
        self.lock = threading.Lock()
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()


class _Handler(TimedHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep connections alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        send_json(self, status, body, headers)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep-alive: read all
        due = self.arrived + self.server.screener.latency
        if self.path.split("?")[0].rstrip("/") != _PATH:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
            messages = body["messages"]
            prompt = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        except (ValueError, KeyError, TypeError, StopIteration):
            self._send(400, {"error": {"message": "expected messages with a user turn"}})
            return
        screener = self.server.screener
        with self.server.lock:
            self.server.requests += 1
            number = self.server.requests
            self.server.bodies.append(body)
            self.server.calls[prompt] += 1
            call = self.server.calls[prompt]
        if number <= screener.rate_limit:
            self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
            return
        answer = _completion(screener, body, prompt, call)
        wait_until(due)
        self._send(200, answer)


def _completion(screener: Screener, body: Mapping[str, Any], prompt: str, call: int) -> Any:
    fields = prompt_fields(prompt)
    decision, p = screener.decide(fields)
    if screener.fault(fields, "flaky") and call % 2 == 0:
        decision = not decision
    word, other = ("approve", "reject") if decision else ("reject", "approve")
    content, token = _wording(screener.style, word)
    finish = "stop"
    if screener.fault(fields, "off_format"):
        content, token = "I cannot decide on this applicant.", ""
    tokens = _tokens(content)
    cap = body.get("max_completion_tokens", body.get("max_tokens"))
    if screener.fault(fields, "truncate"):
        cap = 2
    if isinstance(cap, int) and len(tokens) > cap:
        tokens, finish = tokens[:cap], "length"
        content = "".join(tokens)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if screener.fault(fields, "refuse"):  # as OpenAI answers a refusal: no content
        message = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
        tokens, token = _tokens(message["refusal"]), ""
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
    if body.get("logprobs"):
        other_token = _wording(screener.style, other)[1]
        choice["logprobs"] = {"content": [_logprob(t, token, other_token, p) for t in tokens]}
    words = sum(len(_tokens(str(m.get("content", "")))) for m in body["messages"])
    return {
        "id": f"chatcmpl-standin-{call}",
        "object": "chat.completion",
        "model": body.get("model", ""),
        "system_fingerprint": "fp_standin_1",
        "choices": [choice],
        "usage": {
            "prompt_tokens": words,
            "completion_tokens": len(tokens),
            "total_tokens": words + len(tokens),
        },
    }


def _logprob(text: str, chosen: str, other: str, p: float) -> dict[str, Any]:
    if chosen and text == chosen:
        top = [
            {"token": chosen, "logprob": math.log(p)},
            {"token": other, "logprob": math.log(1.0 - p)},
        ]
        return {"token": text, "logprob": math.log(p), "top_logprobs": top}
    return {"token": text, "logprob": 0.0, "top_logprobs": [{"token": text, "logprob": 0.0}]}


class StandInLLM(LocalServer):
    """A running stand-in; close it (or use it as a context manager) to stop it."""

    _server: _Server

    def __init__(self, server: _Server) -> None:
        super().__init__(server, name="maas-audit-standin-llm", poll_interval=0.05)

    @property
    def url(self) -> str:
        """The ``/v1/chat/completions`` URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{_PATH}"

    @property
    def screener(self) -> Screener:
        """The planted behaviour."""
        return self._server.screener

    @property
    def requests(self) -> int:
        """Requests received, 429s included."""
        with self._server.lock:
            return self._server.requests

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every request body received, in order."""
        with self._server.lock:
            return list(self._server.bodies)


def serve_screener(screener: Screener | None = None, *, port: int = 0) -> StandInLLM:
    """Start the stand-in on 127.0.0.1 (``port`` 0: a free one) with ``screener``'s behaviour."""
    return StandInLLM(_Server(screener or Screener(), port))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m audit.testing.llm --port 8000 [--flip-rate 0.3] [--style json]``."""
    parser = argparse.ArgumentParser(prog="python -m audit.testing.llm", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--flip-rate", type=float, default=0.3)
    parser.add_argument("--style", choices=["json", "word", "sentence"], default="json")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds from reading a request to answering it"
    )
    args = parser.parse_args(argv)
    screener = Screener(flip_rate=args.flip_rate, style=args.style, latency=args.latency)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with serve_screener(screener, port=args.port) as llm:
        sys.stdout.write(f"serving on {llm.url}\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A local OpenAI-compatible ``/v1/chat/completions`` server answering from a Python function.

For tests of output-leakage probes::

    with serve_chat(lambda prompt: "No personal data here.") as bot:
        client = chat_client(bot.url, model="bot")

The function gets the last user message and returns the assistant's text.  Requests
go to ``POST /v1/chat/completions`` only; anything else is a 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from audit.testing._server import LocalHTTPServer, LocalServer

__all__ = ["ChatBot", "RespondFn", "serve_chat"]

RespondFn = Callable[[str], str]
"""Turns a user prompt into the assistant's answer."""

_PATH = "/v1/chat/completions"


class _ChatServer(LocalHTTPServer):
    def __init__(self, respond: RespondFn) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.respond = respond
        self.prompts: list[str] = []
        self.lock = threading.Lock()


class _ChatHandler(BaseHTTPRequestHandler):
    server: _ChatServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        if self.path.split("?")[0].rstrip("/") != _PATH:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length))
            messages = body["messages"]
            prompt = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        except (ValueError, KeyError, TypeError, StopIteration):
            self._send(400, {"error": {"message": "expected messages with a user turn"}})
            return
        with self.server.lock:
            self.server.prompts.append(prompt)
        answer = self.server.respond(prompt)
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(self.server.prompts)}",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
            },
        )


class ChatBot(LocalServer):
    """A running chat server; close it (or use it as a context manager) to stop it.

    Attributes
    ----------
    url : str
        Its ``/v1/chat/completions`` URL.
    prompts : list of str
        Every prompt received, in order.
    """

    _server: _ChatServer

    def __init__(self, server: _ChatServer) -> None:
        super().__init__(server)
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}{_PATH}"

    @property
    def prompts(self) -> list[str]:
        """Prompts received so far."""
        with self._server.lock:
            return list(self._server.prompts)


def serve_chat(respond: RespondFn) -> ChatBot:
    """Start a chat completions server on a free local port, answering with ``respond``."""
    return ChatBot(_ChatServer(respond))

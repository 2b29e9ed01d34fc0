"""The thread that runs a local test server, and how it stops (shared by the test servers)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

from audit.core.closing import Closing

__all__ = ["LocalServer"]


class LocalServer(Closing):
    """Serves ``server`` from a daemon thread until closed; a context manager.

    Parameters
    ----------
    server:
        The bound server to run.
    name:
        The thread's name (``None``: Python's default).
    poll_interval:
        Seconds between checks for a shutdown request.
    """

    def __init__(
        self, server: ThreadingHTTPServer, *, name: str | None = None, poll_interval: float = 0.5
    ) -> None:
        self._server = server
        self._closed = False
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

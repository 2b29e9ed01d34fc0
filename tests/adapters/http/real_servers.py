"""Start a real model server for a test, and stop it whatever happens.

The server runs in a process group of its own, in ``folder``, writing its output to
``folder/log.txt``.  It must answer ``ready`` within ``start_s`` seconds, or the test
fails showing the end of the log.  At the end the whole group is stopped (SIGTERM,
then SIGKILL).  A launcher script that starts with :data:`DIE_WITH_PARENT` is also
stopped by the kernel when the test process dies without cleaning up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

DIE_WITH_PARENT = (
    "import ctypes, signal\n"
    'ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n'
)
"""Python lines that have the kernel send SIGTERM to this process when its parent dies."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    command: Sequence[str],
    *,
    folder: Path,
    ready: Callable[[], bool],
    name: str,
    start_s: float = 90.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Run ``command`` in ``folder`` until the block ends; enter once ``ready()`` is true."""
    log = (folder / "log.txt").open("wb")
    process = subprocess.Popen(
        list(command), stdout=log, stderr=log, cwd=folder, env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + start_s
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if ready():
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.3)
        else:
            pytest.fail(f"{name} did not start: {(folder / 'log.txt').read_text()[-2000:]}")
        yield
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: the launcher and what it started."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)

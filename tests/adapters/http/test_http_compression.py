"""Compressed answers: inflated piece by piece and counted as they grow; stacks refused."""

from __future__ import annotations

import gzip
import json
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from audit.adapters.http.transport import HttpTransport
from audit.errors import EndpointError

URL = "http://h/invocations"
ANSWER = {"predictions": list(range(2_000))}
MiB = 1024 * 1024


class _RawStream(httpx.SyncByteStream):
    """Bytes exactly as sent on the wire: httpx does not read or decode them up front."""

    def __init__(self, data: bytes, piece: int = 4096) -> None:
        self._data = data
        self._piece = piece

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._piece):
            yield self._data[start : start + self._piece]


def _transport(
    body: bytes, encoding: str | None, *, piece: int = 4096, **options: Any
) -> HttpTransport:
    headers = {"Content-Type": "application/json"}
    if encoding is not None:
        headers["Content-Encoding"] = encoding

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=_RawStream(body, piece))

    return HttpTransport(transport=httpx.MockTransport(handler), max_retries=0, **options)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        (None, lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
    ],
    ids=["plain", "identity", "gzip", "gzip-case", "deflate-zlib", "deflate-raw"],
)
def test_compressed_answers_are_read(encoding, pack):
    body = pack(json.dumps(ANSWER).encode())
    with _transport(body, encoding) as transport:
        assert transport.post_json(URL, {}) == ANSWER


def test_a_gzip_bomb_is_refused_with_memory_bounded():
    # 64 MiB of zeros in about 64 KiB of gzip; the limit is 1 MiB.  Decoding each
    # 64 KiB piece read from the socket whole (as httpx does) allocates 64 MiB at once.
    bomb = gzip.compress(b"\0" * (64 * MiB), compresslevel=9)
    assert len(bomb) < 100_000
    with _transport(bomb, "gzip", piece=65_536, max_answer_bytes=MiB) as transport:
        tracemalloc.start()
        try:
            with pytest.raises(EndpointError, match="larger than 1 MiB"):
                transport.post_json(URL, {})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_stacked_encodings_are_refused():
    body = gzip.compress(gzip.compress(json.dumps(ANSWER).encode()))
    with (
        _transport(body, "gzip, gzip") as transport,
        pytest.raises(EndpointError, match="stacked encodings are refused"),
    ):
        transport.post_json(URL, {})


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
def test_encodings_not_asked_for_are_refused(encoding):
    with (
        _transport(b"xxxx", encoding) as transport,
        pytest.raises(EndpointError, match="which was not asked for"),
    ):
        transport.post_json(URL, {})


def test_corrupt_and_truncated_gzip_are_one_line_errors():
    whole = gzip.compress(json.dumps(ANSWER).encode())
    with (
        _transport(whole[: len(whole) // 2], "gzip") as transport,
        pytest.raises(EndpointError, match="truncated"),
    ):
        transport.post_json(URL, {})
    with (
        _transport(b"not gzip at all", "gzip") as transport,
        pytest.raises(EndpointError, match="corrupt") as caught,
    ):
        transport.post_json(URL, {})
    assert "\n" not in str(caught.value)


def test_the_limit_counts_inflated_bytes_over_a_real_socket():
    # A real server: the answer is 4 MiB once inflated, 4 KiB on the wire.
    inflated = json.dumps({"predictions": "a" * (4 * MiB)}).encode()
    body = gzip.compress(inflated)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/invocations"
    try:
        with (
            HttpTransport(max_retries=0, max_answer_bytes=MiB) as small,
            pytest.raises(EndpointError, match="larger than 1 MiB"),
        ):
            small.post_json(url, {})
        with HttpTransport(max_retries=0) as large:
            assert len(large.post_json(url, {})["predictions"]) == 4 * MiB
    finally:
        server.shutdown()
        server.server_close()

"""Scoring a served model: one request at a time, several in flight, and a cached rerun.

A synthetic table is scored through :func:`audit.scoring.score_batches` against
:func:`audit.testing.serve_model` on localhost (MLflow protocol), run in its own process
(``--in-process``: a thread of this one), which answers every prediction request
``--latency`` seconds after its first line came, reading and parsing the body and its own
computing included, like a model behind a network.  Every mode must give the same
predictions, in the same order, before any figure is printed.

Each row is compared with the bound that latency and the requests in flight set: ``r``
requests with ``c`` in flight go out in ``ceil(r / c)`` rounds, none shorter than the
latency, so no client scores ``n`` rows faster than ``n / (ceil(r / c) * latency)``
rows/s; the target is 80% of that.  When the requests divide into full rounds (40
requests at 1, 4 and 8 in flight) this is ``c * b / latency`` for requests of ``b``
rows.  At 16 in flight, 40 requests need 3 rounds (0.15 s of waiting), so
``16 * b / latency`` is out of reach (83% of it at most): the target is judged against
the 3 rounds, and the row's notes also give the share of ``16 * b / latency``.

    python benchmarks/http_scoring.py                       # 20,000 rows, 50 ms per request
    python benchmarks/http_scoring.py --rows 100000 --latency 0.1 --concurrency 4,8,16
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rows import Row, markdown_table, throughput  # noqa: E402  (beside this file)

from audit.adapters.http import http_adapter  # noqa: E402
from audit.core.context import ColumnRoles  # noqa: E402
from audit.core.protocols import Predictions  # noqa: E402
from audit.scoring import ScoringReport, score_batches  # noqa: E402
from audit.testing import serve_model  # noqa: E402

BATCH_SIZE = 500
BOUND_SHARE = 0.8
"""Target: rows/s at least this share of ``in flight x rows per request / latency``."""


def decision_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """Numeric and string features of a synthetic credit decision log."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.6, rows).round(2),
            "age": rng.integers(18, 90, rows),
            "debt_ratio": rng.uniform(0, 1.5, rows).round(4),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "sex": rng.choice(["female", "male"], rows),
            "approved": rng.integers(0, 2, rows),
        }
    )


def predict(rows: pd.DataFrame) -> Predictions:
    """A logistic score of the numeric features; label 'approve' at 0.5."""
    income = rows["income"].to_numpy(dtype=float)
    debt_ratio = rows["debt_ratio"].to_numpy(dtype=float)
    z = 0.8 * (np.log(income) - 10) - 2.0 * (debt_ratio - 0.5)
    scores = 1 / (1 + np.exp(-z))
    labels = np.where(scores >= 0.5, "approve", "decline").astype(object)
    return Predictions(labels=labels, scores=scores)


@contextmanager
def served_model(latency: float, *, in_process: bool = False) -> Iterator[str]:
    """The MLflow URL of :func:`predict` served with ``latency`` s per request.

    By default the server runs in its own process, as a served model does: its JSON
    parsing and answering then take no time from the client's interpreter.
    ``in_process=True`` serves it from a thread of this process instead (both sides
    then share one interpreter lock).
    """
    if in_process:
        with serve_model(predict, latency=latency, respond="records") as served:
            yield served.mlflow_url
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the scoring server did not start ({url or 'no output'})")
        yield url
    finally:
        if server.stdin is not None:
            server.stdin.close()  # the server exits at end of input
        server.wait(timeout=10)


def _serve(latency: float) -> int:
    """Serve :func:`predict` until standard input closes (the benchmark's own server)."""
    with serve_model(predict, latency=latency, respond="records") as served:
        # as served models do (gunicorn's workers, say): what start-up made is never
        # collected, so the full collections that requests trigger stay short
        gc.freeze()
        print(served.mlflow_url, flush=True)
        sys.stdin.read()
    return 0


def _timed(
    url: str,
    frame: pd.DataFrame,
    roles: ColumnRoles,
    concurrency: int,
    cache: Path | None = None,
    repeat: int = 1,
    batch_size: int = BATCH_SIZE,
) -> tuple[float, Predictions, ScoringReport, int]:
    """The best of ``repeat`` timings, each with a fresh adapter (new connections), and
    the requests the last one sent."""
    best = float("inf")
    sent = 0
    for _ in range(repeat):
        with http_adapter(url, batch_size=batch_size) as adapter:
            adapter.fingerprint()  # not part of the timing
            started = time.perf_counter()
            predictions, report = score_batches(
                adapter, frame, roles, concurrency=concurrency, cache=cache
            )
            best = min(best, time.perf_counter() - started)
            sent = adapter.requests_sent
    return best, predictions, report, sent


def _same(a: Predictions, b: Predictions) -> None:
    same_labels = a.labels is not None and b.labels is not None
    same_labels = same_labels and a.labels.tolist() == b.labels.tolist()  # type: ignore[union-attr]
    if not same_labels or not np.array_equal(a.scores, b.scores):  # type: ignore[arg-type]
        raise AssertionError("the modes disagree on the predictions")


def _bound_row(
    workers: int, seconds: float, floor: float, n: int, latency: float, size: str
) -> Row:
    """Rows/s against the bound that latency and ``workers`` requests in flight set.

    The requests go out in ``ceil(requests / workers)`` rounds, none shorter than
    ``latency``: no client scores ``n`` rows faster than ``n / (rounds * latency)``
    rows/s, which the target is judged against.  The notes also give the share of
    ``workers x batch / latency`` (the bound when the requests divide into full
    rounds; 40 requests at 16 in flight need 3 rounds, so it is out of reach there)
    and ``floor``, the time of the same requests carrying one row each: what the
    machine and the HTTP stack cost before any row is encoded, sent or decoded.
    """
    requests = -(-n // BATCH_SIZE)
    rounds = -(-requests // workers)
    waiting = rounds * latency
    bound = n / waiting
    full = min(workers, requests) * BATCH_SIZE / latency  # never more in flight than sent
    what = "one request at a time" if workers == 1 else f"{workers} requests in flight"
    partial = ""
    if bound < full:
        partial = (
            f"; {n / seconds / full:.0%} of {workers} x {BATCH_SIZE} rows / latency "
            f"({full:,.0f} rows/s), of which {rounds} rounds allow at most {bound / full:.0%}"
        )
    return throughput(
        f"HTTP scoring, {what} ({size})",
        n / seconds,
        "rows/s",
        f"latency x {workers} in flight: {rounds} round{'s' * (rounds != 1)} of "
        f"{latency * 1000:g} ms",
        bound,
        at_least=BOUND_SHARE,
        notes=(
            f"{seconds:.3f} s, waiting alone {waiting:.3f} s{partial}; the same requests "
            f"with 1 row each: {waiting / floor:.0%} of the bound"
        ),
    )


def benchmark(
    quick: bool,
    rows: int | None = None,
    latency: float = 0.05,
    concurrency: Sequence[int] = (4, 8, 16),
    repeats: int = 3,
    in_process: bool = False,
) -> list[Row]:
    """Rows/s of sequential, concurrent and cached scoring of one served model (best of
    ``repeats``; the run that writes the cache runs once, on an empty cache), each
    against the bound that latency and the requests in flight set."""
    n = rows if rows is not None else (4_000 if quick else 20_000)
    frame = decision_log(n)
    roles = ColumnRoles(
        target="approved", sensitive=("sex",), features=("income", "age", "debt_ratio", "region")
    )
    batches = -(-n // BATCH_SIZE)
    size = f"{n:,} rows, {batches} requests of {BATCH_SIZE}, {latency * 1000:g} ms each"
    out: list[Row] = []
    with served_model(latency, in_process=in_process) as url:
        _timed(url, frame.iloc[: 2 * BATCH_SIZE], roles, 2)  # warm up
        single = frame.iloc[:batches]  # one row per request: the floor
        seconds, reference, _, _ = _timed(url, frame, roles, 1, repeat=repeats)
        floor = _timed(url, single, roles, 1, repeat=repeats, batch_size=1)[0]
        sequential = n / seconds
        out.append(_bound_row(1, seconds, floor, n, latency, size))
        for workers in concurrency:
            seconds, predictions, _, _ = _timed(url, frame, roles, workers, repeat=repeats)
            _same(predictions, reference)
            floor = _timed(url, single, roles, workers, repeat=repeats, batch_size=1)[0]
            out.append(_bound_row(workers, seconds, floor, n, latency, size))
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder)
            workers = concurrency[0] if concurrency else 4
            seconds, predictions, _, sent = _timed(url, frame, roles, workers, cache)
            _same(predictions, reference)
            out.append(
                throughput(
                    f"HTTP scoring, {workers} in flight, writing the cache ({size})",
                    n / seconds,
                    "rows/s",
                    "one at a time",
                    sequential,
                    notes=f"{seconds:.2f} s; {sent} requests",
                )
            )
            seconds, predictions, report, sent = _timed(
                url, frame, roles, workers, cache, repeat=repeats
            )
            _same(predictions, reference)
            if sent != 0 or report.batches_cached != batches:
                raise AssertionError("the cached rerun sent requests")
            out.append(
                throughput(
                    f"HTTP scoring, cached rerun ({size})",
                    n / seconds,
                    "rows/s",
                    "one at a time",
                    sequential,
                    notes=f"{seconds:.3f} s; 0 requests, {report.batches_cached} batches read",
                )
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and write it as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="rows to score (default 20,000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument(
        "--concurrency",
        default="4,8,16",
        help="requests in flight to compare with one at a time (default 4,8,16)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many (default 3)")
    parser.add_argument("--quick", action="store_true", help="4,000 rows")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="serve the model from a thread of this process, not its own process",
    )
    parser.add_argument("--serve", type=float, metavar="LATENCY", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        return _serve(args.serve)
    levels = [int(v) for v in args.concurrency.split(",") if v.strip()]
    rows = benchmark(
        args.quick,
        rows=args.rows,
        latency=args.latency,
        concurrency=levels,
        repeats=args.repeats,
        in_process=args.in_process,
    )
    print(markdown_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

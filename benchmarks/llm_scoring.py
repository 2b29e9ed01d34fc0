"""Scoring an LLM decision-maker: requests per second against the latency x concurrency bound.

The stand-in LLM (:mod:`audit.testing.llm`) runs in its own process, answering every
request after ``--latency`` seconds.  A ``kind: chat`` model config is scored through
:func:`audit.scoring.score_batches` with N batches in flight; since each request waits
``latency`` seconds, no client can exceed N / latency requests per second.  The row's
ratio is the share of that bound reached (the issue's target: at least 0.8).  A cached
rerun must send no request.

    python benchmarks/llm_scoring.py                      # 800 rows, 50 ms, 4 and 16 in flight
    python benchmarks/llm_scoring.py --rows 2000 --concurrency 4,8,16 --batch-size 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rows import Row, markdown_table, throughput  # noqa: E402  (beside this file)

from audit.adapters.config import load_config_model  # noqa: E402
from audit.core.context import ColumnRoles  # noqa: E402
from audit.scoring import score_batches  # noqa: E402

REPO = HERE.parent
EXAMPLE = REPO / "examples" / "screening-llm.yaml"
ADULT = REPO / "examples" / "data" / "adult.csv"


def _config(folder: Path, url: str, concurrency: int, batch_size: int) -> Path:
    settings = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    settings.update(url=url, concurrency=concurrency, batch_size=batch_size)
    path = folder / f"llm-{concurrency}.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def benchmark(
    quick: bool,
    rows: int | None = None,
    latency: float = 0.05,
    concurrency: Sequence[int] = (4, 16),
    batch_size: int = 8,
) -> list[Row]:
    """Requests/s of an LLM audit's scoring, as a share of concurrency / latency."""
    n = rows if rows is not None else (200 if quick else 800)
    frame = pd.read_csv(ADULT, nrows=n)
    roles = ColumnRoles(
        target="income", sensitive=("sex",), features=tuple(c for c in frame if c != "income")
    )
    command = [sys.executable, "-m", "audit.testing.llm", "--port", "0"]
    out: list[Row] = []
    with (
        subprocess.Popen(
            [*command, "--latency", str(latency)], stdout=subprocess.PIPE, text=True
        ) as server,
        tempfile.TemporaryDirectory() as folder,
    ):
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip().removeprefix("serving on ")
            for workers in concurrency:
                config = _config(Path(folder), url, workers, batch_size)
                with load_config_model(config) as adapter:
                    started = time.perf_counter()
                    score_batches(adapter, frame, roles)
                    seconds = time.perf_counter() - started
                bound = workers / latency
                out.append(
                    throughput(
                        f"LLM scoring, {workers} batches of {batch_size} in flight "
                        f"({n:,} requests, {latency * 1000:g} ms each)",
                        n / seconds,
                        "requests/s",
                        "latency x concurrency bound",
                        bound,
                        at_least=0.8,
                        notes=f"{seconds:.2f} s",
                    )
                )
            cache = Path(folder) / "cache"
            config = _config(Path(folder), url, concurrency[0], batch_size)
            with load_config_model(config) as adapter:
                score_batches(adapter, frame, roles, cache=cache)
            with load_config_model(config) as adapter:
                started = time.perf_counter()
                _, report = score_batches(adapter, frame, roles, cache=cache)
                seconds = time.perf_counter() - started
                if adapter.usage()["requests"] != 0 or report.batches_scored != 0:
                    raise AssertionError("the cached rerun sent requests")
            out.append(
                throughput(
                    f"LLM scoring, cached rerun ({n:,} rows)",
                    n / seconds,
                    "rows/s",
                    "",
                    None,
                    notes=f"{seconds:.3f} s; 0 requests",
                )
            )
        finally:
            server.terminate()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (and write it as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="rows to score, one request each (800)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--concurrency", default="4,16", help="batches in flight (4,16)")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per batch (8)")
    parser.add_argument("--quick", action="store_true", help="200 rows")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    levels = [int(v) for v in args.concurrency.split(",") if v.strip()]
    rows = benchmark(
        args.quick,
        rows=args.rows,
        latency=args.latency,
        concurrency=levels,
        batch_size=args.batch_size,
    )
    print(markdown_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

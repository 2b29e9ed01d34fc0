"""Out-of-core audit of a synthetic decision log stored as a folder of Parquet files.

Writes ``--rows`` rows (default 1e8) in files of 1e7 rows: three dictionary-encoded
group columns (4 x 4 x 3 = 48 intersectional groups), the true outcome and the decision;
then audits the folder with the chunked engine in a child process and reports rows/s
and the child's peak resident memory (target: under 2 GB), and checks that the
chunked engine's selection rates equal a direct count with pyarrow.
Usage: ``python benchmarks/out_of_core.py [--rows 100000000] [--folder DIR]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FILE_ROWS = 10_000_000
GROUPS = {
    "region": ["north", "south", "east", "west"],
    "age_band": ["18-29", "30-44", "45-59", "60+"],
    "sex": ["female", "male", "other"],
}
TARGET_GB = 2.0


def write_log(folder: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` synthetic decisions into ``folder`` as Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        columns = {}
        codes = {}
        for name, values in GROUPS.items():
            codes[name] = rng.integers(0, len(values), n, dtype=np.int8)
            columns[name] = pa.DictionaryArray.from_arrays(codes[name], pa.array(values))
        base = 0.25 + 0.05 * codes["region"] - 0.04 * codes["sex"]
        label = (rng.random(n) < base).astype(np.int8)
        decision = (rng.random(n) < base + 0.1 * (label - 0.5)).astype(np.int8)
        columns["label"] = pa.array(label)
        columns["decision"] = pa.array(decision)
        pq.write_table(pa.table(columns), folder / f"part-{index:04d}.parquet")


CHILD = """
import json, resource, sys, time
from audit import run_audit

def peak_kib():
    # VmHWM belongs to this program's memory map; ru_maxrss would also count the parent's
    # peak from before exec (Linux keeps it across execve)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

started = time.perf_counter()
result = run_audit(model="column:decision", data=sys.argv[1], policy="four-fifths",
                   target="label", sensitive=["region", "age_band", "sex"], positive_label=1,
                   engine=sys.argv[3], chunk_rows=int(sys.argv[2]))
elapsed = time.perf_counter() - started
fairness = next(o for o in result.outputs if o.auditor == "fairness")
rates = next(m for m in fairness.metrics
             if m.metric == "selection_rate" and m.grouping == ("region",))
print(json.dumps({
    "seconds": elapsed,
    "rows": result.data["rows"],
    "peak_kib": peak_kib(),
    "region_rates": {g.group: g.value for g in rates.groups},
}))
"""


def _direct_rates(folder: Path) -> dict[str, float]:
    """Selection rate per region, counted with pyarrow alone (the independent check)."""
    positive: dict[str, int] = {}
    total: dict[str, int] = {}
    for file in sorted(folder.glob("*.parquet")):
        table = pq.read_table(file, columns=["region", "decision"])
        grouped = table.group_by("region").aggregate([("decision", "sum"), ("decision", "count")])
        for region, hits, count in zip(
            grouped["region"].to_pylist(),
            grouped["decision_sum"].to_pylist(),
            grouped["decision_count"].to_pylist(),
            strict=True,
        ):
            positive[region] = positive.get(region, 0) + hits
            total[region] = total.get(region, 0) + count
    return {f"region={r}": positive[r] / total[r] for r in total}


def measure(
    rows: int, folder: Path | None = None, chunk_rows: int = 1_000_000, engine: str = "chunked"
) -> dict[str, object]:
    """Write (or reuse) the log, audit it in a child process, and return the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        target = folder or Path(scratch) / "log"
        if not any(target.glob("*.parquet")):
            started = time.perf_counter()
            write_log(target, rows)
            print(f"wrote {rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(target), str(chunk_rows), engine],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        direct = _direct_rates(target)
    difference = max(abs(figures["region_rates"][g] - direct[g]) for g in direct)
    peak_gb = figures["peak_kib"] / 1024**2
    return {
        "benchmark": f"out-of-core fairness, {figures['rows']:,} rows of Parquet, {engine}",
        "rows": figures["rows"],
        "seconds": figures["seconds"],
        "rows_per_s": figures["rows"] / figures["seconds"],
        "peak_gb": peak_gb,
        "target": f"peak memory < {TARGET_GB} GB",
        "met": peak_gb < TARGET_GB,
        "max_abs_difference": difference,
    }


def benchmark(quick: bool, rows: int | None = None) -> list[dict[str, object]]:
    """Rows for ``benchmarks/run.py``: peak memory and rows/s of each engine."""
    count = rows or (10_000_000 if quick else 100_000_000)
    found = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "log"
        for engine in ("chunked", "dask"):
            figures = measure(count, folder, engine=engine)
            found.append(
                {
                    "benchmark": figures["benchmark"],
                    "ours": figures["peak_gb"],
                    "unit": "GB peak",
                    "target": f"< {TARGET_GB} GB",
                    "met": figures["met"],
                    "notes": (
                        f"{figures['rows_per_s']:,.0f} rows/s ({figures['seconds']:.1f} s); "
                        "selection rates equal a pyarrow count "
                        f"(max abs diff {figures['max_abs_difference']:.0e})"
                    ),
                }
            )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--folder", type=Path, help="keep (or reuse) the Parquet files here")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="chunked,dask", help="comma-separated")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        print(json.dumps(measure(args.rows, args.folder, args.chunk_rows, engine), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PII detection: this scanner vs Presidio's BatchAnalyzerEngine on the same labeled table.

Both scan every cell of the Faker table from ``audit.auditors.masking.synthetic`` (every
entity in its own column, PII hidden in free text, decoys such as Luhn-invalid card
numbers and SSNs in never-assigned ranges).  Presidio runs with ``NoOpNlpEngine``, so
only its pattern recognizers work (no spaCy model can be downloaded here); both sides are
limited to the six entities Presidio finds by pattern, then this scanner runs again with
all of its entities.  Printed: cells/s of both in the same run, the ratio, and
precision/recall per entity.

    python benchmarks/masking.py                       # 300 rows, a few seconds
    python benchmarks/masking.py --rows 1000 --scale-rows 1000000

``--scale-rows`` also times this scanner alone on the table repeated to that many rows
(six shared entities, then all), and gives the ratio of that throughput to Presidio's:
a small table measures this scanner's fixed costs, not its throughput, while Presidio's
cost per cell does not depend on the table's size.  It also gives the ratio per
CPU-second: Presidio uses one thread, the scanner one per CPU, so on a shared, busy
machine the wall-clock ratio depends on how many cores were free, the CPU one much
less.  ``--workers`` sets the scanner's threads (default: one per CPU).
Needs ``faker`` and ``presidio-analyzer`` (``pip install -c constraints.txt faker
presidio-analyzer``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.risk import measure_risk
from audit.auditors.masking.scanner import scan_table
from audit.auditors.masking.synthetic import labeled_table

SHARED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
Cell = tuple[str, int, str]


def _ours(
    data: pd.DataFrame, entities: Iterable[str] | None, workers: int | None = None
) -> tuple[set[Cell], float, float]:
    """Cells found, wall-clock seconds and CPU seconds (all threads) of one scan."""
    cpu, started = time.process_time(), time.perf_counter()
    scans = scan_table(data, recognizers_for(entities), workers=workers)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = {(s.column, int(r), e) for s in scans for e, h in s.hits.items() for r in h.rows}
    return found, elapsed, cpu


def _presidio(data: pd.DataFrame) -> tuple[set[Cell], float, float]:
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    batch = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]))
    batch.analyze_iterator(["warm up 4111 1111 1111 1111"], language="en")
    found: set[Cell] = set()
    cpu, started = time.process_time(), time.perf_counter()
    for column in data.columns:
        texts = ["" if pd.isna(v) else str(v) for v in data[column]]
        results = batch.analyze_iterator(texts, language="en", entities=list(SHARED))
        for row, hits in enumerate(results):
            found |= {(str(column), row, h.entity_type) for h in hits}
    return found, time.perf_counter() - started, time.process_time() - cpu


def _scores(found: set[Cell], truth: set[Cell], entity: str) -> tuple[float, float]:
    predicted = {x for x in found if x[2] == entity}
    actual = {x for x in truth if x[2] == entity}
    hits = len(predicted & actual)
    return hits / max(len(predicted), 1), hits / max(len(actual), 1)


@dataclass(frozen=True)
class Measured:
    """One run: the labeled table through both, and this scanner on the scaled table."""

    cells: int
    columns: int
    ours6: float
    ours_all: float
    presidio: float
    presidio_cpu: float
    scores: dict[str, tuple[float, float, float | None, float | None]]
    """Per entity: our precision and recall, Presidio's (``None`` for entities it lacks)."""
    scale_cells: int = 0
    scale6: float = 0.0
    scale6_cpu: float = 0.0
    scale_all: float = 0.0
    scale_all_cpu: float = 0.0


def measure(rows: int, seed: int, scale_rows: int, workers: int | None) -> Measured:
    """Scan the labeled table with both, then this scanner alone on ``scale_rows`` rows."""
    table = labeled_table(rows=rows, seed=seed)
    data, truth = table.data, set(table.labels.itertuples(index=False, name=None))
    _, t_ours6, _ = _ours(data, SHARED, workers)
    ours_all, t_all, _ = _ours(data, None, workers)
    theirs, t_theirs, cpu_theirs = _presidio(data)
    scores = {}
    for entity in sorted({e for _, _, e in truth}):
        p, r = _scores(ours_all, truth, entity)
        pp, pr = _scores(theirs, truth, entity) if entity in SHARED else (None, None)
        scores[entity] = (p, r, pp, pr)
    measured = Measured(data.size, data.shape[1], t_ours6, t_all, t_theirs, cpu_theirs, scores)
    if not scale_rows:
        return measured
    big = pd.concat([data] * max(1, scale_rows // len(data)), ignore_index=True)
    _, seconds6, cpu6 = _ours(big, SHARED, workers)
    _, seconds, cpu = _ours(big, None, workers)
    return replace(
        measured,
        scale_cells=big.size,
        scale6=seconds6,
        scale6_cpu=cpu6,
        scale_all=seconds,
        scale_all_cpu=cpu,
    )


TARGET = 1000.0
"""The issue's target: at least this many times Presidio's cells/s on the shared entities."""
RISK_TARGET = 0.2
"""Seconds for k-anonymity and l-diversity over three quasi-identifiers at 1M rows."""


def risk_table(rows: int, seed: int = 7) -> pd.DataFrame:
    """An extract's quasi-identifiers and a sensitive column with missing and blank values.

    Text columns have the dtype pandas gives text read from CSV or Parquet (``str``).
    """
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "zip": pd.Series(rng.integers(10_000, 11_000, rows).astype(str), dtype="str"),
            "birth_year": rng.integers(1940, 2005, rows),
            "sex": pd.Series(rng.choice(["F", "M", ""], rows), dtype="str"),
            "diagnosis": pd.Series(
                rng.choice(["flu", "cold", "", None, "asthma"], rows), dtype="str"
            ),
        }
    )


def _groupby_risk(frame: pd.DataFrame) -> tuple[int, int, int]:
    """k, l and classes by a plain pandas groupby over the values as text (the anchor)."""
    keys = [frame[c].astype("string").fillna("\0missing") for c in ("zip", "birth_year", "sex")]
    sizes = frame.groupby(keys).size()
    known = frame["diagnosis"].where(frame["diagnosis"].fillna("").str.strip() != "")
    distinct = known.groupby(keys).nunique().reindex(sizes.index, fill_value=0)
    return int(sizes.min()), int(distinct.min()), len(sizes)


def _best(run: Any, repeats: int) -> tuple[Any, float]:
    best, value = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - started)
    return value, best


def risk_rows(rows: int) -> list[Any]:
    """k-anonymity and l-diversity at ``rows`` rows, against a pandas groupby, same run."""
    from rows import Row

    frame = risk_table(rows)
    qi = ["zip", "birth_year", "sex"]
    risk, ours = _best(
        lambda: measure_risk(frame, qi, "diagnosis", k_target=5, l_target=2), repeats=5
    )
    expected, theirs = _best(lambda: _groupby_risk(frame), repeats=2)
    agree = (risk.k, risk.l, risk.classes) == expected
    return [
        Row(
            f"k-anonymity and l-diversity, 3 quasi-identifiers, {rows:,} rows",
            ours,
            "s",
            "pandas groupby (size, nunique of known values), same table",
            theirs,
            theirs / ours,
            f"< {RISK_TARGET} s",
            ours < RISK_TARGET and agree,
            f"k, l, classes = {risk.k}, {risk.l}, {risk.classes:,}; "
            f"{'equal to' if agree else 'DIFFERENT from'} the groupby's; best of 5 (ours), 2",
        )
    ]


SCAN_CHILD = """
import json, resource, sys, time
from audit import run_audit

def peak_kib():
    # VmHWM is this program's own peak (ru_maxrss may carry the parent's across exec)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

started = time.perf_counter()
result = run_audit(data=sys.argv[1], policy=sys.argv[2], engine=sys.argv[3],
                   chunk_rows=int(sys.argv[4]))
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "rows": result.data["rows"], "peak_kib": peak_kib(),
                  "findings": [f.measured for f in result.findings]}, default=str))
"""
PEAK_TARGET_GB = 1.0
SPEED_TARGET = 1 / 1.5
"""Chunked cells/s at least this share of the in-memory engine's, on the same machine."""
POLICY = Path(__file__).resolve().parents[1] / "examples" / "masking-policy.yaml"


def _audit_child(data: Path, engine: str, chunk_rows: int) -> dict[str, Any]:
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", SCAN_CHILD, str(data), str(POLICY), engine, str(chunk_rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def out_of_core_rows(rows: int, memory_rows: int, chunk_rows: int = 250_000) -> list[Any]:
    """The example masking policy over a Parquet folder of ``rows`` rows x 10 columns,
    chunked, against the in-memory engine on ``memory_rows`` rows of it (same machine).

    Peak resident memory and cells/s are measured in child processes.
    """
    import tempfile

    from rows import Row

    columns = ["customer_name", "email", "phone", "ssn", "card_number", "ip_address", "zip",
               "sex", "birth_year", "notes"]  # fmt: skip
    base = labeled_table(rows=2_000, seed=1234).data[columns]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "extract"
        folder.mkdir()
        file_rows = min(rows, 1_000_000)
        repeated = pd.concat([base] * max(1, file_rows // len(base)), ignore_index=True)
        for index, start in enumerate(range(0, rows, file_rows)):
            part = repeated.iloc[: min(file_rows, rows - start)]
            part.to_parquet(folder / f"part-{index:04d}.parquet", index=False)
        sample = Path(scratch) / "in-memory.parquet"
        repeated.iloc[:memory_rows].to_parquet(sample, index=False)
        chunked = _audit_child(folder, "chunked", chunk_rows)
        memory = _audit_child(sample, "pandas", chunk_rows)
    cells, memory_cells = chunked["rows"] * len(columns), memory["rows"] * len(columns)
    rate, memory_rate = cells / chunked["seconds"], memory_cells / memory["seconds"]
    peak_gb = chunked["peak_kib"] / 1024**2
    return [
        Row(
            f"masking audit out of core, {cells:,.0f} cells of Parquet, chunked: peak memory",
            peak_gb,
            "GB",
            "",
            None,
            None,
            f"< {PEAK_TARGET_GB} GB",
            peak_gb < PEAK_TARGET_GB,
            f"{chunk_rows:,} rows per chunk; example masking policy, no model",
        ),
        Row(
            f"masking audit out of core, {cells:,.0f} cells of Parquet, chunked: speed",
            rate,
            "cells/s",
            f"in-memory engine, {memory_cells:,.0f} cells, same run",
            memory_rate,
            rate / memory_rate,
            ">= 1/1.5 of in-memory",
            rate / memory_rate >= SPEED_TARGET,
            f"in-memory peak {memory['peak_kib'] / 1024**2:.2f} GB",
        ),
    ]


def benchmark(quick: bool) -> list[Any]:
    """Rows for ``run.py``: cells/s against Presidio (wall and per CPU-second), and
    precision/recall on the six shared entities against Presidio's."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rows import Row, throughput  # beside this file

    rows, scale = (300, 100_000) if quick else (1000, 1_000_000)
    risk = risk_rows(100_000 if quick else 1_000_000)
    risk += out_of_core_rows(*((200_000, 200_000) if quick else (10_000_000, 1_000_000)))
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        return [
            *risk,
            Row(
                "PII scan against Presidio",
                float("nan"),
                "cells/s",
                notes="not run: presidio-analyzer is not installed "
                "(pip install -c constraints.txt presidio-analyzer faker)",
            ),
        ]
    m = measure(rows, 1234, scale, None)
    presidio = m.cells / m.presidio
    anchor = f"Presidio BatchAnalyzerEngine, pattern recognizers, {rows}-row labeled table"
    size = f"{m.scale_cells // m.columns:,} rows x {m.columns} columns"
    found = [
        *risk,
        throughput(
            f"PII scan, 6 shared entities, {size}",
            m.scale_cells / m.scale6,
            "cells/s",
            anchor,
            presidio,
            at_least=TARGET,
            notes=f"all entities: {m.scale_cells / m.scale_all:,.0f} cells/s; noisy on a "
            "shared machine, see the per-CPU-second row",
        ),
        throughput(
            f"PII scan per CPU-second, 6 shared entities, {size}",
            m.scale_cells / m.scale6_cpu,
            "cells/CPU-s",
            anchor + " (one thread)",
            m.cells / m.presidio_cpu,
            at_least=TARGET,
        ),
    ]
    shared = {
        e: (p, r, pp, pr)
        for e, (p, r, pp, pr) in m.scores.items()
        if pp is not None and pr is not None
    }
    at_least = all(p >= pp and r >= pr for p, r, pp, pr in shared.values())
    found.append(
        Row(
            f"precision and recall, 6 shared entities, {rows}-row labeled table",
            min(min(p, r) for p, r, _, _ in shared.values()),
            "lowest P or R",
            "Presidio, same table",
            min(min(pp, pr) for _, _, pp, pr in shared.values()),
            None,
            ">= Presidio's, per entity",
            at_least,
            "; ".join(
                f"{e} P {p:.3f}/{pp:.3f} R {r:.3f}/{pr:.3f}" for e, (p, r, pp, pr) in shared.items()
            ),
        )
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="rows of the labeled table")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--scale-rows", type=int, default=0, help="also time this scanner on this many rows"
    )
    parser.add_argument("--workers", type=int, default=None, help="scanner threads")
    args = parser.parse_args()

    m = measure(args.rows, args.seed, args.scale_rows, args.workers)
    cells = m.cells
    print(f"labeled table: {args.rows} rows x {m.columns} columns = {cells:,} cells")
    print(f"{'':32}{'seconds':>10}{'cells/s':>14}")
    for label, seconds in (
        ("maas-audit, 6 shared entities", m.ours6),
        ("maas-audit, all entities", m.ours_all),
        ("Presidio batch, NoOpNlpEngine", m.presidio),
    ):
        print(f"{label:32}{seconds:10.3f}{cells / seconds:14,.0f}")
    print(f"speed-up on the shared entities, same table: {m.presidio / m.ours6:,.0f}x")
    print(f"\n{'entity':16}{'ours P':>9}{'ours R':>9}{'Presidio P':>12}{'Presidio R':>12}")
    for entity, (p, r, pp, pr) in m.scores.items():
        theirs = (
            f"{pp:12.3f}{pr:12.3f}" if pp is not None and pr is not None else f"{'-':>12}{'-':>12}"
        )
        print(f"{entity:16}{p:9.3f}{r:9.3f}{theirs}")

    if m.scale_cells:
        rate6, presidio = m.scale_cells / m.scale6, cells / m.presidio
        rows = m.scale_cells // m.columns
        print(f"\nscale: {rows:,} rows x {m.columns} columns = {m.scale_cells:,} cells")
        print(f"{'':32}{'seconds':>10}{'cells/s':>14}{'CPU s':>10}")
        for label, seconds, cpu in (
            ("maas-audit, 6 shared entities", m.scale6, m.scale6_cpu),
            ("maas-audit, all entities", m.scale_all, m.scale_all_cpu),
        ):
            print(f"{label:32}{seconds:10.3f}{m.scale_cells / seconds:14,.0f}{cpu:10.2f}")
        print(f"speed-up on the shared entities vs Presidio's cells/s: {rate6 / presidio:,.0f}x")
        # Presidio runs on one thread; per CPU-second the comparison does not depend on
        # how many cores the scanner's threads found free on a shared machine
        per_cpu = (m.scale_cells / m.scale6_cpu) / (cells / m.presidio_cpu)
        print(
            "speed-up per CPU-second (all of the scanner's threads vs Presidio's one): "
            f"{per_cpu:,.0f}x"
        )


if __name__ == "__main__":
    main()

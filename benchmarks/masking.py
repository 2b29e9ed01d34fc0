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
cost per cell does not depend on the table's size.  ``--workers`` sets the scanner's
threads (default: one per CPU).
Needs ``faker`` and ``presidio-analyzer`` (``pip install -c constraints.txt faker
presidio-analyzer``).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterable

import pandas as pd

from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.scanner import scan_table
from audit.auditors.masking.synthetic import labeled_table

SHARED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
Cell = tuple[str, int, str]


def _ours(
    data: pd.DataFrame, entities: Iterable[str] | None, workers: int | None = None
) -> tuple[set[Cell], float]:
    started = time.perf_counter()
    scans = scan_table(data, recognizers_for(entities), workers=workers)
    elapsed = time.perf_counter() - started
    found = {(s.column, int(r), e) for s in scans for e, h in s.hits.items() for r in h.rows}
    return found, elapsed


def _presidio(data: pd.DataFrame) -> tuple[set[Cell], float]:
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    batch = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]))
    batch.analyze_iterator(["warm up 4111 1111 1111 1111"], language="en")
    found: set[Cell] = set()
    started = time.perf_counter()
    for column in data.columns:
        texts = ["" if pd.isna(v) else str(v) for v in data[column]]
        results = batch.analyze_iterator(texts, language="en", entities=list(SHARED))
        for row, hits in enumerate(results):
            found |= {(str(column), row, h.entity_type) for h in hits}
    return found, time.perf_counter() - started


def _scores(found: set[Cell], truth: set[Cell], entity: str) -> tuple[float, float]:
    predicted = {x for x in found if x[2] == entity}
    actual = {x for x in truth if x[2] == entity}
    hits = len(predicted & actual)
    return hits / max(len(predicted), 1), hits / max(len(actual), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="rows of the labeled table")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--scale-rows", type=int, default=0, help="also time this scanner on this many rows"
    )
    parser.add_argument("--workers", type=int, default=None, help="scanner threads")
    args = parser.parse_args()

    table = labeled_table(rows=args.rows, seed=args.seed)
    data, truth = table.data, set(table.labels.itertuples(index=False, name=None))
    cells = data.size
    _, t_ours6 = _ours(data, SHARED, args.workers)
    ours_all, t_all = _ours(data, None, args.workers)
    theirs, t_theirs = _presidio(data)

    print(f"labeled table: {args.rows} rows x {data.shape[1]} columns = {cells:,} cells")
    print(f"{'':32}{'seconds':>10}{'cells/s':>14}")
    for label, seconds in (
        ("maas-audit, 6 shared entities", t_ours6),
        ("maas-audit, all entities", t_all),
        ("Presidio batch, NoOpNlpEngine", t_theirs),
    ):
        print(f"{label:32}{seconds:10.3f}{cells / seconds:14,.0f}")
    print(f"speed-up on the shared entities, same table: {t_theirs / t_ours6:,.0f}x")
    print(f"\n{'entity':16}{'ours P':>9}{'ours R':>9}{'Presidio P':>12}{'Presidio R':>12}")
    entities = sorted({e for _, _, e in truth})
    for entity in entities:
        p, r = _scores(ours_all, truth, entity)
        if entity in SHARED:
            pp, pr = _scores(theirs, truth, entity)
            print(f"{entity:16}{p:9.3f}{r:9.3f}{pp:12.3f}{pr:12.3f}")
        else:
            print(f"{entity:16}{p:9.3f}{r:9.3f}{'-':>12}{'-':>12}")

    if args.scale_rows:
        repeats = max(1, args.scale_rows // len(data))
        big = pd.concat([data] * repeats, ignore_index=True)
        _, seconds6 = _ours(big, SHARED, args.workers)
        _, seconds = _ours(big, None, args.workers)
        rate6, presidio = big.size / seconds6, cells / t_theirs
        print(f"\nscale: {len(big):,} rows x {big.shape[1]} columns = {big.size:,} cells")
        print(f"{'maas-audit, 6 shared entities':32}{seconds6:10.3f}{rate6:14,.0f}")
        print(f"{'maas-audit, all entities':32}{seconds:10.3f}{big.size / seconds:14,.0f}")
        print(f"speed-up on the shared entities vs Presidio's cells/s: {rate6 / presidio:,.0f}x")


if __name__ == "__main__":
    main()

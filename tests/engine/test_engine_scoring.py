"""How the model was scored, as the chunked and Dask engines report it (``model["scoring"]``)."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from audit import run_audit
from audit.reporting.html import render_html
from audit.scoring import ScoringReport
from audit.testing import ServedModel, serve_model, sklearn_predict_fn

from .conftest import NUMERIC

BATCH = 1500  # rows per request
CHUNK = 4000  # rows per chunk: several chunks per file, and chunks that end mid-batch
IN_FLIGHT = 2
PANDAS_KEYS = [
    "rows",
    "batch_size",
    "batches",
    "concurrency",
    "batches_scored",
    "batches_from_cache",
    "cache",
]


@pytest.fixture(scope="module")
def served(adult: pd.DataFrame) -> Iterator[ServedModel]:
    """A logistic regression on Adult's numeric columns, served on localhost."""
    model = LogisticRegression(max_iter=500).fit(adult[NUMERIC], adult["income"])
    with serve_model(sklearn_predict_fn(model)) as server:
        yield server


@pytest.fixture(scope="module")
def chunk_sizes(parquet_folder: Path) -> list[int]:
    """Rows of every chunk: the table (its files' rows, from their metadata) is cut into
    chunks of ``CHUNK`` rows across the files' ends, the last one shorter."""
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parquet_folder.glob("*.parquet"))
    return [CHUNK] * (rows // CHUNK) + ([rows % CHUNK] if rows % CHUNK else [])


def audit(served: ServedModel, data: Any, cache: Path, engine: str, **changes: Any) -> Any:
    settings = {
        "model": served.mlflow_url,
        "data": data,
        "policy": "four-fifths",
        "target": "income",
        "sensitive": ["sex", "race"],
        "features": NUMERIC,
        "positive_label": ">50K",
        "model_options": {"batch_size": BATCH},
        "concurrency": IN_FLIGHT,
        "cache_dir": cache,
        "engine": engine,
        "chunk_rows": CHUNK,
    }
    return run_audit(**{**settings, **changes})


def cache_folders(cache: Path) -> list[Path]:
    return [entry.parent for entry in cache.glob("*/run.json")]


@pytest.mark.parametrize("engine", ["chunked", "dask"])
def test_chunks_report_batches_sent_then_read_from_the_cache(
    served, parquet_folder, chunk_sizes, tmp_path, engine
):
    cache = tmp_path / "cache"
    batches = sum(math.ceil(rows / BATCH) for rows in chunk_sizes)
    assert batches > math.ceil(sum(chunk_sizes) / BATCH)  # chunks end mid-batch
    sent = served.requests
    first = audit(served, parquet_folder, cache, engine)
    assert served.requests - sent == batches
    second = audit(served, parquet_folder, cache, engine)
    assert served.requests - sent == batches  # the rerun sent nothing
    assert second.findings == first.findings
    assert len(cache_folders(cache)) == len(chunk_sizes)
    assert len(list(cache.glob("*/batch-*.npz"))) == batches
    expected = {
        "rows": 32561,
        "chunks": len(chunk_sizes),
        "batch_size": BATCH,
        "batches": batches,
        "concurrency": IN_FLIGHT,
        "batches_scored": batches,
        "batches_from_cache": 0,
        "cache": {"keys": len(chunk_sizes), "entries_rejected": 0, "batches_not_stored": 0},
    }
    assert first.model["scoring"] == expected
    assert list(first.model["scoring"]) == list(expected)
    assert second.model["scoring"] == {
        **expected,
        "batches_scored": 0,
        "batches_from_cache": batches,
    }
    assert second.to_dict()["model"]["scoring"] == second.model["scoring"]


def test_a_dask_run_reads_what_a_chunked_run_cached(served, parquet_folder, chunk_sizes, tmp_path):
    cache = tmp_path / "cache"
    audit(served, parquet_folder, cache, "chunked")
    sent = served.requests
    scoring = audit(served, parquet_folder, cache, "dask").model["scoring"]
    assert served.requests == sent  # the table is cut into the same chunks on both engines
    assert (scoring["chunks"], scoring["batches_scored"], scoring["cache"]["keys"]) == (
        len(chunk_sizes),
        0,
        len(chunk_sizes),
    )


def test_a_cluster_reports_what_its_workers_sent_and_read_from_the_cache(
    served, parquet_folder, chunk_sizes, tmp_path
):
    # the workers' adapters send every request: the report once gave the usage of the
    # adapter of the process running the audit, which sent none (so no usage at all)
    distributed = pytest.importorskip("distributed")
    cache, runs = tmp_path / "cache", []
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        for _ in range(2):  # the second run reads every batch from the cache
            before = served.requests
            model = audit(
                served,
                parquet_folder,
                cache,
                "dask",
                model=served.oip_url,
                dask_scheduler=cluster.scheduler_address,
            ).model
            runs.append((served.requests - before, model["usage"]))
    batches = sum(math.ceil(size / BATCH) for size in chunk_sizes)
    (sent, first), (resent, second) = runs
    assert (sent, resent) == (batches, 0)
    assert first == {"requests": batches, "models": [served.model_name], "from_cache": None}
    assert (second["requests"], second["models"]) == (0, [served.model_name])
    cached = second["from_cache"]
    assert (cached["batches"], cached["rows"], cached["answers_recorded"]) == (
        batches,
        32561,
        batches,
    )
    assert cached["models"] == [served.model_name]


def test_the_in_memory_engine_keeps_its_single_pass_report(served, parquet_folder, tmp_path):
    cache = tmp_path / "cache"
    result = audit(served, parquet_folder, cache, "pandas")
    (folder,) = cache_folders(cache)
    batches = math.ceil(32561 / BATCH)
    assert list(result.model["scoring"]) == PANDAS_KEYS
    assert result.model["scoring"] == {
        "rows": 32561,
        "batch_size": BATCH,
        "batches": batches,
        "concurrency": IN_FLIGHT,
        "batches_scored": batches,
        "batches_from_cache": 0,
        "cache": {"key": folder.name, "entries_rejected": 0, "batches_not_stored": 0},
    }


def test_the_html_report_lists_the_scoring_of_chunks(
    served, parquet_folder, chunk_sizes, tmp_path, parse
):
    result = audit(served, parquet_folder, tmp_path / "cache", "chunked")
    text = parse(render_html(result)).text
    batches = sum(math.ceil(rows / BATCH) for rows in chunk_sizes)
    assert "scoring.rows 32,561" in text
    assert f"scoring.chunks {len(chunk_sizes)}" in text
    assert f"scoring.batch_size {BATCH:,}" in text
    assert f"scoring.batches_scored {batches}" in text
    assert f"scoring.cache.keys {len(chunk_sizes)}" in text
    assert "{" not in text.split("scoring.rows", 1)[1].split("Data description", 1)[0]


def report(**fields: Any) -> ScoringReport:
    base = {"rows": 10, "batch_size": 4, "batches": 3, "concurrency": 1, "batches_scored": 3}
    return ScoringReport(**{**base, **fields})


def test_combine_adds_counts_keeps_the_largest_sizes_and_every_key():
    first = report(
        rows=1000,
        batch_size=300,
        batches=4,
        concurrency=2,
        batches_scored=1,
        batches_cached=3,
        cache_keys=frozenset({"a"}),
        cache_rejected=1,
        cache_not_stored=0,
    )
    second = report(
        rows=250,
        batch_size=500,
        batches=1,
        concurrency=4,
        batches_scored=1,
        batches_cached=0,
        cache_keys=frozenset({"b"}),
        cache_rejected=0,
        cache_not_stored=1,
    )
    both = first.combine(second)
    assert both == ScoringReport(
        rows=1250,
        batch_size=500,
        batches=5,
        concurrency=4,
        batches_scored=2,
        batches_cached=3,
        cache_keys=frozenset({"a", "b"}),
        cache_rejected=1,
        cache_not_stored=1,
        cache_unusable=False,
        chunks=2,
    )
    assert both.cache_key is None
    assert both.combine(first).chunks == 3
    assert both.combine(first).cache_keys == frozenset({"a", "b"})  # the same rows, one entry
    assert pickle.loads(pickle.dumps(both)) == both
    assert both.to_dict() == {
        "rows": 1250,
        "chunks": 2,
        "batch_size": 500,
        "batches": 5,
        "concurrency": 4,
        "batches_scored": 2,
        "batches_from_cache": 3,
        "cache": {"keys": 2, "entries_rejected": 1, "batches_not_stored": 1},
    }


def test_a_cache_unusable_for_some_chunks_is_said():
    keyed = report(cache_keys=frozenset({"a"}), chunks=1)
    unusable = report(cache_unusable=True, chunks=1)
    assert keyed.combine(unusable).to_dict()["cache"] == {
        "keys": 1,
        "entries_rejected": 0,
        "batches_not_stored": 0,
        "not_cached": "chunks whose inputs hold values that cannot be hashed",
    }
    assert unusable.combine(unusable).to_dict()["cache"] == (
        "off: the inputs hold values that cannot be hashed"
    )
    assert report(chunks=1).combine(report(chunks=1)).to_dict()["cache"] == "off"


def test_one_pass_keeps_its_shape():
    single = report(cache_keys=frozenset({"k"}))
    assert single.cache_key == "k"
    assert list(single.to_dict()) == PANDAS_KEYS
    assert single.to_dict()["cache"] == {
        "key": "k",
        "entries_rejected": 0,
        "batches_not_stored": 0,
    }

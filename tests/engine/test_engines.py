"""The same audit of a Parquet folder through the pandas, chunked and Dask engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate

from audit import run_audit
from audit.errors import DataError, PolicyError

from .conftest import AUDIT, REPO


def _ratio(result, grouping):
    output = next(o for o in result.outputs if o.auditor == "fairness")
    return next(
        m.value
        for m in output.metrics
        if m.metric == "demographic_parity_ratio" and m.grouping == grouping
    )


@pytest.fixture(scope="module")
def in_memory(parquet_folder):
    return run_audit(data=parquet_folder, **AUDIT)


@pytest.mark.parametrize(("engine", "chunk_rows"), [("chunked", 4096), ("dask", 3000)])
def test_engines_give_identical_findings(parquet_folder, in_memory, engine, chunk_rows):
    result = run_audit(data=parquet_folder, engine=engine, chunk_rows=chunk_rows, **AUDIT)
    assert result.findings == in_memory.findings
    for mine, theirs in zip(result.outputs, in_memory.outputs, strict=True):
        assert mine.metrics == theirs.metrics
        assert mine.tables == theirs.tables
    assert result.provenance.data_sha256 == in_memory.provenance.data_sha256
    assert result.data["rows"] == in_memory.data["rows"] == 32561
    assert result.data["engine"].startswith(engine)


def test_in_memory_ratio_matches_fairlearn(decision_log, in_memory):
    frame = MetricFrame(
        metrics=selection_rate,
        y_true=(decision_log["income"] == ">50K").astype(int),
        y_pred=(decision_log["decision"] == ">50K").astype(int),
        sensitive_features=decision_log["race"],
    )
    expected = frame.by_group.min() / frame.by_group.max()
    assert _ratio(in_memory, ("race",)) == pytest.approx(expected, abs=1e-12)


def test_chunk_of_one_row_and_categorical_column(tmp_path, decision_log):
    small = decision_log.sample(n=300, random_state=3).reset_index(drop=True)
    small["race"] = pd.Categorical(small["race"])
    small.loc[[5, 17], "sex"] = None
    small.to_parquet(tmp_path / "small.parquet", index=False)
    whole = run_audit(data=tmp_path / "small.parquet", **AUDIT)
    chunked = run_audit(data=tmp_path / "small.parquet", engine="chunked", chunk_rows=1, **AUDIT)
    assert chunked.findings == whole.findings
    assert [o.metrics for o in chunked.outputs] == [o.metrics for o in whole.outputs]


def test_dask_on_a_local_distributed_cluster(parquet_folder, in_memory):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_audit(
            data=parquet_folder, dask_scheduler=cluster.scheduler_address, chunk_rows=5000, **AUDIT
        )
    assert result.findings == in_memory.findings
    assert [o.metrics for o in result.outputs] == [o.metrics for o in in_memory.outputs]
    assert "Dask cluster at tcp://" in result.data["engine"]
    # The scoring reports travelled from the worker processes and added up: one per chunk,
    # and one batch per chunk (a column model's batch holds 100,000 rows).
    chunks = int(np.ceil(5000 / 5000) + np.ceil(15000 / 5000) + np.ceil(12561 / 5000))
    scoring = result.model["scoring"]
    assert (scoring["rows"], scoring["chunks"], scoring["batches"]) == (32561, chunks, chunks)
    assert (scoring["batches_scored"], scoring["cache"]) == (chunks, "off")


def test_dask_slices_of_an_in_memory_frame(decision_log, in_memory):
    result = run_audit(data=decision_log, engine="dask", chunk_rows=10_000, **AUDIT)
    assert [o.metrics for o in result.outputs] == [o.metrics for o in in_memory.outputs]
    assert result.data["source"] == "in-memory DataFrame"


def test_peak_memory_of_chunks_is_bounded(parquet_folder, monkeypatch):
    seen: list[int] = []
    from audit.engine.job import ChunkJob

    original = ChunkJob.tally

    def spy(self, frame):
        seen.append(len(frame))
        return original(self, frame)

    monkeypatch.setattr(ChunkJob, "tally", spy)
    run_audit(data=parquet_folder, engine="chunked", chunk_rows=2500, **AUDIT)
    assert max(seen) <= 2500
    assert sum(seen) == 32561
    assert len(seen) == int(np.ceil(5000 / 2500) + np.ceil(15000 / 2500) + np.ceil(12561 / 2500))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"policy": str(REPO / "examples" / "explanations-policy.yaml")},
            PolicyError,
            "need the whole table in memory",
        ),
        ({"target": "incme"}, DataError, "did you mean 'income'"),
        ({"positive_label": "rich"}, DataError, "does not occur in target column"),
        ({"model": "column:decisoin"}, Exception, "decisoin"),
        ({"sensitive": ["sexx"]}, DataError, "sensitive column 'sexx'"),
        (
            {"target": "age", "positive_label": None},
            DataError,
            "'age' has 73 distinct numbers \\(from 17 to 90\\), so it reads as a regression",
        ),
        (
            {"target": "age", "positive_label": None, "task": "regression"},
            DataError,
            "binary decisions",
        ),
    ],
)
def test_bad_input_is_named(parquet_folder, change, error, message):
    with pytest.raises(error, match=message):
        run_audit(data=parquet_folder, engine="chunked", **{**AUDIT, **change})


def test_csv_is_refused_by_the_chunked_engine(tmp_path, decision_log):
    decision_log.head(50).to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(DataError, match="read Parquet"):
        run_audit(data=tmp_path / "log.csv", engine="chunked", **AUDIT)


def test_missing_target_values_are_counted_over_every_file(tmp_path, decision_log):
    log = decision_log.head(3000).copy()
    log.loc[[10, 2500], "income"] = None
    log.iloc[:1500].to_parquet(tmp_path / "a.parquet", index=False)
    log.iloc[1500:].to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(DataError, match="has 2 missing values"):
        run_audit(data=tmp_path, engine="chunked", **AUDIT)


def test_unreachable_scheduler_and_engine_clash(parquet_folder):
    pytest.importorskip("distributed")
    with pytest.raises(DataError, match="cannot reach the Dask scheduler"):
        run_audit(data=parquet_folder, dask_scheduler="tcp://127.0.0.1:9", **AUDIT)
    with pytest.raises(DataError, match="dask engine"):
        run_audit(
            data=parquet_folder, engine="chunked", dask_scheduler="tcp://127.0.0.1:9", **AUDIT
        )
    with pytest.raises(DataError, match="unknown engine 'spark'"):
        run_audit(data=parquet_folder, engine="spark", **AUDIT)


def _cli(argv, capsys):
    from audit.cli.main import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cli_args(folder, out, *extra):
    return [
        "run",
        "--model",
        "column:decision",
        "--data",
        str(folder),
        "--target",
        "income",
        "--positive-label",
        ">50K",
        "--sensitive",
        "sex,race",
        "--policy",
        "four-fifths",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def test_cli_chunked_run_writes_the_same_findings(parquet_folder, tmp_path, capsys):
    import json

    code_mem, out_mem, _ = _cli(_cli_args(parquet_folder, tmp_path / "mem"), capsys)
    code, out, _ = _cli(
        _cli_args(
            parquet_folder, tmp_path / "chunks", "--engine", "chunked", "--chunk-rows", "7000"
        ),
        capsys,
    )
    assert code == code_mem == 1  # Adult fails four-fifths

    def findings(text):
        return [line for line in text.splitlines() if not line.startswith(("report", "json"))]

    assert findings(out) == findings(out_mem)
    report = json.loads((tmp_path / "chunks" / "report.json").read_text())
    assert report["data"]["engine"] == "chunked (7,000 rows per chunk)"
    html = (tmp_path / "chunks" / "report.html").read_text()
    assert "7,000 rows per chunk" in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "chunked", "--chunk-rows", "0"], "--chunk-rows must be 1 or more"),
        (
            [
                "--engine",
                "chunked",
                "--policy",
                str(REPO / "examples" / "explanations-policy.yaml"),
            ],
            "need the whole table in memory",
        ),
    ],
)
def test_cli_bad_engine_input_is_one_line_and_exit_2(
    parquet_folder, tmp_path, capsys, extra, message
):
    code, _, err = _cli([*_cli_args(parquet_folder, tmp_path / "out"), *extra], capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_chunked_engine_scores_a_served_model_and_reuses_the_cache(tmp_path, decision_log):
    from sklearn.linear_model import LogisticRegression

    from audit.testing import serve_model, sklearn_predict_fn

    from .conftest import NUMERIC

    rows = decision_log.head(1200)[[*NUMERIC, "sex", "race", "income"]]
    rows.to_parquet(tmp_path / "rows.parquet", index=False)
    model = LogisticRegression(max_iter=500).fit(rows[NUMERIC], rows["income"])
    audit = {**AUDIT, "features": NUMERIC, "model_options": {"batch_size": 100}}
    with serve_model(sklearn_predict_fn(model)) as served:
        audit["model"] = served.mlflow_url
        whole = run_audit(data=tmp_path / "rows.parquet", **audit)
        assert served.requests == 12
        kwargs = {"engine": "chunked", "chunk_rows": 500, "cache_dir": tmp_path / "cache"}
        first = run_audit(data=tmp_path / "rows.parquet", **kwargs, **audit)
        assert served.requests == 24  # chunks of 500, 500 and 200 rows: 5 + 5 + 2 requests
        again = run_audit(data=tmp_path / "rows.parquet", **kwargs, **audit)
        assert served.requests == 24  # every chunk came from the cache
    assert first.findings == whole.findings == again.findings


def test_categorical_target_and_hive_partition_folders(tmp_path, decision_log):
    log = decision_log.head(4000)[["sex", "race", "income", "decision"]].copy()
    log["income"] = pd.Categorical(log["income"])
    for region, part in zip(["east", "west"], [log.iloc[:1500], log.iloc[1500:]], strict=True):
        folder = tmp_path / f"region={region}"
        folder.mkdir()
        part.to_parquet(folder / "part.parquet", index=False)
    audit = {**AUDIT, "sensitive": ["sex", "region"]}
    whole = run_audit(data=tmp_path, **audit)
    assert whole.data["rows"] == 4000
    for engine in ("chunked", "dask"):
        result = run_audit(data=tmp_path, engine=engine, chunk_rows=700, **audit)
        assert result.findings == whole.findings
        assert [o.metrics for o in result.outputs] == [o.metrics for o in whole.outputs]


@pytest.mark.parametrize("engine", ["pandas", "chunked"])
def test_the_report_lists_the_columns_the_model_reads(
    tmp_path, decision_log, parquet_folder, in_memory, engine
):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    from .conftest import NUMERIC

    # a model fitted on named columns reads those: the report lists them as its features,
    # not every other column of the data (before: only the columns it did not read)
    model = LogisticRegression(max_iter=500).fit(decision_log[NUMERIC], decision_log["income"])
    skops.io.dump(model, tmp_path / "model.skops")
    audit = {**AUDIT, "model": str(tmp_path / "model.skops")}
    result = run_audit(data=parquet_folder, engine=engine, **audit)
    assert result.data["features"] == NUMERIC
    # a decision log's decision column is never a feature; the other columns are
    assert "decision" not in in_memory.data["features"]
    assert "fnlwgt" in in_memory.data["features"]

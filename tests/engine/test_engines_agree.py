"""Every engine accepts the same inputs and gives the same findings (issue 21, items 12-13).

Each case runs through the command line on the three engines: a float 0.0/1.0 target
named with ``--positive-label 1``; a folder with a zero-row file whose columns are stored
with Arrow's null type; a target stored as int64 in one file and as fractional floats in
another; and files that store a column as text in one and numbers in another, which is a
one-line data error (exit 2) on every engine, never an internal error.
"""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit.cli.main import main

ENGINES = ["pandas", "chunked", "dask"]


@pytest.fixture
def frame():
    rng = np.random.default_rng(3)
    n = 600
    sex = rng.choice(["F", "M"], n)
    y = rng.integers(0, 2, n).astype(float)
    decision = np.where(rng.random(n) < 0.8, y, 1 - y)
    return pd.DataFrame({"sex": sex, "y": y, "decision": decision})


def _null_file(path, columns):
    pq.write_table(pa.table({c: pa.array([], pa.null()) for c in columns}), path)


def _folder(tmp_path, frame, case):
    folder = tmp_path / case
    folder.mkdir()
    first, second = frame.iloc[:250].copy(), frame.iloc[250:].copy()
    if case == "float-target":
        first.to_parquet(folder / "a.parquet", index=False)
        second.to_parquet(folder / "b.parquet", index=False)
    elif case == "null-typed-empty-file":
        _null_file(folder / "a.parquet", frame.columns)  # first: Arrow took its schema
        frame.to_parquet(folder / "b.parquet", index=False)
    elif case == "int-and-fractional-target":
        first["y"] = first["y"].astype("int64")
        second["y"] = second["y"] + 0.5 * (second.index % 7 == 0)
        first.to_parquet(folder / "a.parquet", index=False)
        second.to_parquet(folder / "b.parquet", index=False)
    else:  # text in one file, numbers in the other
        first["sex"] = (first["sex"] == "F").astype("int64")
        first.to_parquet(folder / "a.parquet", index=False)
        second.to_parquet(folder / "b.parquet", index=False)
    return folder


def _run(folder, engine, tmp_path, capsys):
    out = tmp_path / f"out-{folder.name}-{engine}"
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(folder),
            "--target",
            "y",
            "--positive-label",
            "1",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(out),
            "--no-progress",
            "--engine",
            engine,
            "--chunk-rows",
            "100",
        ]
    )
    captured = capsys.readouterr()
    report = json.loads((out / "report.json").read_text()) if code != 2 else None
    return code, captured.err, report


def _findings(report):
    # four-fifths' combined groups do not apply to an audit of one sensitive column
    return [
        (f["requirement_id"], f["grouping"], f["verdict"], f["measured"])
        for f in report["findings"]
        if f["applies"]
    ]


@pytest.mark.parametrize(
    "case", ["float-target", "null-typed-empty-file", "int-and-fractional-target"]
)
def test_engines_accept_the_same_folder_and_agree(case, frame, tmp_path, capsys):
    folder = _folder(tmp_path, frame, case)
    results = {engine: _run(folder, engine, tmp_path, capsys) for engine in ENGINES}
    for engine, (code, err, _) in results.items():
        assert code in (0, 1), f"{engine}: {err}"
        assert err == ""
    pandas = _findings(results["pandas"][2])
    assert pandas and all(f[2] != "INCONCLUSIVE" for f in pandas)
    for engine in ("chunked", "dask"):
        assert _findings(results[engine][2]) == pandas, engine
        assert results[engine][2]["data"]["positive_label"] == "1"


@pytest.mark.parametrize("engine", ENGINES)
def test_files_that_disagree_on_a_column_type_are_a_one_line_data_error(
    engine, frame, tmp_path, capsys
):
    folder = _folder(tmp_path, frame, "text-and-numbers")
    code, err, _ = _run(folder, engine, tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"maas-audit: error: the Parquet files of '{folder}' disagree")
    assert "sex" in err and "internal error" not in err

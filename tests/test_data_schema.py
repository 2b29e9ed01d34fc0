"""A folder of Parquet files that store a column dictionary-encoded in some files, plain in others.

pandas writes a categorical column dictionary-encoded, so a data lake written with pandas
in pieces often has one piece whose text (or integer) column became categorical.  Such a
folder is read with the column's values' type on every engine; text in one file and
numbers in another is still refused, naming the column and the file.  Figures are checked
against a pandas group-by of the file as read from CSV and SciPy's Fisher test.

Data: ``examples/data/german.data``, Statlog (German Credit Data), Hofmann, H. (1994),
UCI Machine Learning Repository, https://doi.org/10.24432/C5NC77 (CC BY 4.0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import fisher_exact

from audit import run_audit
from audit.cli.main import main
from audit.data import load_table, parquet_dataset

REPO = Path(__file__).resolve().parents[1]
ENGINES = [("pandas", None), ("chunked", 97), ("dask", 61)]


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    """German Credit: sex, an age band, 0/1 ``good`` and a decision (loans under 20 months)."""
    frame = pd.read_csv(REPO / "examples/data/german.data", sep=" ", header=None)
    # columns 1, 8, 12 and 20 of the UCI file: duration, personal status and sex, age, class
    duration, status, age, risk = frame[1], frame[8], frame[12], frame[20]
    return pd.DataFrame(
        {
            "sex": np.where(status.isin(["A92", "A95"]), "female", "male"),
            "age_band": np.where(age < 25, "under 25", "25 and over"),
            "duration": duration,
            "good": (risk == 1).astype("int64"),
            "decision": (duration < 20).astype("int64"),
        }
    )


def _lake(folder: Path, german: pd.DataFrame, categorical: dict[int, list[str]]) -> Path:
    """German Credit in four files of 250 rows; file ``i`` stores ``categorical[i]`` categorical."""
    folder.mkdir()
    for index, start in enumerate(range(0, 1000, 250)):
        part = german.iloc[start : start + 250].copy()
        for column in categorical.get(index, []):
            part[column] = part[column].astype("category")
        part.to_parquet(folder / f"part-{index}.parquet", index=False)
    return folder


def test_a_column_categorical_in_one_file_is_read_as_its_values_type(german, tmp_path):
    folder = _lake(tmp_path / "lake", german, {1: ["sex", "good"]})
    stored = pq.read_schema(folder / "part-1.parquet")
    assert pa.types.is_dictionary(stored.field("sex").type)  # what pandas wrote
    # Arrow's Parquet reader restores a dictionary of text only: integer categories read as int64
    assert stored.field("good").type == pa.int64()
    schema = parquet_dataset(folder).schema
    assert schema.field("sex").type == pq.read_schema(folder / "part-0.parquet").field("sex").type
    assert schema.field("good").type == pa.int64()
    table = load_table(folder)
    pd.testing.assert_frame_equal(table, german, check_dtype=False)
    assert table["good"].dtype == np.int64


def test_a_column_categorical_in_every_file_stays_categorical(german, tmp_path):
    folder = _lake(tmp_path / "lake", german, {index: ["sex"] for index in range(4)})
    assert pa.types.is_dictionary(parquet_dataset(folder).schema.field("sex").type)
    assert isinstance(load_table(folder)["sex"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize("first", [0, 2])  # the file Arrow takes a folder's schema from, or not
def test_every_engine_audits_a_folder_with_a_categorical_piece_alike(german, tmp_path, first):
    folder = _lake(tmp_path / "lake", german, {first: ["sex", "age_band", "good"]})
    audit = {
        "model": "column:decision",
        "target": "good",
        "positive_label": 1,
        "sensitive": ["sex", "age_band"],
        "policy": "four-fifths",
    }
    results = {
        engine: run_audit(
            data=folder, **audit, **({"engine": engine, "chunk_rows": rows} if rows else {})
        )
        for engine, rows in ENGINES
    }
    whole = results["pandas"]
    for engine in ("chunked", "dask"):
        assert results[engine].findings == whole.findings, engine
        assert [o.metrics for o in results[engine].outputs] == [o.metrics for o in whole.outputs]

    for column in ("sex", "age_band"):
        counts = german.groupby(column)["decision"].agg(["sum", "count"])
        rates = counts["sum"] / counts["count"]
        low, high = rates.idxmin(), rates.idxmax()
        table = [
            [counts.loc[g, "sum"], counts.loc[g, "count"] - counts.loc[g, "sum"]]
            for g in (low, high)
        ]
        p_value = fisher_exact(table, alternative="less").pvalue
        for engine, result in results.items():
            found = {f.requirement_id: f for f in result.findings if tuple(f.grouping) == (column,)}
            ratio = found["four-fifths-selection-rate"].measured
            assert ratio == pytest.approx(rates[low] / rates[high], abs=1e-12), engine
            assert found["four-fifths-significance"].measured == pytest.approx(p_value, rel=1e-9)


@pytest.mark.parametrize("engine", [engine for engine, _ in ENGINES])
def test_categorical_text_beside_numbers_is_refused_naming_the_file(
    german, tmp_path, capsys, engine
):
    folder = _lake(tmp_path / "lake", german, {0: ["sex"]})
    part = pd.read_parquet(folder / "part-2.parquet")
    part["sex"] = (part["sex"] == "female").astype("int64")
    part.to_parquet(folder / "part-2.parquet", index=False)
    argv = ["run", "--model", "column:decision", "--data", str(folder), "--target", "good"]
    argv += ["--positive-label", "1", "--sensitive", "sex", "--policy", "four-fifths"]
    argv += ["--out", str(tmp_path / "out"), "--no-progress", "--engine", engine]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"maas-audit: error: the Parquet files of '{folder}' disagree")
    assert "Field sex has incompatible types" in err
    assert err.rstrip().endswith(f"(first in '{folder / 'part-2.parquet'}')")

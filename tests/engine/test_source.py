"""ParquetSource reads file by file; its batches must equal Arrow's own dataset reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from audit.data import parquet_dataset
from audit.engine.source import ParquetSource
from audit.errors import DataError


def _arrow_reading(path: Path, columns: list[str]) -> pd.DataFrame:
    """The whole table as Arrow's dataset scanner reads it (the unified schema)."""
    return parquet_dataset(path).to_table(columns=columns).to_pandas()


def _joined(source: ParquetSource, columns: list[str], rows: int, **kw: int) -> pd.DataFrame:
    frames = list(source.batches(columns, rows, **kw))
    assert all(0 < len(frame) <= rows for frame in frames)
    return pd.concat(frames)


@pytest.fixture
def hive_folder(tmp_path: Path) -> Path:
    """Hive partition folders (a text key and an integer key), several files and row groups."""
    root = tmp_path / "lake"
    for region in ("north", "south"):
        for year in (2024, 2025):
            folder = root / f"region={region}" / f"year={year}"
            folder.mkdir(parents=True)
            n = 7 if region == "north" else 5
            table = pa.table(
                {
                    "score": pa.array([0.1 * i for i in range(n)]),
                    "label": pa.array([i % 2 for i in range(n)], type=pa.int8()),
                    "name": pa.DictionaryArray.from_arrays(
                        pa.array([i % 3 for i in range(n)], type=pa.int8()),
                        pa.array(["a", "b", "c"]),
                    ),
                }
            )
            pq.write_table(table, folder / "part-0.parquet", row_group_size=3)
    return root


def test_hive_partitions_equal_arrow_reading(hive_folder: Path) -> None:
    source = ParquetSource(hive_folder)
    columns = ["region", "year", "score", "label", "name"]
    expected = _arrow_reading(hive_folder, columns)
    for rows in (1, 2, 4, 100):
        got = _joined(source, columns, rows)
        pd.testing.assert_frame_equal(got, expected)
    assert list(got.index) == list(range(source.rows))


def test_each_partition_is_its_slice_of_the_table(hive_folder: Path) -> None:
    source = ParquetSource(hive_folder)
    columns = ["year", "score", "region"]
    whole = _arrow_reading(hive_folder, columns)
    parts = [_joined(source, columns, 2, partition=i) for i, _ in enumerate(source.split())]
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), whole)


def test_types_unified_across_files_and_missing_columns_are_null(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    tables = {
        "a": {"x": pa.array([1, 2], pa.int64()), "g": ["a", "b"]},
        "b": {"x": pa.array([0.5]), "g": ["c"], "extra": [True]},
        "c": {"x": pa.nulls(0), "g": pa.nulls(0)},
    }
    for name, columns in tables.items():
        pq.write_table(pa.table(columns), folder / f"{name}.parquet")
    source = ParquetSource(folder)
    columns = ["x", "g", "extra"]
    got = _joined(source, columns, 10)
    pd.testing.assert_frame_equal(got, _arrow_reading(folder, columns))
    assert got["x"].tolist() == [1.0, 2.0, 0.5]
    assert got["extra"].isna().tolist() == [True, True, False]


def test_a_damaged_file_is_one_data_error(tmp_path: Path) -> None:
    folder = tmp_path / "damaged"
    folder.mkdir()
    pq.write_table(pa.table({"x": list(range(1000))}), folder / "a.parquet")
    source = ParquetSource(folder)
    raw = (folder / "a.parquet").read_bytes()
    (folder / "a.parquet").write_bytes(raw[:8] + b"\0" * (len(raw) - 16) + raw[-8:])
    with pytest.raises(DataError, match="cannot read data file"):
        list(source.batches(["x"], 100))


def test_batches_read_one_file_at_a_time(
    hive_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file is opened before the previous one's batches were all handed out."""
    opened: list[str] = []
    real = pq.ParquetFile

    def recording(path: str, *args: object, **kwargs: object) -> pq.ParquetFile:
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", recording)
    source = ParquetSource(hive_folder)
    batches = source.batches(["score"], 100)
    next(batches)
    assert len(opened) == 1
    assert sum(1 for _ in batches) == len(ds.dataset(hive_folder, format="parquet").files) - 1

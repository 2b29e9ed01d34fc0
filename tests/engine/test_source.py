"""ParquetSource reads file by file; its batches must equal Arrow's own dataset reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from audit.data import parquet_dataset
from audit.engine.source import ParquetRows, ParquetSource
from audit.errors import DataError


def _arrow_reading(path: Path, columns: list[str]) -> pd.DataFrame:
    """The whole table as Arrow's dataset scanner reads it (the unified schema)."""
    return parquet_dataset(path).to_table(columns=columns).to_pandas()


def _joined(source: ParquetSource | ParquetRows, columns: list[str], rows: int) -> pd.DataFrame:
    frames = list(source.batches(columns, rows))
    # chunks of exactly ``rows`` rows, on the table's grid of multiples of ``rows``; the last
    # one shorter
    assert all(len(frame) == rows for frame in frames[:-1])
    assert all(0 < len(frame) <= rows and frame.index[0] % rows == 0 for frame in frames)
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


@pytest.mark.parametrize("rows", [1, 2, 4, 5, 100])
def test_each_part_is_its_slice_of_the_table(hive_folder: Path, rows: int) -> None:
    # files of 7, 7, 5 and 5 rows in row groups of 3: parts start inside files and inside
    # row groups
    source = ParquetSource(hive_folder)
    columns = ["year", "score", "region"]
    whole = _arrow_reading(hive_folder, columns)
    parts = source.split(rows)
    assert all(part.start % rows == 0 for part in parts)
    assert len(parts) <= len(ds.dataset(hive_folder, format="parquet").files)
    chunks = [chunk for part in parts for chunk in part.batches(columns, rows)]
    # the same chunks as reading the whole table
    assert [list(chunk.index) for chunk in chunks] == [
        list(chunk.index) for chunk in source.batches(columns, rows)
    ]
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def test_small_files_are_joined_into_whole_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    for index in range(40):
        pq.write_table(pa.table({"x": [index] * 3}), folder / f"part-{index:02d}.parquet")
    source = ParquetSource(folder)
    frames = list(source.batches(["x"], 50))
    assert [len(frame) for frame in frames] == [50, 50, 20]
    assert pd.concat(frames)["x"].tolist() == [i for i in range(40) for _ in range(3)]
    parts = source.split(50)
    assert len(parts) == 3
    assert [len(part.files) for part in parts] == [17, 18, 7]  # only the files each needs


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
    """No file is opened before the previous one is closed, nor before its rows are needed."""
    events: list[tuple[str, str]] = []

    class Recording(pq.ParquetFile):
        def __init__(self, path: str, *args: object, **kwargs: object) -> None:
            events.append(("open", path))
            self.recorded_path = path
            super().__init__(path, *args, **kwargs)

        def __exit__(self, *exc: object) -> None:
            events.append(("close", self.recorded_path))
            super().__exit__(*exc)

    monkeypatch.setattr(pq, "ParquetFile", Recording)
    source = ParquetSource(hive_folder)
    batches = source.batches(["score"], 2)
    next(batches)
    assert [kind for kind, _ in events] == ["open"]
    assert sum(1 for _ in batches) == -(-source.rows // 2) - 1
    files = ds.dataset(hive_folder, format="parquet").files
    assert events == [(kind, path) for path in files for kind in ("open", "close")]

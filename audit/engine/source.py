"""Tables read piece by piece: a Parquet file or folder, or a DataFrame already in memory.

A source hands out chunks of a bounded number of rows and never holds the whole
table, so the chunked and Dask engines can audit data larger than memory.  Its
*partitions* (the Parquet files, or slices of a DataFrame) are the units of work
that Dask sends to its workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from audit.core.provenance import sha256_frame, sha256_path
from audit.data import parquet_dataset
from audit.errors import DataError

__all__ = ["FrameSource", "ParquetSource", "TableSource", "open_source"]

_PARQUET_SUFFIXES = {".parquet", ".pq"}


class ParquetSource:
    """A Parquet file, or a folder of them (hive-style partition folders included).

    Parameters
    ----------
    path:
        The file or folder.

    Raises
    ------
    DataError
        When the path is missing, not Parquet, or unreadable.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DataError(f"data file '{self.path}' does not exist")
        if self.path.is_file() and self.path.suffix.lower() not in _PARQUET_SUFFIXES:
            raise DataError(
                f"the chunked and dask engines read Parquet (a .parquet file or a folder of "
                f"them); '{self.path}' is not one: convert it, or use --engine pandas"
            )
        self._dataset = parquet_dataset(self.path)
        self._files = sorted(self._dataset.files)
        if not self._files:
            raise DataError(f"data folder '{self.path}' holds no Parquet files")

    def __reduce__(self) -> tuple[type[ParquetSource], tuple[Path]]:
        return (ParquetSource, (self.path,))  # workers reopen the files themselves

    @property
    def description(self) -> str:
        """Where the data comes from, for the report."""
        return str(self.path)

    def split(self) -> list[tuple[ParquetSource, int | None]]:
        """Units of work for a distributed run: one per file."""
        return [(self, index) for index in range(len(self._files))]

    @property
    def columns(self) -> list[str]:
        """The table's column names."""
        return list(self._dataset.schema.names)

    @cached_property
    def rows(self) -> int:
        """Number of rows (from the files' metadata, read once; no data is read)."""
        return int(self._dataset.count_rows())

    def batches(
        self, columns: Sequence[str], rows: int, partition: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Yield the table (or one partition of it) as DataFrames of at most ``rows`` rows.

        Each frame is indexed by its rows' positions in the table (the files in the
        order the in-memory engine reads them).  The files are read one at a time, a
        batch at a time: Arrow's dataset scanner reads ahead (the next file while this
        one is audited), which on wide text tables doubled the peak memory.
        """
        schema = self._dataset.schema
        wanted = pa.schema([schema.field(name) for name in columns], metadata=schema.metadata)
        fragments = list(self._dataset.get_fragments())
        if partition is not None:
            start = self._file_offset(self._files[partition])
            fragments = [f for f in fragments if f.path == self._files[partition]]
        else:
            start = 0
        try:
            for fragment in fragments:
                for batch in _file_batches(fragment, wanted, rows):
                    frame = batch.to_pandas()
                    frame.index = pd.RangeIndex(start, start + len(frame))
                    start += len(frame)
                    yield frame
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read data file '{self.path}': {_first_line(exc)}") from None

    def _file_offset(self, file: str) -> int:
        """Rows before ``file`` in the table (from the files' metadata; no data is read)."""
        start = 0
        for fragment in self._dataset.get_fragments():
            if fragment.path == file:
                return start
            start += fragment.count_rows()
        return start

    def distinct(self, column: str) -> tuple[pd.Series, int]:
        """The distinct non-missing values of ``column`` and its number of missing values."""
        kind = self._dataset.schema.field(column).type
        if isinstance(kind, pa.DictionaryType):
            kind = kind.value_type
        uniques: list[pa.Array] = []
        missing = 0
        try:
            scanner = self._dataset.scanner(
                columns=[column], batch_readahead=1, fragment_readahead=1
            )
            for batch in scanner.to_batches():
                values = batch.column(0)
                if isinstance(values.type, pa.DictionaryType):
                    values = values.dictionary_decode()
                missing += values.null_count
                uniques.append(pc.unique(values.drop_null()))
            combined = pc.unique(pa.chunked_array(uniques, type=kind))
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read data file '{self.path}': {_first_line(exc)}") from None
        return pd.Series(combined.to_pandas(), name=column), missing

    def head(self, rows: int) -> pd.DataFrame:
        """The first ``rows`` rows."""
        try:
            return self._dataset.head(rows).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read data file '{self.path}': {_first_line(exc)}") from None

    def sha256(self) -> str:
        """SHA-256 of the file, or of the folder's files (as the in-memory engine hashes)."""
        return sha256_path(self.path)


class FrameSource:
    """A DataFrame in memory, cut into slices: the same interface as :class:`ParquetSource`.

    Parameters
    ----------
    frame:
        The table.
    partitions:
        Number of slices a distributed run sends to workers.
    """

    description = "in-memory DataFrame"

    def __init__(self, frame: pd.DataFrame, partitions: int = 1, offset: int = 0) -> None:
        self.frame = frame.reset_index(drop=True)
        self.partitions = max(1, min(int(partitions), max(len(self.frame), 1)))
        self.offset = offset
        """Position of the first row in the whole table (a slice's start)."""

    @property
    def columns(self) -> list[str]:
        """The table's column names."""
        return [str(c) for c in self.frame.columns]

    def split(self) -> list[tuple[FrameSource, int | None]]:
        """Units of work for a distributed run: one slice each, shipped on its own."""
        size = -(-len(self.frame) // self.partitions)
        return [
            (FrameSource(self.frame.iloc[start : start + size], offset=self.offset + start), None)
            for start in range(0, len(self.frame), size)
        ]

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.frame)

    def batches(
        self, columns: Sequence[str], rows: int, partition: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Yield the table in DataFrames of at most ``rows`` rows (it is one partition).

        Each frame is indexed by its rows' positions in the whole table.
        """
        selected = self.frame[list(columns)]
        for first in range(0, len(selected), max(int(rows), 1)):
            chunk = selected.iloc[first : first + rows]
            start = self.offset + first
            yield chunk.set_axis(pd.RangeIndex(start, start + len(chunk)), axis=0)

    def distinct(self, column: str) -> tuple[pd.Series, int]:
        """The distinct non-missing values of ``column`` and its number of missing values."""
        values = self.frame[column]
        return pd.Series(values.dropna().unique(), name=column), int(values.isna().sum())

    def head(self, rows: int) -> pd.DataFrame:
        """The first ``rows`` rows."""
        return self.frame.head(rows)

    def sha256(self) -> str:
        """SHA-256 of the frame's names, dtypes and values (as the in-memory engine hashes)."""
        return sha256_frame(self.frame)


TableSource = ParquetSource | FrameSource
"""A table the chunked and Dask engines can read."""


def open_source(data: pd.DataFrame | str | Path, partitions: int = 1) -> TableSource:
    """The source of ``data``: a DataFrame, or the path of a Parquet file or folder."""
    if isinstance(data, pd.DataFrame):
        return FrameSource(data, partitions)
    return ParquetSource(data)


def _file_batches(
    fragment: ds.ParquetFileFragment, wanted: pa.Schema, rows: int
) -> Iterator[pa.RecordBatch]:
    """One file's rows as batches of at most ``rows`` rows, in the table's ``wanted`` schema.

    A column the file does not store is its hive partition value (from the folder
    names) or, when the file has no such column at all, missing; a stored column is
    cast to the table's unified type (see :func:`audit.data.parquet_dataset`).
    """
    partition_values = ds.get_partition_keys(fragment.partition_expression)
    with pq.ParquetFile(fragment.path) as reader:  # closed as soon as its rows are read
        stored = set(reader.schema_arrow.names)
        for batch in reader.iter_batches(
            batch_size=max(int(rows), 1), columns=[f.name for f in wanted if f.name in stored]
        ):
            if not batch.num_rows:
                continue
            arrays = []
            for field in wanted:
                if field.name in stored:
                    column = batch.column(field.name)
                    arrays.append(column if column.type == field.type else column.cast(field.type))
                elif field.name in partition_values:
                    value = pa.scalar(partition_values[field.name]).cast(field.type)
                    arrays.append(pa.repeat(value, batch.num_rows))
                else:
                    arrays.append(pa.nulls(batch.num_rows, field.type))
            yield pa.RecordBatch.from_arrays(arrays, schema=wanted)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

"""Tables read piece by piece: a Parquet file or folder, or a DataFrame already in memory.

A source hands out chunks of a bounded number of rows and never holds the whole
table, so the chunked and Dask engines can audit data larger than memory.  Its
*parts* (runs of consecutive Parquet files, or slices of a DataFrame) are the units of
work that Dask sends to its workers.

Data lakes often hold thousands of small files.  Chunks therefore do not follow the
files: a source cuts the table into chunks of exactly the rows asked for (the last one
shorter), joining the ends of files as needed, so that an auditor's fixed cost per chunk
(compiling its patterns, say) is paid once per chunk, not once per file.  The files'
row counts are read once, from their footers, when the source opens; a part carries the
positions and partition keys of its own files, so a worker reads them without
discovering the folder again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from audit.core.provenance import sha256_frame, sha256_path
from audit.data import PARQUET_SUFFIXES, parquet_dataset
from audit.errors import DataError

__all__ = [
    "FrameSource",
    "ParquetRows",
    "ParquetSource",
    "SourcePart",
    "TableSource",
    "open_source",
    "require_stored",
]


@dataclass(frozen=True)
class _FileSpan:
    """One Parquet file of a table: where its rows start, how many, its hive keys, its columns."""

    path: str
    first_row: int
    rows: int
    partition_values: Mapping[str, Any]
    stored: frozenset[str]

    def lacks(self, columns: Sequence[str]) -> list[str]:
        """The ``columns`` this file neither stores nor has as a hive key (none without rows)."""
        if not self.rows:
            return []
        return [c for c in columns if c not in self.stored and c not in self.partition_values]


class ParquetRows:
    """Rows ``start`` to ``stop`` of a Parquet table: a unit of work.

    It holds only the paths, row positions and partition keys of the files those rows
    are in, and the table's schema, so it is cheap to send to a Dask worker, which reads
    them without discovering the folder again.
    """

    def __init__(
        self,
        files: Sequence[_FileSpan],
        schema: pa.Schema,
        where: str,
        start: int,
        stop: int,
    ) -> None:
        self.files = tuple(f for f in files if f.first_row < stop and f.first_row + f.rows > start)
        self.schema = schema
        self.where = where
        self.start = start
        self.stop = stop

    def batches(self, columns: Sequence[str], rows: int) -> Iterator[pd.DataFrame]:
        """Yield the rows as DataFrames of exactly ``rows`` rows (the last one shorter).

        Each frame is indexed by its rows' positions in the whole table.  The files are
        read one at a time, a batch at a time (skipping the row groups before
        :attr:`start`), and the ends of files are joined into whole chunks (see the
        module docstring); at most ``rows`` rows are held.
        """
        size = max(int(rows), 1)
        wanted = pa.schema(
            [self.schema.field(name) for name in columns], metadata=self.schema.metadata
        )
        start = self.start
        held: list[pa.RecordBatch] = []
        count = 0
        try:
            for span in self.files:
                skip = max(self.start - span.first_row, 0)
                take = min(span.rows, self.stop - span.first_row) - skip
                for batch in _file_batches(span, wanted, size, skip, take):
                    held.append(batch)
                    count += batch.num_rows
                    while count >= size:
                        table = pa.Table.from_batches(held, schema=wanted)
                        yield _frame(table.slice(0, size), start)
                        start += size
                        held = table.slice(size).to_batches()
                        count -= size
            if count:
                yield _frame(pa.Table.from_batches(held, schema=wanted), start)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read data file '{self.where}': {_first_line(exc)}") from None


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
        if self.path.is_file() and self.path.suffix.lower() not in PARQUET_SUFFIXES:
            raise DataError(
                f"the chunked and dask engines read Parquet (a .parquet file or a folder of "
                f"them); '{self.path}' is not one: convert it, or use --engine pandas"
            )
        self._dataset = parquet_dataset(self.path)
        self._files = _file_spans(self._dataset, self.description)
        if not self._files:
            raise DataError(f"data folder '{self.path}' holds no Parquet files")

    def __reduce__(self) -> tuple[type[ParquetSource], tuple[Path]]:
        return (ParquetSource, (self.path,))  # reopened where it is unpickled

    @property
    def description(self) -> str:
        """Where the data comes from, for the report."""
        return str(self.path)

    def split(self, rows: int) -> list[ParquetRows]:
        """Units of work for a distributed run: about one per file, in whole chunks of ``rows``.

        A part ends at the first chunk boundary (a multiple of ``rows``) at or after the
        end of a file, and the next starts there: its chunks are those of
        :meth:`batches`, so a distributed run scores and counts the same chunks as a
        chunked one; a large file is about one part (read once, not once per chunk),
        and files smaller than a chunk share one.
        """
        size = max(int(rows), 1)
        total = self.rows
        ends = sorted({min(-(-(f.first_row + f.rows) // size) * size, total) for f in self._files})
        return [
            ParquetRows(self._files, self._dataset.schema, self.description, start, stop)
            for start, stop in zip([0, *ends[:-1]], ends, strict=True)
            if stop > start
        ]

    @property
    def columns(self) -> list[str]:
        """The table's column names."""
        return list(self._dataset.schema.names)

    @property
    def rows(self) -> int:
        """Number of rows (from the files' footers, read once when the source opened)."""
        return sum(span.rows for span in self._files)

    def batches(self, columns: Sequence[str], rows: int) -> Iterator[pd.DataFrame]:
        """Yield the table as DataFrames of exactly ``rows`` rows (the last one shorter).

        See :meth:`ParquetRows.batches`: every file, in the order the in-memory engine
        reads them.
        """
        whole = ParquetRows(self._files, self._dataset.schema, self.description, 0, self.rows)
        return whole.batches(columns, rows)

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

    def require(self, columns: Sequence[str]) -> None:
        """Refuse a file with rows that lacks one of ``columns`` (the columns a model audit reads).

        A folder's files are read with one schema, and a column that a file does not
        store reads as missing there (see :func:`_file_batches`): a model would be given
        missing inputs, and a sensitive column's rows would silently join the unknown
        group, for a reason that lies in how the file was written, not in the data.

        Raises
        ------
        DataError
            Naming the first such file, its missing columns, and how many files lack some.
        """
        known = [c for c in dict.fromkeys(columns) if c in self.columns]  # others: named later
        lacking = [(span, span.lacks(known)) for span in self._files]
        lacking = [(span, missing) for span, missing in lacking if missing]
        if not lacking:
            return
        span, missing = lacking[0]
        named = ", ".join(repr(c) for c in missing)
        more = (
            f" ({len(lacking)} of its {len(self._files)} files lack some)"
            if len(lacking) > 1
            else ""
        )
        them = "them" if len(missing) > 1 else "it"
        raise DataError(
            f"data file '{span.path}' has no column {named}, which the audit reads; every "
            f"file of '{self.path}' with rows must store {them}{more}"
        )


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

    def split(self, rows: int) -> list[FrameSource]:
        """Units of work for a distributed run: ``partitions`` slices, each shipped on its own.

        Each slice is a whole number of chunks of ``rows`` rows, so a distributed run cuts
        the same chunks as :meth:`batches` on the whole frame.
        """
        chunk = max(int(rows), 1)
        per_partition = math.ceil(len(self.frame) / self.partitions)
        size = max(math.ceil(per_partition / chunk), 1) * chunk
        return [
            FrameSource(self.frame.iloc[start : start + size], offset=self.offset + start)
            for start in range(0, len(self.frame), size)
        ]

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.frame)

    def batches(self, columns: Sequence[str], rows: int) -> Iterator[pd.DataFrame]:
        """Yield the table in DataFrames of exactly ``rows`` rows (the last one shorter).

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

    def require(self, columns: Sequence[str]) -> None:
        """Nothing to refuse: every row of a DataFrame has every column."""


TableSource = ParquetSource | FrameSource
"""A table the chunked and Dask engines can read."""

SourcePart = ParquetRows | FrameSource
"""A unit of work of a :data:`TableSource` (:meth:`~ParquetSource.split`): it yields its
rows with ``batches(columns, rows)``."""


def open_source(data: pd.DataFrame | str | Path, partitions: int = 1) -> TableSource:
    """The source of ``data``: a DataFrame, or the path of a Parquet file or folder."""
    if isinstance(data, pd.DataFrame):
        return FrameSource(data, partitions)
    return ParquetSource(data)


def require_stored(data: pd.DataFrame | str | Path, columns: Sequence[str]) -> None:
    """Refuse a Parquet folder with a file that lacks one of ``columns`` (see ``require``)."""
    if not isinstance(data, pd.DataFrame) and Path(data).is_dir():
        ParquetSource(data).require(columns)


def _file_spans(dataset: ds.Dataset, where: str) -> tuple[_FileSpan, ...]:
    """The dataset's files in its order (the in-memory engine's), with their rows and keys."""
    spans: list[_FileSpan] = []
    start = 0
    try:
        for fragment in dataset.get_fragments():
            rows = fragment.metadata.num_rows  # the footer only
            keys = ds.get_partition_keys(fragment.partition_expression)
            stored = frozenset(fragment.physical_schema.names)
            spans.append(_FileSpan(fragment.path, start, rows, keys, stored))
            start += rows
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read data file '{where}': {_first_line(exc)}") from None
    return tuple(spans)


def _frame(table: pa.Table, start: int) -> pd.DataFrame:
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _file_batches(
    span: _FileSpan, wanted: pa.Schema, rows: int, skip: int, take: int
) -> Iterator[pa.RecordBatch]:
    """Rows ``skip`` to ``skip + take`` of one file in batches, in the ``wanted`` schema.

    Batches hold at most ``rows`` rows; row groups that end before ``skip`` are not read.
    A column the file does not store is its hive partition value (from the folder names)
    or, when the file has no such column at all, missing; a stored column is cast to the
    table's unified type (see :func:`audit.data.parquet_dataset`).
    """
    partition_values = span.partition_values
    with pq.ParquetFile(span.path) as reader:  # closed as soon as its rows are read
        stored = set(reader.schema_arrow.names)
        groups, first = _row_groups_from(reader.metadata, skip)
        skip -= first
        for batch in reader.iter_batches(
            batch_size=max(int(rows), 1),
            row_groups=groups,
            columns=[f.name for f in wanted if f.name in stored],
        ):
            if take <= 0:
                return
            if skip:
                dropped = min(skip, batch.num_rows)
                batch, skip = batch.slice(dropped), skip - dropped
            batch = batch.slice(0, take)
            take -= batch.num_rows
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


def _row_groups_from(metadata: pq.FileMetaData, row: int) -> tuple[list[int], int]:
    """The row groups from the one holding ``row`` on, and the first row of that group."""
    first = 0
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if first + rows > row:
            return list(range(group, metadata.num_row_groups)), first
        first += rows
    return [], first


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

"""Reading audit data (CSV, Parquet) and checking the columns an audit names."""

from __future__ import annotations

import csv
import difflib
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from audit.core.context import ColumnRoles, Task
from audit.core.outcomes import infer_task
from audit.errors import DataError

__all__ = [
    "PARQUET_SUFFIXES",
    "check_columns",
    "column_names",
    "load_table",
    "parquet_dataset",
    "resolve_roles",
]

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
"""File endings read as Parquet."""
_OTHER_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'"}
"""Separators other than the file type's that a one-column header gives away."""
ERR_UNKNOWN_TYPE = "data file '{path}' has an unknown type '{suffix}'; use .csv, .tsv or .parquet"
_RECODE = (
    "re-encode it as UTF-8 (from Windows-1252 or Latin-1, as spreadsheets often save: "
    "iconv -f cp1252 -t utf-8 IN > OUT)"
)


def load_table(path: str | Path, *, codes_as_text: bool = False) -> pd.DataFrame:
    """Read a CSV or Parquet file (or a folder of Parquet files) into a DataFrame.

    With ``codes_as_text``, a CSV column of numbers of which some are written with a
    leading zero (postcodes such as ``02139``, account numbers) is kept as the text it
    is: read as numbers, ``02139`` would become ``2139``.  A data-only audit reads data
    that way, as it checks how values are written; a model is given the columns as
    pandas reads them, as it was most likely trained on.

    Raises
    ------
    DataError
        When the file is missing, of an unknown type, unreadable, not UTF-8, or empty.
    """
    path = Path(path)
    _refuse_unreadable_path(path)
    suffix = path.suffix.lower()
    header: list[str] | None = None  # a CSV file's column names, read once
    try:
        if path.is_dir():  # every engine reads a folder with the schema that fits all its files
            frame = pd.read_parquet(path, schema=parquet_dataset(path).schema)
        elif suffix in PARQUET_SUFFIXES:
            _refuse_repeated_names(path, pq.read_schema(path).names)
            frame = pd.read_parquet(path)
        elif suffix in _CSV_SUFFIXES:
            sep = "\t" if suffix == ".tsv" else ","
            header = _csv_header(path, sep)
            _refuse_other_separator(path, sep, header)
            frame = _read_csv(path, sep)
            if codes_as_text:
                frame = _codes_as_text(frame, path, sep)
        else:
            raise DataError(ERR_UNKNOWN_TYPE.format(path=path, suffix=suffix))
    except UnicodeDecodeError:
        where = _non_utf8(path)
        raise DataError(f"data file '{path}' is not UTF-8 text ({where}); {_RECODE}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{path}' is empty") from None
    except (pd.errors.ParserError, ValueError, OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read data file '{path}': {_first_line(exc)}") from None
    if frame.empty:
        raise DataError(f"data file '{path}' has no rows")
    if header is not None:
        _refuse_repeated_names(path, header)
    return frame


def column_names(path: str | Path) -> list[str]:
    """The column names of a data file or folder, read without reading its rows.

    Lets a command check the columns it names before an audit starts; what is wrong with
    the rows themselves is left to :func:`load_table`.

    Raises
    ------
    DataError
        When the path is missing, not a file or folder, of an unknown type, or its
        header or schema cannot be read.
    """
    path = Path(path)
    _refuse_unreadable_path(path)
    suffix = path.suffix.lower()
    try:
        if path.is_dir():
            return list(parquet_dataset(path).schema.names)
        if suffix in PARQUET_SUFFIXES:
            return list(pq.read_schema(path).names)
        if suffix in _CSV_SUFFIXES:
            return _csv_header(path, "\t" if suffix == ".tsv" else ",") or []
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read data file '{path}': {_first_line(exc)}") from None
    raise DataError(ERR_UNKNOWN_TYPE.format(path=path, suffix=suffix))


def parquet_dataset(path: str | Path) -> ds.Dataset:
    """A Parquet file or folder (hive partition folders included) with one schema for all files.

    Arrow takes a folder's schema from its first file.  Here each file's schema is read
    and unified instead, as pandas does when it concatenates the files: a column stored
    with the null type (a file with no rows) takes the other files' type, an integer
    column that another file stores as floating point is read as floating point, and a
    column that some files store dictionary-encoded (a pandas categorical) and others
    plain is read as its values' type (see :func:`_decode_mixed_dictionaries`).

    Raises
    ------
    DataError
        When the path is missing or not a file or folder, a file cannot be read or
        repeats a column name, the folder holds no Parquet file, or the files store a
        column with types that do not unify (text in one file, numbers in another).
    """
    path = Path(path)
    _refuse_unreadable_path(path)
    try:
        if path.is_file():  # Arrow's own message would not name the columns
            _refuse_repeated_names(path, pq.read_schema(path).names)
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        fragments = list(dataset.get_fragments())
        schemas = [dataset.schema, *(f.physical_schema for f in fragments)]
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read data file '{path}': {_first_line(exc)}") from None
    if not dataset.files:
        raise DataError(f"data folder '{path}' holds no Parquet files")
    schemas = _decode_mixed_dictionaries(schemas)
    try:
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        where = _first_disagreeing([f.path for f in fragments], schemas)
        raise DataError(
            f"the Parquet files of '{path}' disagree on a column's type: {_first_line(exc)}{where}"
        ) from None
    if unified.equals(dataset.schema):
        return dataset
    return ds.dataset(path, schema=unified, format="parquet", partitioning="hive")


def _decode_mixed_dictionaries(schemas: Sequence[pa.Schema]) -> list[pa.Schema]:
    """The schemas, a column dictionary-encoded in some and plain in others read as plain.

    pandas stores a categorical column dictionary-encoded, so a data lake written with
    pandas in pieces often has a column that is ``dictionary<string>`` in one file and
    ``string`` in the others.  Arrow does not unify a dictionary type with a plain one;
    its values' type does unify as usual (``string`` with ``large_string``, ``int64``
    with ``double``), and every file's column is then read as, or cast to, the unified
    type.  A column that is dictionary-encoded in every file (or null-typed, in a file
    without rows) stays dictionary-encoded; a dictionary of text beside numbers still
    does not unify.
    """
    plain = {
        field.name
        for schema in schemas
        for field in schema
        if not pa.types.is_dictionary(field.type) and not pa.types.is_null(field.type)
    }
    return [
        pa.schema(
            [
                field.with_type(field.type.value_type)
                if pa.types.is_dictionary(field.type) and field.name in plain
                else field
                for field in schema
            ],
            metadata=schema.metadata,
        )
        for schema in schemas
    ]


def _first_disagreeing(files: Sequence[str], schemas: Sequence[pa.Schema]) -> str:
    """`` (first in 'FILE')``: the first file whose schema does not unify with those before it.

    ``schemas`` are the folder's schema followed by its ``files``' own; empty when
    every file unifies with those before it.
    """
    running = schemas[0]
    for file, schema in zip(files, schemas[1:], strict=True):
        try:
            running = pa.unify_schemas([running, schema], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            return f" (first in '{file}')"
    return ""


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    """Read CSV text; rows longer than the header are refused, never taken as an index."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = pd.read_csv(path, sep=sep, encoding="utf-8", low_memory=False, index_col=False)
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        raise DataError(
            f"data file '{path}' has rows with more fields than its header "
            f"({len(frame.columns)} columns); check the separator and quoting"
        )
    return frame


_LEADING_ZERO = r"^\s*[+-]?0\d"
"""A number written with a leading zero before another digit (``02139``; not ``0`` or ``0.5``)."""


def _codes_as_text(frame: pd.DataFrame, path: Path, sep: str) -> pd.DataFrame:
    """``frame`` whose numeric columns written with leading zeros are the file's text.

    Only the numeric columns are read a second time, as text.
    """
    numeric = [
        i
        for i, (_, values) in enumerate(frame.items())
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    ]
    if not numeric:
        return frame
    text = pd.read_csv(path, sep=sep, encoding="utf-8", usecols=numeric, dtype=str, index_col=False)
    coded = [
        i
        for i, (_, values) in zip(numeric, text.items(), strict=True)
        if values.str.match(_LEADING_ZERO, na=False).any()
    ]
    if not coded:
        return frame
    frame = frame.copy()
    for i in coded:
        frame.isetitem(i, text.iloc[:, numeric.index(i)])
    return frame


def _csv_header(path: Path, sep: str) -> list[str] | None:
    """The column names on a CSV file's first line, or ``None`` when they cannot be read.

    Reading the whole file then names what is wrong with it.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            return next(csv.reader(handle, delimiter=sep), [])
        except (csv.Error, UnicodeDecodeError):
            return None


def _refuse_other_separator(path: Path, sep: str, header: list[str] | None) -> None:
    """Refuse a file whose header is one column holding another separator (``a;b;c``).

    Read with the file type's separator, such a file would be one column whose name is
    the whole header, and every check after would name the wrong problem.
    """
    if header is None or len(header) != 1:
        return
    found = {other: header[0].count(other) for other in _OTHER_SEPARATORS if other != sep}
    other, count = max(found.items(), key=lambda item: item[1], default=(sep, 0))
    if count:
        shown = header[0] if len(header[0]) <= 60 else header[0][:57] + "..."
        raise DataError(
            f"data file '{path}' has one column, {shown!r}: it separates its columns with "
            f"{_OTHER_SEPARATORS[other]}, not {_OTHER_SEPARATORS.get(sep, repr(sep))}; "
            "save it comma-separated (.csv) or tab-separated (.tsv)"
        )


def _non_utf8(path: Path) -> str:
    """Where the first byte that is not UTF-8 is: ``line 2: byte 0xe9``."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:  # no UTF-8 character spans a line's end
                return f"line {number}: byte 0x{line[exc.start]:02x}"
    return "a byte sequence that is not UTF-8"


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _refuse_unreadable_path(path: Path) -> None:
    """Refuse a path that does not exist, or is neither a file nor a folder.

    A device or a named pipe (``/dev/zero``, ``<(zcat data.csv.gz)``) could be read
    forever, or only once; an audit reads its data more than once.
    """
    if not path.exists():
        raise DataError(f"data file '{path}' does not exist")
    if not path.is_file() and not path.is_dir():
        raise DataError(
            f"data file '{path}' is not a regular file (a device or a pipe); "
            "write the data to a file first"
        )


def _refuse_repeated_names(path: Path, header: Sequence[str]) -> None:
    """Refuse repeated column names, which pandas would silently rename (``a``, ``a.1``)."""
    repeated = sorted(name for name, count in Counter(header).items() if count > 1)
    if repeated:
        raise DataError(f"data file '{path}' has duplicated column names: {', '.join(repeated)}")


def check_columns(frame: pd.DataFrame, names: Sequence[str], role: str) -> None:
    """Raise a :class:`DataError` naming the first of ``names`` missing from ``frame``."""
    available = [str(c) for c in frame.columns]
    for name in names:
        if name not in frame.columns:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "."
            shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
            raise DataError(f"{role} column '{name}' is not in the data{hint} Columns are: {shown}")


def resolve_roles(
    frame: pd.DataFrame,
    *,
    target: str,
    sensitive: Sequence[str],
    features: Sequence[str] | None = None,
    reserved: Sequence[str] = (),
    positive_label: Any = None,
    threshold: float | None = None,
    task: Task | None = None,
) -> ColumnRoles:
    """Check the named columns against the data and settle each column's role.

    Without ``features``, the model is given every column except the target and the
    ``reserved`` ones (columns a model adapter reads itself, such as logged predictions).
    Sensitive columns stay model inputs unless ``features`` leaves them out.

    Raises
    ------
    DataError
        When a named column is missing or duplicated, the data has no rows, or roles clash.
    """
    if frame.empty:
        raise DataError("the data has no rows")
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        raise DataError(f"the data has duplicated column names: {', '.join(duplicated)}")
    if not sensitive:
        raise DataError("name at least one sensitive column (--sensitive)")
    check_columns(frame, [target], "target")
    check_columns(frame, sensitive, "sensitive")
    repeated = sorted({str(c) for c in sensitive if list(sensitive).count(c) > 1})
    if repeated:
        named = ", ".join(f"'{c}'" for c in repeated)
        raise DataError(f"sensitive column {named} is named more than once; name each column once")
    if target in sensitive:
        raise DataError(f"column '{target}' cannot be both the target and a sensitive column")
    if features is None:
        excluded = {target, *reserved}
        features = [str(c) for c in frame.columns if c not in excluded]
    else:
        check_columns(frame, features, "feature")
        if target in features:
            raise DataError(f"the target column '{target}' cannot also be a model feature")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise DataError(f"the score threshold must lie between 0 and 1; got {threshold}")
    return ColumnRoles(
        target=target,
        sensitive=tuple(sensitive),
        features=tuple(features),
        positive_label=positive_label,
        threshold=threshold,
        task=task if task is not None else infer_task(frame[target], positive_label),
    )

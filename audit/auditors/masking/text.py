"""Cells as text: any column turned into an Arrow string array the recognizers can scan.

Bad input never raises: values that are not text (bytes, mixed types) are decoded with
replacement characters, cells longer than the limit are cut to it, and both are noted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["NOTE_DECODED", "NOTE_TRUNCATED", "column_text", "column_text_counted"]

NOTE_DECODED = "{n} cell(s) held bytes or non-text values; scanned as text with replacements"
NOTE_TRUNCATED = "{n} cell(s) longer than {limit} characters were scanned up to that length"


def _decode(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", errors="replace").decode("utf-8")


def column_text(series: pd.Series, max_chars: int) -> tuple[pa.Array | None, list[str]]:
    """The column as an Arrow string array, or ``None`` when it cannot hold text-like PII.

    Integers (and floats that are all whole numbers) are scanned as their digits,
    datetimes as ``YYYY-MM-DD``, booleans and other floats not at all.  The notes say
    how many cells were decoded from non-text values and how many were cut.
    """
    array, decoded, truncated = column_text_counted(series, max_chars)
    notes = [NOTE_DECODED.format(n=decoded)] if decoded else []
    if truncated:
        notes.append(NOTE_TRUNCATED.format(n=truncated, limit=max_chars))
    return array, notes


def column_text_counted(series: pd.Series, max_chars: int) -> tuple[pa.Array | None, int, int]:
    """:func:`column_text`, with the numbers of decoded and of cut cells instead of notes."""
    decoded = 0
    if pd.api.types.is_bool_dtype(series):
        return None, 0, 0
    if pd.api.types.is_float_dtype(series):
        values = series.dropna()
        if values.empty or not np.all(np.mod(values.to_numpy(), 1) == 0):
            return None, 0, 0
        series = series.astype("Int64")
    if pd.api.types.is_integer_dtype(series):
        array = pa.array(series, from_pandas=True).cast(pa.string())
    elif pd.api.types.is_datetime64_any_dtype(series):
        array = pa.array(series.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)
    else:
        try:
            array = pa.array(series, type=pa.string(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, UnicodeError):
            values = [_decode(v) for v in series.tolist()]
            odd = sum(1 for v in series.tolist() if v is not None and not isinstance(v, str))
            array = pa.array(values, type=pa.string())
            decoded = odd or len(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    too_long = 0
    if (pc.max(pc.binary_length(array)).as_py() or 0) > max_chars:  # bytes >= characters
        too_long = pc.sum(pc.greater(pc.utf8_length(array), max_chars)).as_py() or 0
    if too_long:
        array = pc.utf8_slice_codeunits(array, 0, max_chars)
    return array, decoded, int(too_long)

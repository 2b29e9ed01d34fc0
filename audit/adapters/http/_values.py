"""Turning DataFrame columns into JSON values and JSON answers into arrays.

Shared by the MLflow and Open Inference Protocol codecs.  JSON has no NaN, so a
missing value (``None``, ``NaN``, ``pd.NA``, ``NaT``) always travels as ``null``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.core.secrets import redact
from audit.errors import DataError, EndpointError

__all__ = [
    "column_values",
    "describe_json",
    "json_scalar",
    "label_array",
    "probability_array",
    "probability_matrix",
    "score_array",
]

_MAX_SHOWN = 60
# FP16 probabilities, each rounded to within 2**-12, still sum to 1 within this
_SUM_TOLERANCE = 5e-3


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return isinstance(value, np.datetime64 | np.timedelta64) and bool(np.isnat(value))


def json_scalar(value: Any, *, column: str) -> Any:
    """Convert one cell to a JSON-safe Python value; missing values become ``None``.

    Raises
    ------
    DataError
        If the value is infinite or of a type JSON cannot carry.
    """
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isinf(value):
            raise DataError(
                f"column {column!r} holds an infinite value, which JSON cannot carry; "
                "replace it before auditing a served model."
            )
        return value
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise DataError(
        f"column {column!r} holds a value of type {type(value).__name__}, which cannot be "
        "sent as JSON; expected numbers, strings, booleans, dates or missing values."
    )


def column_values(series: pd.Series) -> list[Any]:
    """Return the values of one column as a list of JSON-safe Python values.

    The same values as :func:`json_scalar` cell by cell; NumPy bool, int and float
    columns, and strings in object columns, take a vectorised path (scoring encodes
    every cell sent, so this is on the hot path of a served model).
    """
    column = str(series.name)
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        values = series.to_numpy()
        if dtype.kind == "f":
            infinite = np.isinf(values)
            if infinite.any():
                json_scalar(values[np.argmax(infinite)], column=column)  # raises DataError
            missing = np.isnan(values)
            if missing.any():
                out: list[Any] = values.tolist()
                for index in np.flatnonzero(missing).tolist():
                    out[index] = None
                return out
        return values.tolist()  # type: ignore[no-any-return]
    return [
        v if type(v) is str else json_scalar(v, column=column)
        for v in series.to_numpy(dtype=object).tolist()
    ]


def describe_json(value: Any) -> str:
    """Render a JSON value on one short line, for error messages, without any secret.

    An endpoint may echo a credential in any answer, so every credential a transport
    of this process sends is redacted (see :mod:`audit.core.secrets`).
    """
    text = redact(repr(value).replace("\n", " "))
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def label_array(values: Sequence[Any], *, what: str) -> np.ndarray:
    """Type labels decoded from JSON as one array: bool, int64, float64 or object (str).

    Raises
    ------
    EndpointError
        If a label is null, not a scalar, or the labels mix strings with numbers.
    """
    found = set(map(type, values))
    if found == {str}:
        return np.asarray(values, dtype=object)
    if found == {int}:
        return np.asarray(values, dtype=np.int64)
    if found == {bool}:
        return np.asarray(values, dtype=bool)
    if found and found <= {int, float}:
        return np.asarray(values, dtype=np.float64)
    kinds: set[str] = set()
    for index, value in enumerate(values):
        if value is None:
            raise EndpointError(f"{what}: prediction {index} is null; expected a label.")
        if isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, str):
            kinds.add("str")
        else:
            raise EndpointError(
                f"{what}: prediction {index} is {describe_json(value)}; expected a label "
                "(a string, number or boolean)."
            )
    if not kinds:
        return np.asarray([], dtype=object)
    if kinds == {"bool"}:
        return np.asarray(values, dtype=bool)
    if kinds == {"int"}:
        return np.asarray(values, dtype=np.int64)
    if kinds <= {"int", "float"}:
        return np.asarray(values, dtype=np.float64)
    if kinds == {"str"}:
        return np.asarray(values, dtype=object)
    raise EndpointError(
        f"{what}: labels mix {' and '.join(sorted(kinds))} values; expected one type."
    )


def score_array(values: Sequence[Any], *, what: str) -> np.ndarray:
    """Type scores decoded from JSON as a float64 array.

    Raises
    ------
    EndpointError
        If a score is null or not a number.
    """
    if set(map(type, values)) <= {float, int}:  # JSON numbers, no bool: the common case
        return np.asarray(values, dtype=np.float64)
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EndpointError(
                f"{what}: score {index} is {describe_json(value)}; expected a number."
            )
    return np.asarray(values, dtype=np.float64)


def probability_array(values: Sequence[Any], *, what: str) -> np.ndarray:
    """Type positive-class probabilities decoded from JSON as float64, each in [0, 1].

    An endpoint that answers a probability of 1.7, -0.2 or NaN is not giving
    probabilities (a margin, a log-odds, a broken model): it is refused rather than
    thresholded as if it were one.

    Raises
    ------
    EndpointError
        If a value is not a number, or is outside [0, 1] (NaN included).

    Examples
    --------
    >>> probability_array([0.25, 1], what="x")
    array([0.25, 1.  ])
    >>> probability_array([0.5, 1.7], what="x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    audit.errors.EndpointError: x: score 1 is 1.7; expected a probability between 0 and 1...
    """
    scores = score_array(values, what=what)
    outside = _not_probabilities(scores)
    if outside.any():
        index = int(np.argmax(outside))
        raise EndpointError(
            f"{what}: score {index} is {float(scores[index])!r}; expected a probability "
            f"between 0 and 1 ({int(outside.sum())} of {len(scores)} are not)"
        )
    return scores


def _not_probabilities(values: np.ndarray) -> np.ndarray:
    return ~((values >= 0.0) & (values <= 1.0))  # NaN fails both comparisons


def probability_matrix(rows: Sequence[Sequence[Any]], *, what: str) -> np.ndarray:
    """Type per-row class probabilities as an ``(n, k)`` float64 array whose rows sum to 1.

    Raises
    ------
    EndpointError
        If a value is not a probability, or a row's probabilities do not sum to 1
        (within 0.005): such an answer is not a class distribution.

    Examples
    --------
    >>> probability_matrix([[0.9, 0.1], [0.4, 0.6]], what="x")[:, 1]
    array([0.1, 0.6])
    """
    width = len(rows[0]) if rows else 0
    matrix = score_array([value for row in rows for value in row], what=what)
    matrix = matrix.reshape(len(rows), width)
    outside = _not_probabilities(matrix).any(axis=1)
    if outside.any():
        index = int(np.argmax(outside))
        raise EndpointError(
            f"{what}: row {index} has class probabilities {matrix[index].tolist()}; expected "
            f"each between 0 and 1 ({int(outside.sum())} of {len(matrix)} rows are not)"
        )
    off = np.abs(matrix.sum(axis=1) - 1.0) > _SUM_TOLERANCE
    if off.any():
        index = int(np.argmax(off))
        raise EndpointError(
            f"{what}: the class probabilities of row {index} sum to "
            f"{float(matrix[index].sum()):.6g}, not 1 ({int(off.sum())} of {len(matrix)} rows); "
            "expected one probability per class"
        )
    return matrix

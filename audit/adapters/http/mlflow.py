"""Payload codec of the MLflow scoring server (``POST /invocations``); no I/O.

Requests use the ``dataframe_split`` format::

    {"dataframe_split": {"columns": ["age", "sex"], "data": [[39, "Male"], [50, null]]}}

Missing values travel as ``null`` (JSON has no NaN).  Answers are
``{"predictions": ...}`` or a bare list, read as follows:

* a list of scalars: one label per row;
* a list of 2-element lists: class probabilities; the score is column 1 and the
  label is the index of the larger one (0 or 1); with more than two columns the
  label is the arg-max index and there is no score;
* a list of records (objects): the label from a key such as ``label`` or
  ``prediction``, the score from a key such as ``probability`` or ``score``
  (a number, or a 2-element list read as above); a column-oriented object of
  equal-length lists is read the same way.

Probabilities are checked: each between 0 and 1, and each row of class
probabilities summing to 1; an answer that breaks this is refused, never
thresholded as if it were probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.http._values import (
    column_values,
    describe_json,
    label_array,
    probability_array,
    probability_matrix,
)
from audit.core.protocols import Predictions
from audit.errors import EndpointError

__all__ = [
    "LABEL_KEYS",
    "SCORE_KEYS",
    "decode_matrix",
    "decode_predictions",
    "encode_dataframe_split",
]

LABEL_KEYS: tuple[str, ...] = (
    "label",
    "labels",
    "predicted_label",
    "prediction",
    "predictions",
    "predicted_class",
    "class",
    "output",
)
"""Record keys read as the label, in order of preference (case-insensitive)."""

SCORE_KEYS: tuple[str, ...] = (
    "probability",
    "probabilities",
    "predict_proba",
    "proba",
    "score",
    "scores",
)
"""Record keys read as the score, in order of preference (case-insensitive)."""

_WHAT = "MLflow answer"


def encode_dataframe_split(rows: pd.DataFrame) -> dict[str, Any]:
    """Encode a batch of rows as an MLflow ``dataframe_split`` request body.

    Parameters
    ----------
    rows:
        The batch; column names are sent as strings, in order.

    Returns
    -------
    dict
        A JSON-safe body; missing values are ``None``, numpy scalars Python scalars.

    Raises
    ------
    DataError
        If a cell holds an infinite value or a type JSON cannot carry.

    Examples
    --------
    >>> import pandas as pd
    >>> encode_dataframe_split(pd.DataFrame({"x": [1.5, float("nan")], "s": ["a", None]}))
    {'dataframe_split': {'columns': ['x', 's'], 'data': [[1.5, 'a'], [None, None]]}}
    """
    columns = [column_values(series) for _, series in rows.items()]  # iloc costs twice as much
    data = list(map(list, zip(*columns, strict=True))) if columns else [[]] * len(rows)
    return {"dataframe_split": {"columns": [str(c) for c in rows.columns], "data": data}}


def decode_predictions(body: Any) -> Predictions:
    """Decode an MLflow scoring-server answer into :class:`~audit.core.protocols.Predictions`.

    Parameters
    ----------
    body:
        The parsed JSON answer: ``{"predictions": [...]}`` or a bare list.

    Raises
    ------
    EndpointError
        If the answer has none of the accepted shapes; the message says what came back.

    Examples
    --------
    >>> decode_predictions({"predictions": [[0.8, 0.2], [0.3, 0.7]]}).scores
    array([0.2, 0.7])
    """
    values = body.get("predictions") if isinstance(body, dict) else body
    if isinstance(body, dict) and "predictions" not in body:
        raise EndpointError(
            f"{_WHAT}: expected an object with key 'predictions' or a list; "
            f"got an object with keys {sorted(body)}."
        )
    if isinstance(values, dict):
        values = _columns_to_records(values)
    if not isinstance(values, list):
        raise EndpointError(
            f"{_WHAT}: expected a list of predictions; got {describe_json(values)}."
        )
    if not values:
        return Predictions(labels=np.asarray([], dtype=object))
    kinds = set(map(type, values))  # one pass over the types, not an isinstance per row
    if all(issubclass(kind, dict) for kind in kinds):
        return _decode_records(values)
    if all(issubclass(kind, list) for kind in kinds):
        return decode_matrix(values, what=_WHAT)
    return Predictions(labels=label_array(values, what=_WHAT))


def decode_matrix(rows: Sequence[Sequence[Any]], *, what: str) -> Predictions:
    """Decode a list of per-row lists: one column → labels, 2 columns → probabilities.

    Raises
    ------
    EndpointError
        If the rows differ in length or are empty, or if rows of two or more columns
        are not class probabilities (numbers between 0 and 1 summing to 1).
    """
    widths = {len(r) for r in rows}
    if len(widths) != 1 or 0 in widths:
        raise EndpointError(
            f"{what}: expected rows of equal, non-zero length; got lengths {sorted(widths)}."
        )
    (width,) = widths
    if width == 1:
        return Predictions(labels=label_array([r[0] for r in rows], what=what))
    matrix = probability_matrix(rows, what=what)
    labels = np.argmax(matrix, axis=1).astype(np.int64)
    return Predictions(labels=labels, scores=matrix[:, 1] if width == 2 else None)


def _columns_to_records(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if len(lengths) != 1 or -1 in lengths:
        raise EndpointError(
            f"{_WHAT}: expected 'predictions' to be a list, or an object of equal-length "
            f"lists; got {describe_json(columns)}."
        )
    (length,) = lengths
    return [{key: values[i] for key, values in columns.items()} for i in range(length)]


def _pick_key(record: Mapping[str, Any], candidates: Sequence[str]) -> str | None:
    lowered = {key.lower(): key for key in record}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def _decode_records(records: Sequence[Mapping[str, Any]]) -> Predictions:
    first = records[0]
    label_key = _pick_key(first, LABEL_KEYS)
    score_key = _pick_key(first, SCORE_KEYS)
    if label_key is None and score_key is None:
        if len(first) != 1:
            raise EndpointError(
                f"{_WHAT}: records have keys {sorted(first)}; expected one of "
                f"{list(LABEL_KEYS)} for labels or {list(SCORE_KEYS)} for scores."
            )
        (label_key,) = first
    labels = label_array(_field(records, label_key), what=_WHAT) if label_key else None
    scores = None
    if score_key is not None:
        raw = _field(records, score_key)
        if all(isinstance(v, list) for v in raw):
            matrix = decode_matrix(raw, what=_WHAT)
            scores = matrix.scores
            labels = labels if labels is not None else matrix.labels
        else:
            scores = probability_array(raw, what=_WHAT)
    if labels is None and scores is None:
        raise EndpointError(f"{_WHAT}: records carry neither labels nor a binary score.")
    return Predictions(labels=labels, scores=scores)


def _field(records: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """Every record's value of ``key``; an error names the first record without it."""
    try:
        return [record[key] for record in records]
    except KeyError:
        index = next(i for i, record in enumerate(records) if key not in record)
        raise EndpointError(f"{_WHAT}: record {index} lacks key {key!r}.") from None

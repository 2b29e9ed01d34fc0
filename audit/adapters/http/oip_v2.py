"""Payload codec of the Open Inference Protocol v2 (KServe v2) REST API; no I/O.

A batch travels as one input tensor per column, as MLServer's pandas codec does::

    {"parameters": {"content_type": "pd"},
     "inputs": [{"name": "age", "shape": [2, 1], "datatype": "INT64", "data": [39, 50]},
                {"name": "sex", "shape": [2, 1], "datatype": "BYTES", "data": ["Male", null],
                 "parameters": {"content_type": "str"}}]}

Datatypes follow the column's dtype: ``FP64``/``FP32``/``FP16``, ``INT64``/``INT32``
(unsigned columns as ``UINT*``), ``BOOL``, and ``BYTES`` for strings and anything
else (dates are sent as ISO 8601 text).  **Missing values are sent as JSON**
``null`` **in every datatype**, because JSON cannot carry NaN; a server that
rejects ``null`` needs the data imputed first.

An answer's ``outputs`` are read as follows: the output named ``output_name``
when one is configured; else the only output; else the label from an output
named like ``predict``/``label`` and the score from one named like
``predict_proba``/``probabilities``.  A tensor of shape ``[n]`` or ``[n, 1]``
holds labels (or scores, for a floating-point output named like a score, even
alone); ``[n, 2]`` holds class probabilities, whose column 1 is the score and
whose arg-max (0 or 1) the label.  Scores must be probabilities: each in [0, 1],
each row of class probabilities summing to 1.

A request asks for the outputs :data:`ASKED_OUTPUTS` by name (``"outputs":
[{"name": "predict"}, {"name": "predict_proba"}]``): MLServer's scikit-learn runtime,
which KServe's scikit-learn v2 server runs, answers only ``predict`` unless asked, so
without them no score comes back and ``--threshold`` cannot be used.  A server
that refuses to be asked for those names (Triton knows only its model's own output
names) is asked again without them, once per adapter
(:class:`~audit.adapters.http.adapter.HttpAdapter`).

Each request carries an ``id``, which the protocol says the server must return;
an answer naming another ``id`` is refused (its predictions are for other rows).
The ``model_name`` and ``model_version`` an answer gives are the report's record of
which model answered (:func:`answered_model`).

This module also holds the server side (:func:`decode_infer_request`,
:func:`encode_infer_response`), used by :mod:`audit.testing.endpoint`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.http._values import (
    column_values,
    describe_json,
    json_scalar,
    label_array,
    probability_array,
    probability_matrix,
)
from audit.core.protocols import Predictions
from audit.errors import EndpointError

__all__ = [
    "ASKED_OUTPUTS",
    "DATATYPES",
    "answered_model",
    "asked_outputs",
    "LABEL_OUTPUT_NAMES",
    "SCORE_OUTPUT_NAMES",
    "datatype_of",
    "decode_infer_request",
    "decode_infer_response",
    "encode_infer_request",
    "encode_infer_response",
]

DATATYPES: frozenset[str] = frozenset(
    {"BOOL", "BYTES", "FP16", "FP32", "FP64"}
    | {f"{sign}INT{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)}
)
"""The tensor datatypes of the protocol that this codec reads."""

LABEL_OUTPUT_NAMES: tuple[str, ...] = (
    "predict",
    "predictions",
    "prediction",
    "label",
    "labels",
    "output_label",
)
"""Output names read as labels when an answer has several outputs (case-insensitive)."""

SCORE_OUTPUT_NAMES: tuple[str, ...] = (
    "predict_proba",
    "probabilities",
    "probability",
    "proba",
    "scores",
    "score",
)
"""Output names read as scores when an answer has several outputs (case-insensitive)."""

ASKED_OUTPUTS: tuple[str, ...] = ("predict", "predict_proba")
"""Outputs a request asks for by name unless told otherwise: MLServer's scikit-learn names."""

_WHAT = "Open Inference Protocol answer"


def datatype_of(series: pd.Series) -> str:
    """Return the tensor datatype a column is sent as.

    Integers narrower than 32 bits are widened to ``INT32``/``UINT32``; object
    columns are typed by their values; everything else not numeric is ``BYTES``.

    Examples
    --------
    >>> import pandas as pd
    >>> [datatype_of(pd.Series(v)) for v in ([1.5], [1], [True], ["a"])]
    ['FP64', 'INT64', 'BOOL', 'BYTES']
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOL"
    if pd.api.types.is_integer_dtype(dtype):
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize
        prefix = "UINT" if pd.api.types.is_unsigned_integer_dtype(dtype) else "INT"
        return f"{prefix}{max(size * 8, 32)}"
    if pd.api.types.is_float_dtype(dtype):
        size = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).itemsize
        return {2: "FP16", 4: "FP32"}.get(size, "FP64")
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return {"boolean": "BOOL", "integer": "INT64", "floating": "FP64"}.get(
            inferred, "FP64" if inferred == "mixed-integer-float" else "BYTES"
        )
    return "BYTES"


def encode_infer_request(
    rows: pd.DataFrame, *, request_id: str | None = None, outputs: Sequence[str] = ()
) -> dict[str, Any]:
    """Encode a batch as an inference request: one ``[n, 1]`` input tensor per column.

    ``request_id`` is sent as the request's ``id``, which the protocol says a server
    must return in its answer (see :func:`decode_infer_response`); ``outputs`` are
    the outputs asked for by name (none: the server's choice).

    Raises
    ------
    DataError
        If a cell holds an infinite value or a type JSON cannot carry.

    Examples
    --------
    >>> import pandas as pd
    >>> body = encode_infer_request(pd.DataFrame({"x": [1.0, float("nan")]}))
    >>> body["inputs"]
    [{'name': 'x', 'shape': [2, 1], 'datatype': 'FP64', 'data': [1.0, None]}]
    """
    inputs: list[dict[str, Any]] = []
    for position in range(rows.shape[1]):
        series = rows.iloc[:, position]
        datatype = datatype_of(series)
        values = column_values(series)
        if datatype == "BYTES":
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        tensor: dict[str, Any] = {
            "name": str(rows.columns[position]),
            "shape": [len(rows), 1],
            "datatype": datatype,
            "data": values,
        }
        if datatype == "BYTES":
            tensor["parameters"] = {"content_type": "str"}
        inputs.append(tensor)
    body: dict[str, Any] = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    if outputs:
        body["outputs"] = [{"name": name} for name in outputs]
    if request_id is not None:
        body = {"id": request_id, **body}
    return body


@dataclass(frozen=True)
class _Tensor:
    name: str
    shape: tuple[int, ...]
    datatype: str
    data: list[Any]

    @property
    def rows(self) -> int:
        return self.shape[0] if self.shape else 1

    @property
    def width(self) -> int:
        return math.prod(self.shape[1:])


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    for value in data:
        flat.extend(_flatten(value))
    return flat


def _parse_tensor(raw: Any, *, what: str, role: str) -> _Tensor:
    if not isinstance(raw, dict):
        raise EndpointError(
            f"{what}: expected each {role} to be an object; got {describe_json(raw)}."
        )
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in raw]
    if missing:
        raise EndpointError(
            f"{what}: {role} {raw.get('name', '?')!r} lacks {', '.join(missing)}; "
            f"it has keys {sorted(raw)}."
        )
    name, shape, datatype = str(raw["name"]), raw["shape"], raw["datatype"]
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 2
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise EndpointError(
            f"{what}: {role} {name!r} has shape {describe_json(shape)}; expected [n] or [n, k]."
        )
    if datatype not in DATATYPES:
        raise EndpointError(
            f"{what}: {role} {name!r} has datatype {describe_json(datatype)}; expected one of "
            f"{sorted(DATATYPES)}."
        )
    data = _flatten(raw["data"])
    if len(data) != math.prod(shape):
        raise EndpointError(
            f"{what}: {role} {name!r} has shape {shape} but {len(data)} values; expected "
            f"{math.prod(shape)}."
        )
    kind = _value_kind(datatype)
    for index, value in enumerate(data):
        if value is not None and not _fits(value, kind):
            raise EndpointError(
                f"{what}: {role} {name!r} is {datatype} but value {index} is "
                f"{describe_json(value)}."
            )
    return _Tensor(name=name, shape=tuple(shape), datatype=datatype, data=data)


def _value_kind(datatype: str) -> str:
    if datatype in ("BOOL", "BYTES"):
        return datatype
    return "FP" if datatype.startswith("FP") else "INT"


def _fits(value: Any, kind: str) -> bool:
    if kind == "BYTES":
        return isinstance(value, str)
    if kind == "BOOL":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind == "INT" else isinstance(value, int | float)


def _matrix(tensor: _Tensor) -> np.ndarray:
    rows = [
        tensor.data[start : start + tensor.width]
        for start in range(0, len(tensor.data), tensor.width)
    ]
    return probability_matrix(rows, what=f"{_WHAT}, output {tensor.name!r}")


def _labels_of(tensor: _Tensor) -> np.ndarray:
    what = f"{_WHAT}, output {tensor.name!r}"
    if tensor.width == 1:
        return label_array(tensor.data, what=what)
    labels: np.ndarray = np.argmax(_matrix(tensor), axis=1).astype(np.int64)
    return labels


def _scores_of(tensor: _Tensor) -> np.ndarray | None:
    if tensor.width == 1:
        return probability_array(tensor.data, what=f"{_WHAT}, output {tensor.name!r}")
    return _matrix(tensor)[:, 1] if tensor.width == 2 else None


def _find(
    tensors: Sequence[_Tensor], names: Sequence[str], fragments: Sequence[str]
) -> _Tensor | None:
    by_name = {t.name.lower(): t for t in tensors}
    for name in names:
        if name in by_name:
            return by_name[name]
    for tensor in tensors:
        if any(fragment in tensor.name.lower() for fragment in fragments):
            return tensor
    return None


def _is_score_output(tensor: _Tensor) -> bool:
    name = tensor.name.lower()
    return name in SCORE_OUTPUT_NAMES or "prob" in name


def _interpret_single(tensor: _Tensor) -> Predictions:
    if tensor.width == 1:
        if _is_score_output(tensor) and tensor.datatype.startswith("FP"):
            return Predictions(labels=None, scores=_scores_of(tensor))
        return Predictions(labels=_labels_of(tensor))
    return Predictions(labels=_labels_of(tensor), scores=_scores_of(tensor))


def _check_request_id(body: dict[str, Any], request_id: str | None) -> None:
    """Refuse an answer that names another request: its predictions are for other rows."""
    answered = body.get("id")
    if request_id is None or answered is None or answered == request_id:
        return
    raise EndpointError(
        f"{_WHAT}: it answers request {describe_json(answered)}, not this one "
        f"({request_id!r}), so its predictions are for other rows"
    )


def answered_model(body: Any) -> str | None:
    """The model an answer says answered it: ``model_name``, with ``model_version`` if given.

    ``None`` when the answer names none (both are text in the protocol; other values
    are not read).

    >>> answered_model({"model_name": "adult", "model_version": "3", "outputs": []})
    'adult version 3'
    >>> answered_model({"outputs": []}) is None
    True
    """
    if not isinstance(body, dict):
        return None
    name, version = body.get("model_name"), body.get("model_version")
    if not isinstance(name, str) or not name:
        return None
    return f"{name} version {version}" if isinstance(version, str) and version else name


def decode_infer_response(
    body: Any, *, output_name: str | None = None, request_id: str | None = None
) -> Predictions:
    """Decode an inference response into :class:`~audit.core.protocols.Predictions`.

    Parameters
    ----------
    body:
        The parsed JSON answer, an object with an ``outputs`` list.
    output_name:
        Read only this output; by default the output is chosen as the module says.
    request_id:
        The ``id`` the request was sent with: an answer whose ``id`` differs is for
        another request and is refused (one without an ``id`` is read).

    Raises
    ------
    EndpointError
        If the answer lacks ``outputs``, answers another request, a tensor is
        malformed or holds probabilities outside [0, 1], or no output can be told
        apart as labels or scores; the message names the outputs there are.

    Examples
    --------
    >>> answer = {"outputs": [{"name": "predict_proba", "shape": [2, 2], "datatype": "FP64",
    ...                        "data": [0.9, 0.1, 0.4, 0.6]}]}
    >>> decode_infer_response(answer).labels
    array([0, 1])
    """
    if not isinstance(body, dict) or not isinstance(body.get("outputs"), list):
        shown = f"keys {sorted(body)}" if isinstance(body, dict) else describe_json(body)
        raise EndpointError(f"{_WHAT}: expected an object with an 'outputs' list; got {shown}.")
    _check_request_id(body, request_id)
    tensors = [_parse_tensor(raw, what=_WHAT, role="output") for raw in body["outputs"]]
    names = [t.name for t in tensors]
    if output_name is not None:
        chosen = [t for t in tensors if t.name == output_name]
        if not chosen:
            raise EndpointError(f"{_WHAT}: no output named {output_name!r}; outputs are {names}.")
        return _interpret_single(chosen[0])
    if len(tensors) == 1:
        return _interpret_single(tensors[0])
    score_tensor = _find(tensors, SCORE_OUTPUT_NAMES, ("prob",))
    label_tensor = _find(
        [t for t in tensors if t is not score_tensor], LABEL_OUTPUT_NAMES, ("label", "predict")
    )
    if score_tensor is None and label_tensor is None:
        raise EndpointError(
            f"{_WHAT}: cannot tell labels from scores among outputs {names}; expected one "
            f"output, or outputs named like {LABEL_OUTPUT_NAMES[0]!r} and "
            f"{SCORE_OUTPUT_NAMES[0]!r}; configure the output name."
        )
    scores = _scores_of(score_tensor) if score_tensor is not None else None
    if label_tensor is not None:
        labels: np.ndarray | None = _labels_of(label_tensor)
    elif score_tensor is not None and score_tensor.width > 1:
        labels = _labels_of(score_tensor)
    else:
        labels = None
    if labels is not None and scores is not None and len(labels) != len(scores):
        raise EndpointError(
            f"{_WHAT}: output {label_tensor.name if label_tensor else '?'!r} has {len(labels)} "
            f"rows but output {score_tensor.name if score_tensor else '?'!r} has {len(scores)}."
        )
    if labels is None and scores is None:
        raise EndpointError(f"{_WHAT}: outputs {names} carry neither labels nor a binary score.")
    return Predictions(labels=labels, scores=scores)


def _column_from_tensor(tensor: _Tensor) -> pd.Series:
    values = tensor.data
    if tensor.datatype == "BYTES":
        series = pd.Series(values, name=tensor.name)
        return (
            series.astype(object).where(series.notna(), np.nan)
            if series.dtype == object
            else series
        )
    if tensor.datatype == "BOOL":
        return pd.Series(values, name=tensor.name, dtype=bool if None not in values else object)
    if tensor.datatype.startswith(("INT", "UINT")) and None not in values:
        return pd.Series(values, name=tensor.name, dtype=tensor.datatype.lower())
    floats = [np.nan if v is None else v for v in values]
    dtype = "float32" if tensor.datatype in ("FP32", "FP16") else "float64"
    return pd.Series(floats, name=tensor.name, dtype=dtype)


def decode_infer_request(body: Any) -> pd.DataFrame:
    """Server side: rebuild the DataFrame of a request with one input tensor per column.

    Missing values come back as NaN (numbers, strings) the way :func:`pandas.read_csv`
    would read them.

    Raises
    ------
    EndpointError
        If the request is malformed or its inputs differ in row count.
    """
    what = "Open Inference Protocol request"
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise EndpointError(f"{what}: expected an object with an 'inputs' list.")
    tensors = [_parse_tensor(raw, what=what, role="input") for raw in body["inputs"]]
    for tensor in tensors:
        if tensor.width != 1:
            raise EndpointError(
                f"{what}: input {tensor.name!r} has shape {list(tensor.shape)}; expected [n, 1] "
                "(one input per column)."
            )
    counts = {t.rows for t in tensors}
    if len(counts) > 1:
        raise EndpointError(f"{what}: inputs differ in row count: {sorted(counts)}.")
    try:
        columns = {t.name: _column_from_tensor(t) for t in tensors}
    except (TypeError, ValueError) as exc:
        raise EndpointError(f"{what}: an input's data does not fit its datatype ({exc}).") from exc
    return pd.DataFrame(columns)


def _label_datatype(labels: np.ndarray) -> str:
    if labels.dtype == bool:
        return "BOOL"
    if np.issubdtype(labels.dtype, np.integer):
        return "INT64"
    if np.issubdtype(labels.dtype, np.floating):
        return "FP64"
    return "BYTES"


def asked_outputs(body: Any) -> tuple[str, ...]:
    """Server side: the output names a request asks for (none: the server's choice).

    Raises
    ------
    EndpointError
        If the request's ``outputs`` is not a list of objects with a text ``name``.
    """
    asked = body.get("outputs") if isinstance(body, dict) else None
    if asked is None:
        return ()
    if not isinstance(asked, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in asked
    ):
        raise EndpointError(
            "Open Inference Protocol request: 'outputs' must be a list of objects with a "
            f"'name'; got {describe_json(asked)}."
        )
    return tuple(o["name"] for o in asked)


def encode_infer_response(
    predictions: Predictions,
    *,
    model_name: str,
    request_id: str | None = None,
    asked: Sequence[str] = (),
) -> dict[str, Any]:
    """Server side: an inference response, as MLServer's scikit-learn runtime gives it.

    ``predict`` (shape ``[n]``) carries the labels, ``predict_proba`` (shape
    ``[n, 2]``) the probabilities ``[1 - score, score]``.  The outputs ``asked`` for
    are returned, in that order; when none is asked for, only ``predict`` (or
    ``predict_proba`` for a model without labels).  The request's ``id``, when it
    had one, is returned as the protocol requires.

    Raises
    ------
    EndpointError
        If an output asked for is neither name, or the model cannot give it.
    """
    n = len(predictions)
    tensors: dict[str, dict[str, Any]] = {}
    if predictions.labels is not None:
        labels = np.asarray(predictions.labels)
        tensors["predict"] = {
            "name": "predict",
            "shape": [n],
            "datatype": _label_datatype(labels),
            "data": [json_scalar(v, column="predict") for v in labels.tolist()],
        }
    if predictions.scores is not None:
        scores = np.asarray(predictions.scores, dtype=np.float64)
        pairs = np.column_stack([1.0 - scores, scores]).ravel()
        tensors["predict_proba"] = {
            "name": "predict_proba",
            "shape": [n, 2],
            "datatype": "FP64",
            "data": [json_scalar(v, column="predict_proba") for v in pairs.tolist()],
        }
    unknown = [name for name in asked if name not in ASKED_OUTPUTS]
    if unknown:
        raise EndpointError(
            f"the model only supports {' and '.join(map(repr, ASKED_OUTPUTS))} as outputs "
            f"({', '.join(map(repr, unknown))} was received)"
        )
    missing = [name for name in asked if name not in tensors]
    if missing:
        raise EndpointError(f"the model cannot give {', '.join(map(repr, missing))}")
    outputs = [tensors[name] for name in asked] if asked else list(tensors.values())[:1]
    answer: dict[str, Any] = {"model_name": model_name, "outputs": outputs}
    if request_id is not None:
        answer["id"] = request_id
    return answer

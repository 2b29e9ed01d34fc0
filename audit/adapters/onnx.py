"""ONNX models, run on the CPU with onnxruntime (imported lazily)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.base import (
    as_column,
    check_batch_size,
    read_model_file,
    sha256_hex,
    wrap_model_call,
)
from audit.core.protocols import Predictions
from audit.errors import DataError, ModelError, ModelSpecError

__all__ = ["MISSING_STRING", "OnnxAdapter"]

MISSING_STRING = "nan"
"""What a missing value in a string input is sent as: how skl2onnx spells a NaN category."""

_NUMPY_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}
_SHOWN = 20


def _key(name: str) -> str:
    """Names as skl2onnx sanitises them: ``education-num`` becomes ``education_num``."""
    return re.sub(r"\W", "_", name)


class OnnxAdapter:
    """An ONNX model file as a :class:`~audit.core.protocols.ModelAdapter`.

    Inputs are fed in one of two ways, chosen per batch from the model's declared inputs:

    - **one input per column** when every input name is a column of the data (exactly,
      or after non-word characters become ``_``, as skl2onnx names them); string inputs
      get object arrays, missing strings are sent as :data:`MISSING_STRING`;
    - **one 2-D tensor of all feature columns**, in data order, when the model has a
      single input that names no column.

    Outputs are read the way skl2onnx writes classifiers: a label output and a
    probability output, either a 2-D tensor or a list of ``{class: probability}`` maps
    (ZipMap).  For two classes the score is the probability of the second class; a
    model with a single output gives labels (or values, for regressors) only.

    Parameters
    ----------
    path:
        The ``.onnx`` file.  It is read once: the session and :meth:`fingerprint` both
        use those bytes.
    batch_size:
        Rows per call to ``InferenceSession.run``.
    """

    def __init__(self, path: str | os.PathLike[str], *, batch_size: int = 10_000) -> None:
        self.batch_size = check_batch_size(batch_size, "OnnxAdapter")
        self.path: Path
        self.path, data = read_model_file(path)
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelSpecError(
                "auditing an ONNX model needs onnxruntime: pip install 'maas-audit[onnx]'"
            ) from exc
        try:
            self._session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as exc:
            message = " ".join(str(exc).split())[:300]
            raise ModelSpecError(f"'{self.path}' is not a loadable ONNX model: {message}") from exc
        self._sha256 = sha256_hex(data)
        self._inputs = list(self._session.get_inputs())
        unsupported = [f"{i.name} ({i.type})" for i in self._inputs if i.type not in _NUMPY_TYPES]
        if unsupported:
            raise ModelSpecError(
                f"ONNX model '{self.path.name}' has inputs of unsupported types: "
                f"{', '.join(unsupported)}; supported are {', '.join(_NUMPY_TYPES)}"
            )
        outputs = list(self._session.get_outputs())
        self._label_output, self._proba_output = _pick_outputs(outputs)

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Always ``None``: the model receives the audit's feature columns."""
        return None

    def _what(self) -> str:
        return f"ONNX model '{self.path.name}'"

    def _feeds(self, rows: pd.DataFrame) -> dict[str, np.ndarray]:
        by_name: dict[str, Any] = {}
        for column in rows.columns:
            by_name.setdefault(_key(str(column)), column)
        for column in rows.columns:
            by_name[str(column)] = column
        matched = {
            spec.name: by_name.get(spec.name, by_name.get(_key(spec.name))) for spec in self._inputs
        }
        if all(column is not None for column in matched.values()):
            return {
                spec.name: self._column_feed(rows[matched[spec.name]], spec)
                for spec in self._inputs
            }
        if len(self._inputs) == 1:
            return {self._inputs[0].name: self._matrix_feed(rows, self._inputs[0])}
        missing = [name for name, column in matched.items() if column is None]
        raise DataError(
            f"{self._what()} takes one input per column, but inputs "
            f"{_listing(missing)} match no column of the data; columns are: "
            f"{_listing([str(c) for c in rows.columns])}"
        )

    def _column_feed(self, column: pd.Series, spec: Any) -> np.ndarray:
        target = _NUMPY_TYPES[spec.type]
        values: np.ndarray
        if target is object:
            values = column.astype("string").fillna(MISSING_STRING).to_numpy(dtype=object)
        else:
            values = self._numeric(column.to_frame(), spec, target)[:, 0]
        rank = len(spec.shape) if spec.shape is not None else 2
        return values.reshape(-1, 1) if rank >= 2 else values

    def _matrix_feed(self, rows: pd.DataFrame, spec: Any) -> np.ndarray:
        width = spec.shape[1] if spec.shape is not None and len(spec.shape) == 2 else None
        if isinstance(width, int) and width != rows.shape[1]:
            raise DataError(
                f"{self._what()} input {spec.name!r} takes {width} features; the audit gives "
                f"{rows.shape[1]} columns: {_listing([str(c) for c in rows.columns])}"
            )
        target = _NUMPY_TYPES[spec.type]
        if target is object:
            strings: np.ndarray = (
                rows.astype("string").fillna(MISSING_STRING).to_numpy(dtype=object)
            )
            return strings
        return self._numeric(rows, spec, target)

    def _numeric(self, frame: pd.DataFrame, spec: Any, target: Any) -> np.ndarray:
        bad = [
            str(c)
            for c in frame.columns
            if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
        ]
        if bad:
            raise DataError(
                f"{self._what()} input {spec.name!r} takes numbers ({spec.type}); "
                f"column(s) {_listing(bad)} are not numeric"
            )
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.issubdtype(target, np.integer) and np.isnan(values).any():
            raise DataError(
                f"{self._what()} input {spec.name!r} takes integers ({spec.type}); "
                "the data has missing values there"
            )
        return np.asarray(values, dtype=target)

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Run the model on ``rows`` and read labels and positive-class scores."""
        n = len(rows)
        feeds = self._feeds(rows)
        names = [name for name in (self._label_output, self._proba_output) if name is not None]
        results = wrap_model_call(lambda: self._session.run(names, feeds), self._what(), n, rows)
        by_name = dict(zip(names, results, strict=True))
        labels = by_name.get(self._label_output) if self._label_output else None
        if labels is not None and np.ndim(labels) == 2 and np.shape(labels)[1] > 1:
            labels, probabilities = None, labels  # a lone output of class probabilities
        else:
            probabilities = by_name.get(self._proba_output) if self._proba_output else None
        scores = None
        if probabilities is not None:
            classes, matrix = _probability_matrix(probabilities, n, self._what())
            if labels is None and matrix.shape[1] == 1:
                labels = (matrix[:, 0] >= 0.5).astype(np.int64)
            elif labels is None:
                labels = np.asarray(classes)[np.argmax(matrix, axis=1)]
            if matrix.shape[1] == 2:
                scores = matrix[:, 1]
            elif matrix.shape[1] == 1:
                scores = matrix[:, 0]
        return Predictions(
            labels=None if labels is None else as_column(labels, n, self._what(), "labels"),
            scores=scores,
        )

    def describe(self) -> dict[str, Any]:
        """Kind, file, input and output names, and batch size."""
        return {
            "kind": "onnx",
            "location": str(self.path),
            "inputs": [spec.name for spec in self._inputs],
            "label_output": self._label_output,
            "probability_output": self._proba_output,
            "batch_size": self.batch_size,
        }

    def fingerprint(self) -> str:
        """Hex SHA-256 of the ``.onnx`` file's bytes, as loaded."""
        return self._sha256


def _pick_outputs(outputs: Sequence[Any]) -> tuple[str | None, str | None]:
    """Name the label output and the probability output, either possibly absent."""
    proba = next((o.name for o in outputs if str(o.type).startswith("seq(map")), None)
    if proba is None:
        proba = next((o.name for o in outputs if "prob" in o.name.lower()), None)
    rest = [o.name for o in outputs if o.name != proba]
    label = next((name for name in rest if "label" in name.lower()), rest[0] if rest else None)
    return label, proba


def _probability_matrix(values: Any, n: int, what: str) -> tuple[list[Any], np.ndarray]:
    """Class labels and an ``(n, classes)`` float matrix from a tensor or a ZipMap list."""
    if isinstance(values, list) and values and isinstance(values[0], dict):
        classes = list(values[0])
        matrix = np.array([[row[c] for c in classes] for row in values], dtype=np.float64)
    else:
        matrix = np.asarray(values, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        classes = list(range(matrix.shape[1])) if matrix.ndim == 2 else []
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise ModelError(f"{what} returned probabilities of shape {matrix.shape} for {n} rows")
    return classes, matrix


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_SHOWN])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _SHOWN else "")

"""Helpers shared by the local model adapters: validation, hashing and output shaping."""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from audit.errors import AuditError, ModelError, ModelSpecError

__all__ = [
    "as_column",
    "check_batch_size",
    "object_sha256",
    "qualified_name",
    "read_model_file",
    "sha256_hex",
    "wrap_model_call",
]

_T = TypeVar("_T")
_MAX_MESSAGE = 300
_MOST_NAMED = 5
"""Columns with missing values a failed model call names."""


def check_batch_size(batch_size: object, owner: str) -> int:
    """Return ``batch_size`` if it is a positive int, else raise :class:`ModelSpecError`.

    Parameters
    ----------
    batch_size:
        The value to check.
    owner:
        Name of the class or function the parameter belongs to, for the message.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ModelSpecError(
            f"The 'batch_size' parameter of {owner} must be a positive int; "
            f"got {batch_size!r} instead."
        )
    return batch_size


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_model_file(path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """Read a model file whole, with one-line errors for the usual failures.

    Returns
    -------
    tuple
        The path as given (made a :class:`~pathlib.Path`) and the file's bytes; the caller
        hashes and loads the same bytes, so the fingerprint is of what was loaded.
    """
    file = Path(path)
    if not file.exists():
        raise ModelSpecError(f"model file '{file}' does not exist")
    if not file.is_file():
        raise ModelSpecError(f"model path '{file}' is not a file")
    try:
        return file, file.read_bytes()
    except OSError as exc:
        raise ModelSpecError(f"cannot read model file '{file}': {exc.strerror or exc}") from exc


def qualified_name(obj: object) -> str:
    """``module.QualName`` of a function or class, or of the type of an instance."""
    target = obj if callable(obj) and hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", None) or "?"
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{module}.{name}"


def object_sha256(obj: object) -> str:
    """Return a stable hex SHA-256 of an in-memory object.

    Functions are hashed by qualified name and bytecode (``marshal`` of ``__code__``);
    other objects by their pickle (protocol 4).  Objects that can be neither are hashed
    by their qualified name and ``repr``, which identifies them only weakly.
    """
    code = getattr(obj, "__code__", None)
    if code is not None:
        return sha256_hex(qualified_name(obj).encode() + b"\0" + marshal.dumps(code))
    try:
        return sha256_hex(pickle.dumps(obj, protocol=4))
    except Exception:
        return sha256_hex(f"{qualified_name(obj)}\0{obj!r}".encode())


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def wrap_model_call(
    call: Callable[[], _T], what: str, n_rows: int, rows: pd.DataFrame | None = None
) -> _T:
    """Run ``call``, turning any failure but an AuditError into a one-line ModelError.

    Parameters
    ----------
    call:
        The zero-argument call into the model.
    what:
        Names the model in the message, e.g. ``"scikit-learn model Pipeline"``.
    n_rows:
        Rows in the batch, for the message.
    rows:
        The batch, when the model reads a table: the message names its columns with
        missing values, which many models refuse without saying which.
    """
    try:
        return call()
    except AuditError:
        raise
    except Exception as exc:
        where = _missing_values(rows) if rows is not None else ""
        raise ModelError(
            f"{what} failed on a batch of {n_rows} rows{where}: {_one_line(exc)}"
        ) from exc


def _missing_values(rows: pd.DataFrame) -> str:
    """`` (missing values in age (3 rows), zip (1 row))``, or nothing when none is missing."""
    counts = rows.isna().sum()
    counts = counts[counts > 0]
    if counts.empty:
        return ""
    shown = ", ".join(
        f"{column} ({n:,} row{'s' * (n != 1)})" for column, n in counts.head(_MOST_NAMED).items()
    )
    more = f" and {len(counts) - _MOST_NAMED} more columns" if len(counts) > _MOST_NAMED else ""
    return f" (missing values in {shown}{more})"


def as_column(values: Any, n_rows: int, what: str, field: str) -> np.ndarray:
    """Make ``values`` a 1-D array of exactly ``n_rows`` entries.

    Arrays of shape ``(n, 1)`` are flattened; anything else that is not one value per
    row raises :class:`ModelError` naming ``what`` returned ``field``.
    """
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ModelError(
            f"{what} returned {field} of shape {array.shape}; expected one value per row "
            f"({n_rows},)"
        )
    if len(array) != n_rows:
        raise ModelError(f"{what} returned {len(array)} {field} for {n_rows} rows")
    return array

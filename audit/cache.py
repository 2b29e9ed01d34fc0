"""Predictions kept on disk batch by batch, so that a rerun or a resume does not score again.

::

    CACHE_DIR/
      <key>/                   one folder per scoring of given inputs by a given model
        run.json               what the key was made of, for people (never read back)
        batch-00000000.npz     the predictions of batch 0, written when it completes,
                               and who answered them (when the adapter says)
        batch-00000001.npz     ...

The *key* is the SHA-256 of the model's fingerprint, the adapter settings that can
change predictions (its description less time-out, retries and concurrency), the
hash of the exact columns and rows sent (names, dtypes and values, as
:func:`~audit.core.provenance.sha256_frame`) and the batch size, which fixes where
batches start and stop.  Change any of them and nothing is reused.

Each batch file is written to a temporary name and renamed into place, so a crash
leaves either a whole entry or none.  An entry is NumPy's ``.npz`` of plain arrays,
each read with ``allow_pickle=False`` (an object array is refused, never unpickled):
labels that are Python objects (the strings of a served model) are stored as JSON
text, and only when JSON gives back exactly the same values.  Every entry carries
the SHA-256 of its arrays; an entry that cannot be read, belongs to another key or
batch, or fails its checksum is ignored, scored again and overwritten, never trusted.

Who answered
    An adapter that gives an :class:`~audit.core.answers.AnswerRecord` with each batch
    (``predict_recorded``: the model names and ``system_fingerprint`` values the answers
    gave, their tokens, the time) has it kept in the entry, as JSON text under the same
    checksum, and given back with the predictions: a report built from the cache still
    names the model that decided.  Entries of format 1 kept no record; the format is in
    the key, so they are never found again (their folders can be deleted).

Caveats
    A served model's fingerprint identifies its endpoint, not its weights: after a
    new model is deployed behind the same URL, clear the cache (or use a new folder),
    or the old model's predictions are reused.  The cache folder holds the model's
    predictions for the audited rows: keep it as private as the data, and anyone who
    can write to it can change what the audit sees.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from audit.core.answers import AnswerRecord
from audit.core.protocols import ModelAdapter, Predictions
from audit.core.provenance import sha256_frame, utc_now
from audit.errors import UsageError

__all__ = ["FORMAT", "CachedBatch", "CachedRun", "PredictionCache", "cache_settings"]

FORMAT = 2
"""Version of the on-disk layout; entries of another version are ignored.

2: an entry keeps who answered its batch (``answered_json``), when the adapter says.
"""

# "usage" (requests and tokens spent so far) and "limits" (--max-requests, --budget) of
# declared models change between runs without changing a prediction
_NOT_PREDICTIVE = frozenset({"timeout", "max_retries", "concurrency", "usage", "limits"})
_JSON_TYPES = (str, int, float, bool, type(None))
_ANSWERED = "answered_json"
CachedBatch = tuple[Predictions, AnswerRecord | None]
"""A batch read from the cache: its predictions, and who answered them (``None``: unknown)."""


def cache_settings(adapter: ModelAdapter) -> dict[str, Any]:
    """The adapter's description less the settings that cannot change its predictions."""
    return {k: v for k, v in adapter.describe().items() if k not in _NOT_PREDICTIVE}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class PredictionCache:
    """A folder of cached predictions, one sub-folder per model and input.

    Parameters
    ----------
    folder:
        Where entries are kept; created when missing.

    Raises
    ------
    UsageError
        If the folder cannot be created or is not a folder.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot use '{self.folder}' as the prediction cache folder: "
                f"{exc.strerror or type(exc).__name__}"
            ) from None

    def __repr__(self) -> str:
        return f"PredictionCache({str(self.folder)!r})"

    def open(
        self, adapter: ModelAdapter, inputs: pd.DataFrame, batch_size: int
    ) -> CachedRun | None:
        """The entries for scoring ``inputs`` (exactly the columns sent) in ``batch_size`` batches.

        Returns ``None`` when ``inputs`` hold values pandas cannot hash (e.g. lists):
        such inputs are scored without a cache.

        Raises
        ------
        UsageError
            If the run's folder cannot be created.
        """
        try:
            inputs_sha256 = sha256_frame(inputs)
        except TypeError:
            return None
        identity = {
            "format": FORMAT,
            "model_sha256": adapter.fingerprint(),
            "settings": cache_settings(adapter),
            "inputs_sha256": inputs_sha256,
            "batch_size": int(batch_size),
        }
        key = hashlib.sha256(_canonical(identity).encode()).hexdigest()
        run = CachedRun(self.folder / key, key)
        manifest = run.folder / "run.json"
        if not manifest.is_file():
            text = json.dumps(
                {**identity, "key": key, "rows": len(inputs), "created_at": utc_now()},
                indent=2,
                default=str,
            )
            _write_atomic(manifest, lambda handle: handle.write(text.encode()))
        return run


class CachedRun:
    """The cached batches of one scoring of given inputs by a given model.

    Attributes
    ----------
    folder:
        Where its entries are.
    key:
        The SHA-256 naming it (see the module docstring).
    rejected:
        Entries found unreadable, foreign or failing their checksum (then rescored).
    not_stored:
        Batches whose predictions cannot be stored without pickle (rescored each time).
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.rejected = 0
        self.not_stored = 0
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create the prediction cache folder '{folder}': "
                f"{exc.strerror or type(exc).__name__}"
            ) from None

    def path(self, index: int) -> Path:
        """The entry file of batch ``index``."""
        return self.folder / f"batch-{index:08d}.npz"

    def load(self, index: int, start: int, stop: int) -> CachedBatch | None:
        """The cached predictions of rows ``start:stop`` (batch ``index``) and who gave them.

        ``None`` when there is no entry, or when the entry cannot be trusted (counted
        in :attr:`rejected`).
        """
        path = self.path(index)
        if not path.exists():
            return None
        try:
            return self._read(path, index, start, stop)
        except Exception:  # any unreadable entry is rescored, never a crash
            self.rejected += 1
            return None

    def store(
        self,
        index: int,
        start: int,
        stop: int,
        predictions: Predictions,
        answered: AnswerRecord | None = None,
    ) -> bool:
        """Write the predictions of batch ``index`` atomically; False if they cannot be stored.

        ``answered``, who answered the batch, is kept with them when given.

        Raises
        ------
        UsageError
            If the entry cannot be written (e.g. the disk is full).
        """
        arrays = _arrays(predictions)
        if arrays is None:
            self.not_stored += 1
            return False
        if answered is not None:
            arrays[_ANSWERED] = np.asarray(_canonical(answered.to_json()))
        meta = {
            "format": FORMAT,
            "key": self.key,
            "batch": index,
            "start": start,
            "stop": stop,
            "sha256": _digest(arrays),
        }
        members = {"meta": np.asarray(_canonical(meta)), **arrays}
        _write_atomic(
            self.path(index), lambda handle: np.savez(handle, allow_pickle=False, **members)
        )
        return True

    def _read(self, path: Path, index: int, start: int, stop: int) -> CachedBatch:
        members = _read_npz(path.read_bytes())
        meta = json.loads(str(members.pop("meta")[()]))
        expected = {"format": FORMAT, "key": self.key, "batch": index, "start": start, "stop": stop}
        if any(meta.get(k) != v for k, v in expected.items()):
            raise ValueError("the entry belongs to another run or batch")
        if meta.get("sha256") != _digest(members):
            raise ValueError("checksum mismatch")
        answered = None
        if _ANSWERED in members:
            answered = AnswerRecord.from_json(json.loads(str(members.pop(_ANSWERED)[()])))
            if answered.rows != stop - start:
                raise ValueError("the answer record is for another number of rows")
        labels = _column(members, "labels")
        scores = _column(members, "scores")
        predictions = Predictions(
            labels=labels, scores=scores, unanswered=_column(members, "unanswered")
        )
        if len(predictions) != stop - start:
            raise ValueError("wrong number of predictions")
        return predictions, answered


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, each parsed with ``allow_pickle=False``.

    Read from bytes already in memory, so that a truncated archive leaves no file open.
    """
    members: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not name.endswith(".npy"):
                raise ValueError(f"unexpected member {name!r}")
            with archive.open(name) as member:
                payload = io.BytesIO(member.read())  # checks the member's CRC-32
            members[name.removesuffix(".npy")] = np.lib.format.read_array(
                payload, allow_pickle=False
            )
    return members


def _arrays(predictions: Predictions) -> dict[str, np.ndarray] | None:
    """The arrays an entry stores, or ``None`` when one cannot be stored exactly."""
    arrays: dict[str, np.ndarray] = {}
    columns = (
        ("labels", predictions.labels),
        ("scores", predictions.scores),
        ("unanswered", predictions.unanswered),  # kept, so a rerun never gives them a class
    )
    for name, values in columns:
        if values is None:
            continue
        array = np.asarray(values)
        if array.ndim != 1:
            return None
        if array.dtype.hasobject:
            text = _exact_json(array)
            if text is None:
                return None
            arrays[f"{name}_json"] = np.asarray(text)
        else:
            arrays[name] = array
    return arrays


def _exact_json(array: np.ndarray) -> str | None:
    """JSON text of an object array when JSON gives back the very same values, else None."""
    values = array.tolist()
    if any(type(v) not in _JSON_TYPES for v in values):  # not isinstance: np.float64 is a float
        return None
    try:
        return json.dumps(values, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN or infinity
        return None


def _column(members: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    if name in members:
        return members[name]
    if f"{name}_json" in members:
        values = json.loads(str(members[f"{name}_json"][()]))
        if not isinstance(values, list):
            raise ValueError(f"{name} are not a list")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return None


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\x1f{array.dtype.str}\x1f{array.shape}\x1e".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary file in its folder, then rename it into place."""
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        tmp.replace(path)
        tmp = None
    except OSError as exc:
        raise UsageError(
            f"cannot write the prediction cache entry '{path}': "
            f"{exc.strerror or type(exc).__name__}"
        ) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)

"""scikit-learn estimators and pipelines, in memory or loaded from skops or pickle files."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters._skops_trees import TREE_TYPE, tree_problem
from audit.adapters._skops_trust import refusal_reason, trusted_skops_types
from audit.adapters.base import (
    as_column,
    check_batch_size,
    object_sha256,
    read_model_file,
    sha256_hex,
    wrap_model_call,
)
from audit.core.protocols import Predictions
from audit.errors import ModelError, ModelSpecError

__all__ = [
    "PICKLE_REFUSED",
    "SklearnAdapter",
    "load_pickle",
    "load_skops",
]

PICKLE_REFUSED = (
    "model file '{path}' is a pickle: loading a pickle runs arbitrary code; "
    "pass --trust-pickle if you trust this file"
)
"""Message of the error raised for a pickle loaded without ``trust_pickle=True``."""


class SklearnAdapter:
    """A fitted scikit-learn estimator or pipeline as a :class:`~audit.core.protocols.ModelAdapter`.

    Labels come from ``predict`` and keep the estimator's own class labels.  A binary
    classifier (two ``classes_``) with ``predict_proba`` also gives scores: the
    probability of ``classes_[1]``.  Regressors and multi-class classifiers give labels only.

    Parameters
    ----------
    estimator:
        Any fitted object with ``predict(DataFrame)``; a :class:`sklearn.pipeline.Pipeline`
        that encodes its own features is the usual case.
    batch_size:
        Rows per call to ``predict``; large batches are fastest for most estimators.
    path:
        The file the estimator was loaded from, if any: reported by :meth:`describe`, and
        :meth:`fingerprint` then hashes that file's bytes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> adapter = SklearnAdapter(LogisticRegression().fit(X, ["no", "no", "yes", "yes"]))
    >>> adapter.predict_batch(X).labels.tolist()
    ['no', 'no', 'yes', 'yes']
    """

    def __init__(
        self,
        estimator: Any,
        *,
        batch_size: int = 10_000,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        if isinstance(estimator, type) or not callable(getattr(estimator, "predict", None)):
            raise ModelSpecError(
                f"SklearnAdapter needs a fitted estimator with a predict method; "
                f"got {_name(estimator)}"
            )
        _check_fitted(estimator)
        self.estimator = estimator
        self.batch_size = check_batch_size(batch_size, "SklearnAdapter")
        self.path = None if path is None else Path(path)
        self._sha256: str | None = None

    @classmethod
    def _from_file(
        cls, estimator: Any, path: Path, data: bytes, *, batch_size: int | None
    ) -> SklearnAdapter:
        adapter = cls(estimator, path=path, **_batch(batch_size))
        adapter._sha256 = sha256_hex(data)
        return adapter

    @property
    def input_columns(self) -> Sequence[str] | None:
        """The columns the estimator was fitted on, when it recorded them; else ``None``.

        scikit-learn records them (``feature_names_in_``) when an estimator is fitted on
        a DataFrame whose column names are all strings.  The estimator then receives just
        those columns, and the audit explains and retrains on the columns it reads, not on
        every other column of the data.  ``None``: it receives the audit's feature columns.
        """
        names = getattr(self.estimator, "feature_names_in_", None)
        if names is None or not all(isinstance(name, str) for name in names):
            return None
        return [str(name) for name in names]

    @property
    def _binary_classes(self) -> np.ndarray | None:
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not hasattr(self.estimator, "predict_proba"):
            return None
        classes = np.asarray(classes)
        return classes if classes.ndim == 1 and len(classes) == 2 else None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Predict labels (and positive-class scores for binary classifiers) for ``rows``."""
        what = f"scikit-learn model {type(self.estimator).__name__}"
        n = len(rows)
        labels = as_column(
            wrap_model_call(lambda: self.estimator.predict(rows), what, n, rows), n, what, "labels"
        )
        scores = None
        if self._binary_classes is not None:
            proba = np.asarray(
                wrap_model_call(lambda: self.estimator.predict_proba(rows), what, n, rows)
            )
            if proba.ndim != 2 or proba.shape != (n, 2):
                raise ModelError(
                    f"{what} returned probabilities of shape {proba.shape}; expected ({n}, 2)"
                )
            scores = proba[:, 1].astype(np.float64)
        return Predictions(labels=labels, scores=scores)

    def describe(self) -> dict[str, Any]:
        """Kind, class, file, batch size and (for binary classifiers) the positive class."""
        description: dict[str, Any] = {
            "kind": "scikit-learn",
            "class": type(self.estimator).__name__,
            "module": type(self.estimator).__module__,
            "location": (
                f"in-memory {type(self.estimator).__name__}"
                if self.path is None
                else str(self.path)
            ),
            "batch_size": self.batch_size,
        }
        classes = self._binary_classes
        if classes is not None:
            description["positive_class"] = _json_scalar(classes[1])
        return description

    def fingerprint(self) -> str:
        """Hex SHA-256 of the model file's bytes, or of the pickled estimator when in memory.

        The pickle (protocol 4) of a fitted estimator is the same for the same fitted
        state within one environment; estimators that cannot be pickled are hashed by
        class and ``repr`` only.
        """
        if self._sha256 is None:
            if self.path is not None:
                self._sha256 = sha256_hex(read_model_file(self.path)[1])
            else:
                self._sha256 = object_sha256(self.estimator)
        return self._sha256


def load_skops(path: str | os.PathLike[str], *, trusted: Sequence[str] = ()) -> Any:
    """Load a ``.skops`` file, trusting only exact type names, never package prefixes.

    Each type the file holds (as :func:`skops.io.get_untrusted_types` lists them) must be
    trusted by skops' defaults, be a scikit-learn estimator class that
    :func:`sklearn.utils.all_estimators` names, a data-only helper of one (see
    :mod:`audit.adapters._skops_trust`), or be named in ``trusted``.  Anything else is
    refused before any object is built.  Decision trees' nodes are checked once built,
    before anything predicts (see :mod:`audit.adapters._skops_trees`).

    Parameters
    ----------
    path:
        The ``.skops`` file.
    trusted:
        Further exact type names the caller has reviewed and trusts, for example
        ``"sklearn.tree._tree.Tree"`` for a forest saved by the caller.

    Raises
    ------
    ModelSpecError
        If skops is missing, the file is missing or malformed, or holds untrusted types.
    """
    file, data = read_model_file(path)
    return _load_skops_bytes(file, data, trusted=trusted)


def _load_skops_bytes(file: Path, data: bytes, *, trusted: Sequence[str] = ()) -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ModelSpecError(
            "loading .skops files needs skops: pip install 'maas-audit[skops]'"
        ) from exc
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelSpecError(f"'{file}' is not a readable skops file: {_one_line(exc)}") from exc
    allowed = trusted_skops_types() | {TREE_TYPE} | frozenset(trusted)
    refused = sorted(name for name in found if name not in allowed)
    if refused:
        raise ModelSpecError(
            f"skops file '{file}' holds types that are not trusted: {', '.join(refused)}; "
            + refusal_reason(refused)
        )
    try:
        model = sio.loads(data, trusted=sorted(found))
    except Exception as exc:
        raise ModelSpecError(f"cannot load skops file '{file}': {_one_line(exc)}") from exc
    problem = tree_problem(model) if TREE_TYPE in found and TREE_TYPE not in trusted else None
    if problem is not None:
        raise ModelSpecError(
            f"skops file '{file}' holds {problem}; scikit-learn follows tree indices without "
            "bounds checks, so such a tree is not loaded; if you made this file yourself, "
            "save the model as a pickle and pass --trust-pickle"
        )
    return model


def load_pickle(path: str | os.PathLike[str], *, trust_pickle: bool = False) -> Any:
    """Load a pickle or joblib file, only when the caller trusts it.

    Parameters
    ----------
    path:
        A ``.pkl``, ``.pickle`` or ``.joblib`` file.
    trust_pickle:
        Must be ``True``: unpickling runs whatever code the file names.

    Raises
    ------
    ModelSpecError
        If ``trust_pickle`` is false, or the file is missing or cannot be unpickled.
    """
    file = Path(path)
    if not trust_pickle:
        raise ModelSpecError(PICKLE_REFUSED.format(path=file))
    file, data = read_model_file(file)
    return _load_pickle_bytes(file, data)


def _load_pickle_bytes(file: Path, data: bytes) -> Any:
    import joblib  # a scikit-learn dependency; reads plain pickles as well

    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise ModelSpecError(
            f"cannot unpickle model file '{file}': {type(exc).__name__}: {exc}"
        ) from exc


def _check_fitted(estimator: Any) -> None:
    try:
        from sklearn.base import BaseEstimator
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        return
    if not isinstance(estimator, BaseEstimator):
        return
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise ModelSpecError(
            f"{type(estimator).__name__} is not fitted; fit it before auditing"
        ) from exc


def _batch(batch_size: int | None) -> dict[str, int]:
    return {} if batch_size is None else {"batch_size": batch_size}


def _name(obj: object) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__} itself, not a fitted instance"
    return f"a {type(obj).__name__}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value

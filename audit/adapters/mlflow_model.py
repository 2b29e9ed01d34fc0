"""A model from an MLflow tracking server or registry, loaded by MLflow's own loader.

``--model models:/screening/3`` (or ``models:/screening@champion``, ``runs:/RUN/model``)
loads the model with :func:`mlflow.pyfunc.load_model`, from the tracking store that
``MLFLOW_TRACKING_URI`` names.  MLflow's flavors store most models as pickles (the
scikit-learn flavor does), so loading one runs code from the store: like a pickle file, it
needs ``--trust-pickle``.  To audit a registered model without loading it here, serve it
(``mlflow models serve -m models:/NAME/VERSION``) and audit the URL instead.

A model whose flavor exposes a scikit-learn estimator with ``predict_proba`` gives scores
too (the probability of its second class), as :class:`~audit.adapters.sklearn.SklearnAdapter`
does; any other flavor gives the labels of ``pyfunc.predict``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from audit.adapters.base import as_column, check_batch_size, wrap_model_call
from audit.adapters.sklearn import SklearnAdapter
from audit.core.protocols import Predictions
from audit.errors import ModelSpecError

__all__ = ["MLFLOW_SCHEMES", "MlflowModelAdapter"]

MLFLOW_SCHEMES = ("models:/", "runs:/")
"""Model URIs that MLflow's loader resolves against the tracking store."""
ERR_TRUST = (
    "loading {uri} runs code from the MLflow store (MLflow flavors pickle their models); "
    "pass --trust-pickle if you trust that store, or serve the model "
    "(mlflow models serve -m {uri}) and audit its URL"
)
ERR_NO_MLFLOW = "{uri} is an MLflow model URI: pip install 'maas-audit[mlflow]' to load it"


class MlflowModelAdapter:
    """A registered or logged MLflow model as a :class:`~audit.core.protocols.ModelAdapter`.

    Parameters
    ----------
    uri:
        ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``runs:/RUN_ID/PATH``.
    trust_pickle:
        Must be true: loading runs code from the store (see the module docstring).
    batch_size:
        Rows per call to the model.
    """

    def __init__(self, uri: str, *, trust_pickle: bool = False, batch_size: int = 10_000) -> None:
        if not trust_pickle:
            raise ModelSpecError(ERR_TRUST.format(uri=uri))
        try:
            import mlflow.pyfunc
            from mlflow.exceptions import MlflowException
        except ImportError:
            raise ModelSpecError(ERR_NO_MLFLOW.format(uri=uri)) from None
        try:
            self._model = mlflow.pyfunc.load_model(uri)
        except MlflowException as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelSpecError(f"MLflow cannot load {uri}: {first}") from None
        self.uri = uri
        self.batch_size = check_batch_size(batch_size, "MlflowModelAdapter")
        metadata = self._model.metadata
        self._identity = {
            "uri": uri,
            "run_id": metadata.run_id,
            "model_uuid": getattr(metadata, "model_uuid", None),
            "flavors": sorted(metadata.flavors),
        }
        raw = self._raw_model()
        self._estimator = (
            SklearnAdapter(raw, batch_size=self.batch_size)
            if raw is not None and callable(getattr(raw, "predict_proba", None))
            else None
        )

    def _raw_model(self) -> Any:
        try:
            return self._model.get_raw_model()
        except Exception:  # flavors without a raw model (a custom pyfunc): labels only
            return None

    @property
    def input_columns(self) -> Sequence[str] | None:
        """The columns of the model's signature, when it was logged with one."""
        schema = self._model.metadata.get_input_schema()
        names = None if schema is None else schema.input_names()
        return [str(n) for n in names] if names and all(isinstance(n, str) for n in names) else None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Predict with the flavor's estimator (labels and scores) or ``pyfunc.predict``."""
        if self._estimator is not None:
            return self._estimator.predict_batch(rows)
        what = f"MLflow model {self.uri}"
        n = len(rows)
        labels = as_column(
            wrap_model_call(lambda: self._model.predict(rows), what, n, rows), n, what, "labels"
        )
        return Predictions(labels=labels)

    def describe(self) -> Mapping[str, Any]:
        """The model URI, its run, flavors and batch size."""
        description: dict[str, Any] = {
            "kind": "mlflow-model",
            "location": self.uri,
            **{k: v for k, v in self._identity.items() if k != "uri" and v is not None},
            "batch_size": self.batch_size,
        }
        if self._estimator is not None:
            description["estimator"] = dict(self._estimator.describe())
        return description

    def fingerprint(self) -> str:
        """SHA-256 of the model's identity in the store: URI, run, model UUID and flavors."""
        text = json.dumps(self._identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

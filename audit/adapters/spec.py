"""Resolve what the user names as "the model" into a model adapter.

A model is given either as an object (an adapter, a fitted scikit-learn estimator, a
callable) or as a *spec* string:

========================================  ==========================================
``http://...`` / ``https://...``          a served model (MLflow or Open Inference)
``PATH.onnx``                             an ONNX file, run with onnxruntime
``PATH.skops``                            a scikit-learn model saved with skops
``PATH.pkl`` / ``.pickle`` / ``.joblib``  a pickle, only with ``trust_pickle=True``
``PATH.yaml`` / ``PATH.yml``              a model config: any REST endpoint or an LLM
                                          (see :mod:`audit.adapters.config`)
``models:/NAME/VERSION``, ``runs:/...``   an MLflow model, loaded by MLflow (trusted only)
``column:NAME[,score=COL]``               decisions (and scores) already in the data
``module:attribute``                      an object in an importable Python module
========================================  ==========================================
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.adapters.base import read_model_file
from audit.adapters.callable import CallableAdapter
from audit.adapters.column import ColumnAdapter
from audit.adapters.mlflow_model import MLFLOW_SCHEMES, MlflowModelAdapter
from audit.adapters.onnx import OnnxAdapter
from audit.adapters.sklearn import (
    PICKLE_REFUSED,
    SklearnAdapter,
    _load_pickle_bytes,
    _load_skops_bytes,
)
from audit.core.protocols import ModelAdapter
from audit.errors import AuditError, ModelSpecError

__all__ = ["ACCEPTED_FORMS", "load_model"]

ACCEPTED_FORMS: tuple[str, ...] = (
    "http://... or https://... (a served model)",
    "PATH.onnx",
    "PATH.skops",
    "PATH.pkl, PATH.pickle or PATH.joblib (with --trust-pickle)",
    "PATH.yaml (a model config: kind rest or chat)",
    "models:/NAME/VERSION or runs:/RUN/PATH (an MLflow model, with --trust-pickle)",
    "column:NAME or column:NAME,score=SCORECOL (decisions already in the data)",
    "module:attribute (a model, adapter or function in an importable module)",
)
"""The spec forms :func:`load_model` accepts, as error messages list them."""

_PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib"})
_FILE_SUFFIXES = frozenset({".onnx", ".skops"}) | _PICKLE_SUFFIXES
_CONFIG_SUFFIXES = frozenset({".yaml", ".yml"})
ERR_LIMITS = (
    "--max-requests and --budget apply to models declared in a model config "
    "(--model FILE.yaml); got model {model!r}"
)
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_MODULE_ATTRIBUTE = re.compile(rf"^(?P<module>{_DOTTED}):(?P<attribute>{_DOTTED})$")
_COLUMN_OPTION = re.compile(r",\s*(?P<name>[A-Za-z_][\w-]*)\s*=")
"""An option of a ``column:`` spec, ``,NAME=``; a column name may hold commas otherwise."""
_COLUMN_OPTIONS = ("score",)
_MAX_DEPTH = 4
_SHOWN = 20


def load_model(
    model: Any,
    *,
    trust_pickle: bool = False,
    batch_size: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    header_env: Mapping[str, str] | None = None,
    max_requests: int | None = None,
    budget: int | None = None,
) -> ModelAdapter:
    """Turn a model object or spec string into a :class:`~audit.core.protocols.ModelAdapter`.

    Parameters
    ----------
    model:
        An adapter (returned as is), a fitted scikit-learn estimator or pipeline, a
        callable ``DataFrame -> predictions``, a path, or a spec string (see the module
        docstring).  A PyTorch module must be wrapped in
        :class:`~audit.adapters.torch.TorchAdapter` to declare its input encoding.
    trust_pickle:
        Allow loading ``.pkl``/``.pickle``/``.joblib`` files, which runs their code.
    batch_size:
        Rows per model call; ``None`` keeps each adapter's default.  Ignored for an
        adapter given as an object.
    timeout, max_retries, header_env:
        Settings of served models (``http(s)://`` specs), passed to the HTTP adapter;
        ``header_env`` maps header names to the environment variables holding their
        values.  Ignored for other models.
    max_requests, budget:
        Spending limits of a model config (``PATH.yaml``): the most requests, and the
        most LLM tokens; see :mod:`audit.adapters.http.guard`.

    Raises
    ------
    ModelSpecError
        If the spec names nothing that can be loaded; the message says why and, for an
        unknown spec, lists :data:`ACCEPTED_FORMS`.
    """
    resolver = _Resolver(
        trust_pickle=trust_pickle,
        batch_size=batch_size,
        http_settings={"timeout": timeout, "max_retries": max_retries, "header_env": header_env},
        limits={"max_requests": max_requests, "budget": budget},
    )
    adapter = resolver.resolve(model, depth=0, origin=None)
    if (max_requests is not None or budget is not None) and not resolver.limited:
        raise ModelSpecError(ERR_LIMITS.format(model=str(model)[:80]))
    return adapter


class _Resolver:
    def __init__(
        self,
        *,
        trust_pickle: bool,
        batch_size: int | None,
        http_settings: dict[str, Any],
        limits: dict[str, Any] | None = None,
    ) -> None:
        self.trust_pickle = trust_pickle
        self.batch_size = batch_size
        self.http_settings = http_settings
        self.limits = limits or {}
        self.limited = False  # whether a model config took the spending limits

    def _batch(self) -> dict[str, Any]:
        return {} if self.batch_size is None else {"batch_size": self.batch_size}

    def resolve(self, model: Any, *, depth: int, origin: str | None) -> ModelAdapter:
        if depth > _MAX_DEPTH:
            raise ModelSpecError(
                f"model spec {origin!r} refers to specs more than {_MAX_DEPTH} deep"
            )
        if isinstance(model, ModelAdapter):
            return model
        if isinstance(model, str | os.PathLike):
            return self.resolve_spec(os.fspath(model), depth=depth)
        named = f"{origin!r} is " if origin else "the model is "
        if _is_torch_module(model):
            raise ModelSpecError(
                f"{named}a PyTorch module, which needs a declared input encoding: wrap it in "
                "audit.adapters.TorchAdapter(module, encode=...)"
            )
        if isinstance(model, type):
            raise ModelSpecError(f"{named}the class {model.__name__}, not a fitted model instance")
        if callable(getattr(model, "predict", None)):
            return SklearnAdapter(model, **self._batch())
        if callable(model):
            return CallableAdapter(model, **self._batch())
        raise ModelSpecError(
            f"{named}a {type(model).__name__}, which is not a model: expected an adapter, an "
            "estimator with predict, a callable or a spec string"
        )

    def resolve_spec(self, spec: Any, *, depth: int) -> ModelAdapter:
        text = str(spec).strip()
        lowered = text.lower()
        if lowered.startswith(("http://", "https://")):
            return self._http(text)
        if lowered.startswith("column:"):
            return self._column(text)
        if lowered.startswith(MLFLOW_SCHEMES):
            return MlflowModelAdapter(text, trust_pickle=self.trust_pickle, **self._batch())
        suffix = Path(text).suffix.lower()
        if suffix in _FILE_SUFFIXES:
            return self._file(Path(text), suffix)
        if suffix in _CONFIG_SUFFIXES:
            return self._config(Path(text))
        match = _MODULE_ATTRIBUTE.match(text)
        if match:
            found = _import_attribute(match["module"], match["attribute"])
            return self.resolve(found, depth=depth + 1, origin=text)
        hint = ""
        if text and _is_file(text):
            hint = f"; files ending in {suffix or '(no suffix)'!r} are not model files"
        raise ModelSpecError(
            f"cannot resolve model spec {text!r}{hint}; accepted forms are: "
            + "; ".join(ACCEPTED_FORMS)
        )

    def _http(self, url: str) -> ModelAdapter:
        try:
            from audit.adapters.http import http_adapter
        except ImportError as exc:
            raise ModelSpecError(
                f"served models are not available in this installation: {exc}"
            ) from exc
        try:
            adapter: ModelAdapter = http_adapter(
                url, batch_size=self.batch_size, **self.http_settings
            )
        except AuditError:
            raise
        except Exception as exc:
            raise ModelSpecError(
                f"cannot set up the served model: {type(exc).__name__}: {exc}"
            ) from exc
        return adapter

    def _config(self, path: Path) -> ModelAdapter:
        from audit.adapters.config import load_config_model

        settings = {k: v for k, v in self.http_settings.items() if v is not None}
        self.limited = True
        return load_config_model(path, batch_size=self.batch_size, **settings, **self.limits)

    def _column(self, spec: str) -> ColumnAdapter:
        body = spec[len("column:") :]
        options = list(_COLUMN_OPTION.finditer(body))
        for option in options:
            if option["name"].lower() not in _COLUMN_OPTIONS:
                raise ModelSpecError(
                    f"model spec {spec!r} has an unknown option {option['name']!r}; the known "
                    f"options are: {', '.join(_COLUMN_OPTIONS)} (column:NAME,score=SCORECOL)"
                )
        if len(options) > 1:
            raise ModelSpecError(f"model spec {spec!r} gives the option 'score' more than once")
        column = body[: options[0].start()] if options else body
        score = body[options[0].end() :] if options else ""
        column, score = column.strip(), score.strip()
        if not column or (options and not score):
            raise ModelSpecError(
                f"model spec {spec!r} is incomplete; write column:NAME or "
                "column:NAME,score=SCORECOL"
            )
        return ColumnAdapter(column, score_column=score or None, **self._batch())

    def _file(self, path: Path, suffix: str) -> ModelAdapter:
        if suffix == ".onnx":
            return OnnxAdapter(path, **self._batch())
        if suffix in _PICKLE_SUFFIXES and not self.trust_pickle:
            raise ModelSpecError(PICKLE_REFUSED.format(path=path))
        file, data = read_model_file(path)
        if suffix == ".skops":
            model = _load_skops_bytes(file, data)
        else:
            model = _load_pickle_bytes(file, data)
        if isinstance(model, ModelAdapter):
            return model
        if isinstance(model, type) or not callable(getattr(model, "predict", None)):
            raise ModelSpecError(
                f"model file '{file}' holds a {type(model).__name__}, not an estimator "
                "with a predict method"
            )
        return SklearnAdapter._from_file(model, file, data, batch_size=self.batch_size)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        return False


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:  # never imported, so model cannot be a torch module
        return False
    return isinstance(model, torch.nn.Module)


def _import_attribute(module_name: str, attribute: str) -> Any:
    """Import ``module_name`` with the working directory on ``sys.path``; get ``attribute``.

    The working directory is on ``sys.path`` only while the module is imported.
    """
    cwd = str(Path.cwd())
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
            raise ModelSpecError(
                f"cannot import module {module_name!r}: no such module in the working "
                f"directory ({cwd}) or on sys.path"
            ) from exc
        raise ModelSpecError(f"importing module {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise ModelSpecError(
            f"importing module {module_name!r} failed: {type(exc).__name__}: {message}"
        ) from exc
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)
    try:
        return functools.reduce(getattr, attribute.split("."), module)
    except AttributeError as exc:
        public = sorted(name for name in vars(module) if not name.startswith("_"))
        shown = ", ".join(public[:_SHOWN]) + (", ..." if len(public) > _SHOWN else "")
        raise ModelSpecError(
            f"module {module_name!r} has no attribute {attribute!r}; "
            f"it has: {shown or '(no public names)'}"
        ) from exc

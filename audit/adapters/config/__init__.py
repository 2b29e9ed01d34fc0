"""Models declared in YAML files: any JSON endpoint (``kind: rest``) or an LLM (``kind: chat``).

::

    from audit.adapters.config import load_config_model

    with load_config_model("screening-llm.yaml") as adapter:
        predictions = adapter.predict_batch(rows)

Modules: :mod:`~audit.adapters.config.schema` (the fields),
:mod:`~audit.adapters.config.presets` (KServe v1, TF Serving, TorchServe, BentoML)
and :mod:`~audit.adapters.config.loader` (files to adapters, ``file:line:column`` errors).
"""

from __future__ import annotations

import os
from typing import Any

from audit.adapters.config.loader import (
    FieldLocations,
    ModelConfig,
    ModelConfigError,
    build_adapter,
    load_model_config,
)
from audit.adapters.config.presets import PRESETS
from audit.adapters.config.schema import ChatConfig, DecisionConfig, RestConfig
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.declared import RestAdapter

__all__ = [
    "PRESETS",
    "ChatConfig",
    "DecisionConfig",
    "FieldLocations",
    "ModelConfig",
    "ModelConfigError",
    "RestConfig",
    "build_adapter",
    "load_config_model",
    "load_model_config",
]


def load_config_model(
    path: str | os.PathLike[str], **options: Any
) -> RestAdapter | ChatDecisionAdapter:
    """Read a model config file and build its adapter (see :func:`build_adapter` for options).

    Raises
    ------
    ModelConfigError
        If the file is wrong; the message starts with ``file:line:column``.
    UsageError
        If a credential variable is unset or a limit is out of range.
    """
    config, where = load_model_config(path)
    return build_adapter(config, where, **options)

"""What every built-in auditor does first: read its settings as its own Config model."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

__all__ = ["settings_as"]

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def settings_as(config: BaseModel, model: type[ConfigT]) -> ConfigT:
    """Return ``config`` as an instance of ``model``, validating it when it is another model.

    The runner passes the instance its policy binding validated; a caller may pass any
    pydantic model with the same fields (a subclass, or settings built elsewhere).
    """
    if isinstance(config, model):
        return config
    return model.model_validate(config.model_dump())

"""Model adapters: every kind of model, seen as a function from rows to predictions.

Local models run in this process (:class:`SklearnAdapter`, :class:`TorchAdapter`,
:class:`OnnxAdapter`, :class:`CallableAdapter`); :class:`ColumnAdapter` reads decisions
already in the data; served models live in :mod:`audit.adapters.http`.
:func:`load_model` turns a model object or spec string into the right adapter.
"""

from __future__ import annotations

from audit.adapters.callable import CallableAdapter
from audit.adapters.column import ColumnAdapter
from audit.adapters.onnx import OnnxAdapter
from audit.adapters.sklearn import SklearnAdapter, load_pickle, load_skops
from audit.adapters.spec import ACCEPTED_FORMS, load_model
from audit.adapters.torch import TorchAdapter

__all__ = [
    "ACCEPTED_FORMS",
    "CallableAdapter",
    "ColumnAdapter",
    "OnnxAdapter",
    "SklearnAdapter",
    "TorchAdapter",
    "load_model",
    "load_pickle",
    "load_skops",
]

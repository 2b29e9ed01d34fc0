"""Presets of ``kind: rest`` configs for common model servers; a config's own fields win.

========================  =====================================================
``kserve-v1``             KServe V1 protocol: ``{"instances": [[...], ...]}``
                          → ``{"predictions": [...]}`` (POST ``/v1/models/NAME:predict``)
``tf-serving``            TensorFlow Serving REST ``:predict``, row format with named
                          inputs: ``{"instances": [{col: value}, ...]}`` → ``predictions``
``torchserve``            TorchServe ``/predictions/NAME``: one row as a JSON object
                          per request; the answer is the prediction
``bentoml``               a BentoML (1.2 and later) API method taking a DataFrame:
                          ``{input_name: [{col: value}, ...]}`` (records) → the list
                          it returns; ``input_name`` is the method's parameter
========================  =====================================================

BentoML 1.2+ services (``@bentoml.service``, ``@bentoml.api``) read a JSON object
of named parameters, so ``def predict(self, df: pd.DataFrame)`` takes
``{"df": [...]}``.  A root input (``def predict(self, df: pd.DataFrame, /)``) or a
1.0/1.1 ``bentoml.io.PandasDataFrame()`` API takes the bare list instead: write
``body: '{{ rows | tojson }}'`` with the preset.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["PRESETS"]

PRESETS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType(
    {
        "kserve-v1": MappingProxyType(
            {
                "mode": "batch",
                "body": '{"instances": {{ values | tojson }}}',
                "labels": "predictions",
            }
        ),
        "tf-serving": MappingProxyType(
            {
                "mode": "batch",
                "body": '{"instances": {{ rows | tojson }}}',
                "labels": "predictions",
            }
        ),
        "torchserve": MappingProxyType(
            {"mode": "row", "body": "{{ row | tojson }}", "labels": "@", "batch_size": 1}
        ),
        "bentoml": MappingProxyType(
            {"mode": "batch", "body": "{{ {input_name: rows} | tojson }}", "labels": "@"}
        ),
    }
)
"""Preset name -> the fields it fills in."""

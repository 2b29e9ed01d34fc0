"""Presets of ``kind: rest`` configs for common model servers; a config's own fields win.

========================  =====================================================
``kserve-v1``             KServe / KFServing V1 protocol: ``{"instances": [[...], ...]}``
                          → ``{"predictions": [...]}`` (POST ``/v1/models/NAME:predict``)
``tf-serving``            TensorFlow Serving REST, row format with named inputs:
                          ``{"instances": [{col: value}, ...]}`` → ``predictions``
``torchserve``            TorchServe ``/predictions/NAME``: one row as a JSON object
                          per request; the answer is the prediction
``bentoml``               a BentoML service taking a list of records (a pandas
                          DataFrame, ``orient="records"``) and returning a list
========================  =====================================================
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
            {"mode": "batch", "body": "{{ rows | tojson }}", "labels": "@"}
        ),
    }
)
"""Preset name -> the fields it fills in."""

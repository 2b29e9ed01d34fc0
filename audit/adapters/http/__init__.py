"""Models served over HTTP: MLflow scoring servers and Open Inference Protocol v2 endpoints.

::

    from audit.adapters.http import http_adapter

    with http_adapter("http://127.0.0.1:5000/invocations", batch_size=500) as adapter:
        predictions = adapter.predict_batch(rows)

Modules: :mod:`~audit.adapters.http.mlflow` and :mod:`~audit.adapters.http.oip_v2`
(pure payload codecs), :mod:`~audit.adapters.http.transport` (timeouts, retries,
credentials from the environment, bounded answers),
:mod:`~audit.core.secrets` (the one redaction of credentials from every
message) and :mod:`~audit.adapters.http.adapter`.
"""

from __future__ import annotations

from audit.adapters.http.adapter import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    HttpAdapter,
    ProtocolName,
    http_adapter,
    parse_endpoint_url,
)
from audit.adapters.http.transport import DEFAULT_TOKEN_ENV, HttpTransport, safe_url

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TOKEN_ENV",
    "HttpAdapter",
    "HttpTransport",
    "ProtocolName",
    "http_adapter",
    "parse_endpoint_url",
    "safe_url",
]

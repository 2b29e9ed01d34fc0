"""The public surface of audit.adapters."""

from __future__ import annotations

import subprocess
import sys

import audit.adapters

PUBLIC = {
    "ACCEPTED_FORMS",
    "CallableAdapter",
    "ColumnAdapter",
    "OnnxAdapter",
    "SklearnAdapter",
    "TorchAdapter",
    "load_model",
    "load_pickle",
    "load_skops",
}


def test_all_is_exactly_the_public_names():
    assert set(audit.adapters.__all__) == PUBLIC
    assert all(hasattr(audit.adapters, name) for name in PUBLIC)


def test_optional_backends_are_imported_lazily():
    code = (
        "import sys, audit.adapters; "
        "heavy = {'torch', 'onnxruntime', 'skops', 'skl2onnx'} & set(sys.modules); "
        "sys.exit(f'imported eagerly: {sorted(heavy)}' if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

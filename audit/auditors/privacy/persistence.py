"""The DP model on disk: ``state_dict.bin`` and ``metadata.json``, and back.

The state dict is stored without pickle: the tensors' raw little-endian bytes one after
another, indexed (name, dtype, shape, offset) in the metadata, so loading a model runs no
code from the file.

The metadata holds the privacy guarantee (epsilon, delta, accountant, noise, clipping,
sample rate, epochs), the SHA-256 of the training data, the columns, and for a stand-in its
architecture and fitted encoding, so :func:`load_dp_model` rebuilds it without other input.
A retrained audited network needs its module (any instance of the same architecture) and
its encoding, which are code and not saved.

A regression model is trained on the standardised target; the metadata's
``target_scaling`` (mean and scale of the training target) turns its output back into the
target's units, which the loaded model does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from audit.auditors.privacy.encoding import TabularEncoding
from audit.auditors.privacy.models import stand_in_module

__all__ = [
    "DPRegressor",
    "METADATA_FILE",
    "STATE_FILE",
    "load_dp_model",
    "read_metadata",
    "read_state_dict",
    "save_dp_model",
]

STATE_FILE = "state_dict.bin"
METADATA_FILE = "metadata.json"
FORMAT = "maas-audit.privacy.dp-model/1"
_DTYPES = ("float32", "float64", "float16", "int64", "int32", "uint8", "bool")


def save_dp_model(folder: str | Path, module: Any, metadata: Mapping[str, Any]) -> Path:
    """Write ``module``'s state dict and ``metadata`` into ``folder`` (created if needed).

    Returns
    -------
    pathlib.Path
        The folder, resolved.
    """
    path = Path(folder).resolve()
    path.mkdir(parents=True, exist_ok=True)
    index: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    offset = 0
    for name, tensor in module.state_dict().items():
        array = np.ascontiguousarray(tensor.detach().to("cpu").numpy())
        if array.dtype.name not in _DTYPES:
            raise ValueError(f"cannot save tensor {name!r} of dtype {array.dtype}")
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        index.append(
            {"name": name, "dtype": array.dtype.name, "shape": list(array.shape), "offset": offset}
        )
        chunks.append(data)
        offset += len(data)
    tmp_state = path / (STATE_FILE + ".tmp")
    tmp_state.write_bytes(b"".join(chunks))
    tmp_state.replace(path / STATE_FILE)
    tmp_meta = path / (METADATA_FILE + ".tmp")
    document = {"format": FORMAT, **metadata, "tensors": index}
    tmp_meta.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
    tmp_meta.replace(path / METADATA_FILE)
    return path


def read_metadata(folder: str | Path) -> dict[str, Any]:
    """The metadata saved with a DP model."""
    data = json.loads((Path(folder) / METADATA_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{folder} does not hold a DP model saved by maas-audit")
    return data


def read_state_dict(folder: str | Path) -> dict[str, Any]:
    """The saved state dict, as CPU tensors (read without unpickling anything)."""
    import torch

    metadata = read_metadata(folder)
    raw = (Path(folder) / STATE_FILE).read_bytes()
    state: dict[str, Any] = {}
    for entry in metadata["tensors"]:
        dtype = np.dtype(str(entry["dtype"])).newbyteorder("<")
        if dtype.name not in _DTYPES:
            raise ValueError(f"tensor {entry['name']!r} has an unknown dtype {dtype}")
        shape = tuple(int(n) for n in entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(raw, dtype=dtype, count=count, offset=int(entry["offset"]))
        state[str(entry["name"])] = torch.from_numpy(array.astype(dtype.newbyteorder("="))).reshape(
            shape
        )
    return state


class DPRegressor:
    """A regression network and its scaling: rows to predicted values in the target's units.

    Parameters
    ----------
    module:
        The network, one output per row (on the standardised target's scale).
    encode:
        Rows to the module's inputs: a callable or a fitted transformer.
    mean, scale:
        The training target's mean and scale: a prediction is ``output * scale + mean``.
    """

    def __init__(self, module: Any, encode: Any, mean: float, scale: float) -> None:
        self.module = module.to("cpu").eval()
        self.encode = encode
        self.mean = float(mean)
        self.scale = float(scale)

    def __call__(self, rows: Any) -> np.ndarray:
        """Predicted values of ``rows``."""
        import torch

        transform = getattr(self.encode, "transform", None)
        encoded = transform(rows) if callable(transform) else self.encode(rows)
        if hasattr(encoded, "toarray"):
            encoded = encoded.toarray()
        inputs = torch.as_tensor(np.asarray(encoded, dtype=np.float32))
        with torch.no_grad():
            out = self.module(inputs).to(torch.float64).reshape(len(rows))
        return np.asarray(out.numpy() * self.scale + self.mean, dtype=np.float64)


def load_dp_model(
    folder: str | Path,
    *,
    module: Any = None,
    encode: Any = None,
    device: str | None = "cpu",
) -> Any:
    """Load a saved DP model as a :class:`~audit.adapters.torch.TorchAdapter`.

    Parameters
    ----------
    folder:
        The folder :func:`save_dp_model` wrote (the privacy auditor's ``output_dir``).
    module, encode:
        For a retrained audited network: a module of its architecture (its weights are
        replaced) and its input encoding.  Not needed for a stand-in, which is rebuilt
        from the metadata.
    device:
        Where the adapter runs (``None``: CUDA when available).

    Returns
    -------
    TorchAdapter or CallableAdapter
        A drop-in replacement of the audited model: a classifier as a
        :class:`~audit.adapters.torch.TorchAdapter`, a regression model as a
        :class:`~audit.adapters.callable.CallableAdapter` of a :class:`DPRegressor`
        (the torch adapter reads outputs as classifier scores).

    Raises
    ------
    ValueError
        When the folder holds no DP model, or a network's module or encoding is missing.
    """
    from audit.adapters.callable import CallableAdapter
    from audit.adapters.torch import TorchAdapter

    metadata = read_metadata(folder)
    architecture = metadata["architecture"]
    state = read_state_dict(folder)
    if architecture["kind"] == "stand-in":
        module = stand_in_module(int(architecture["inputs"]), int(architecture["hidden_units"]))
        encode = TabularEncoding.from_json(metadata["encoding"])
    elif module is None or encode is None:
        raise ValueError(
            "this DP model retrains the audited network; give its module and encode to load it"
        )
    module.load_state_dict(state)
    scaling = metadata.get("target_scaling")
    if metadata.get("task") == "regression" and scaling is not None:
        regressor = DPRegressor(module, encode, scaling["mean"], scaling["scale"])
        return CallableAdapter(regressor, name=f"DP regression model ({Path(folder).name})")
    output = "logits" if architecture["kind"] == "stand-in" else architecture["output"]
    return TorchAdapter(
        module,
        encode=encode,
        output="probabilities" if output == "probabilities" else "logits",
        device=device,
    )

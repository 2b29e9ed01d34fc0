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
target's units.  :func:`load_dp_model` wraps the saved network in a
:class:`~audit.auditors.privacy.scaling.Destandardised` module that does so, and returns it as a
:class:`~audit.adapters.torch.TorchAdapter` with ``output="values"``: a drop-in
replacement of the audited regressor.

A classifier's metadata holds the audited target's ``class_labels`` (negative, positive),
so the loaded model returns those labels (``'<=50K'``/``'>50K'``), as the audited model
does, and not the network's 0/1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.adapters.torch import TorchAdapter
from audit.auditors.privacy.encoding import TabularEncoding
from audit.auditors.privacy.models import stand_in_module
from audit.core.protocols import Predictions

__all__ = [
    "METADATA_FILE",
    "LabelledTorchAdapter",
    "class_labels",
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


class LabelledTorchAdapter(TorchAdapter):
    """A binary :class:`~audit.adapters.torch.TorchAdapter` that returns class labels.

    Labels are ``classes[0]`` where the network says 0 and ``classes[1]`` where it says 1;
    scores are unchanged.

    Parameters
    ----------
    module, encode, output, device:
        As for :class:`~audit.adapters.torch.TorchAdapter`.
    classes:
        The (negative, positive) labels.
    """

    def __init__(
        self,
        module: Any,
        *,
        encode: Any,
        classes: tuple[Any, Any],
        output: Literal["logits", "probabilities"] = "logits",
        device: str | None = None,
    ) -> None:
        super().__init__(module, encode=encode, output=output, device=device)
        self.classes = (classes[0], classes[1])

    def predict_batch(self, rows: Any) -> Predictions:
        """The network's predictions, its 0/1 labels replaced by :attr:`classes`."""
        found = super().predict_batch(rows)
        if found.labels is None:
            return found
        labels = np.asarray(self.classes)[np.asarray(found.labels, dtype=np.int64)]
        return Predictions(labels=labels, scores=found.scores)

    def describe(self) -> dict[str, Any]:
        """As the torch adapter's, with the class labels."""
        return {**super().describe(), "classes": list(self.classes)}


def class_labels(context: Any) -> list[Any] | None:
    """The target's [negative, positive] values as JSON values.

    ``None`` when the target has several negative (or positive) values.

    A DP model loaded by :func:`~audit.auditors.privacy.persistence.load_dp_model`
    returns these labels, as the audited model does.
    """
    target = context.data[context.roles.target]
    y_true = np.asarray(context.outcomes.y_true)
    negatives = pd.unique(target[y_true == 0].dropna())
    positives = pd.unique(target[y_true == 1].dropna())
    if len(negatives) != 1 or len(positives) != 1:
        return None
    return [_json_value(negatives[0]), _json_value(positives[0])]


def _json_value(value: Any) -> Any:
    plain = value.item() if isinstance(value, np.generic) else value
    return plain if isinstance(plain, str | int | float | bool) else str(plain)


def _target_scaling(metadata: Mapping[str, Any], folder: str | Path) -> tuple[float, float]:
    """The saved regression target's (mean, scale)."""
    scaling = metadata.get("target_scaling")
    if not isinstance(scaling, Mapping) or not {"mean", "scale"} <= scaling.keys():
        raise ValueError(f"the regression DP model in {folder} has no target_scaling metadata")
    return float(scaling["mean"]), float(scaling["scale"])


def load_dp_model(
    folder: str | Path,
    *,
    module: Any = None,
    encode: Any = None,
    device: str | None = "cpu",
) -> TorchAdapter:
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
    TorchAdapter
        A drop-in replacement of the audited model.  A classifier reads the network's
        logits or probabilities and returns the audited target's labels (a
        :class:`LabelledTorchAdapter`; 0/1 for a model saved without ``class_labels``);
        a regression model (``output="values"``) is the network
        wrapped by :class:`~audit.auditors.privacy.scaling.Destandardised`, so it predicts
        in the target's units (the module given is wrapped, its weights replaced by the
        saved ones).

    Raises
    ------
    ValueError
        When the folder holds no DP model, a network's module or encoding is missing, or
        a regression model's target scaling is.
    """
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
    if metadata.get("task") == "regression":
        from audit.auditors.privacy.scaling import Destandardised

        mean, scale = _target_scaling(metadata, folder)
        return TorchAdapter(
            Destandardised(module, mean, scale), encode=encode, output="values", device=device
        )
    output = "logits" if architecture["kind"] == "stand-in" else architecture["output"]
    reading: Literal["logits", "probabilities"] = (
        "probabilities" if output == "probabilities" else "logits"
    )
    classes = metadata.get("class_labels")
    if isinstance(classes, list) and len(classes) == 2:
        return LabelledTorchAdapter(
            module, encode=encode, classes=(classes[0], classes[1]), output=reading, device=device
        )
    return TorchAdapter(module, encode=encode, output=reading, device=device)

"""PyTorch modules, with the input encoding declared by the caller.

torch is imported lazily: the rest of maas-audit works without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.adapters.base import (
    as_column,
    check_batch_size,
    object_sha256,
    qualified_name,
    wrap_model_call,
)
from audit.core.protocols import Predictions
from audit.errors import ModelError, ModelSpecError

__all__ = ["TorchAdapter", "import_torch"]

Encoding = Callable[[pd.DataFrame], Any]
"""Turns a batch of rows into the module's input: a float tensor or array, one row per row."""


def import_torch() -> Any:
    """Import and return :mod:`torch`, or raise :class:`ModelSpecError` with an install hint."""
    try:
        import torch
    except ImportError as exc:
        raise ModelSpecError(
            "auditing a PyTorch model needs torch: pip install 'maas-audit[torch]'"
        ) from exc
    return torch


class TorchAdapter:
    """A PyTorch classifier or regressor as a :class:`~audit.core.protocols.ModelAdapter`.

    A module's input encoding is not part of the module, so it must be declared: ``encode``
    turns a batch of rows into the module's input.  A classifier's output
    (``output="logits"`` or ``"probabilities"``) is read as

    - shape ``(n,)`` or ``(n, 1)``: one binary logit (``output="logits"``, sigmoid applied)
      or probability of the positive class; labels are 1 where it is at least 0.5, else 0;
    - shape ``(n, 2)``: two class logits (softmax applied) or probabilities; the score is
      column ``positive_index`` and labels are 1 where it is at least 0.5, else 0;
    - shape ``(n, k)``, ``k > 2``: labels are the argmax class indices, with no scores.

    A regressor's output (``output="values"``) must have shape ``(n,)`` or ``(n, 1)``: one
    predicted value per row, returned as float64 labels with no scores, as for any
    regression model.

    Parameters
    ----------
    module:
        The network.  It is put in eval mode and moved to ``device``.
    encode:
        The declared input encoding: a callable ``DataFrame -> tensor or array``, or a
        fitted scikit-learn transformer (anything with ``transform``), whose output may be
        sparse.  Arrays become tensors of the module's floating dtype (float32 by default).
    output:
        Whether the module returns class ``"logits"``, class ``"probabilities"``, or
        predicted ``"values"`` (a regressor).
    positive_index:
        The column of a two-column output that is the positive class.
    batch_size:
        Rows per forward pass; bounded by accelerator memory for large networks.
    device:
        Where to run, e.g. ``"cpu"`` or ``"cuda:0"``; by default CUDA when available.
    """

    def __init__(
        self,
        module: Any,
        *,
        encode: Encoding | Any,
        output: Literal["logits", "probabilities", "values"] = "logits",
        positive_index: int = 1,
        batch_size: int = 4096,
        device: str | None = None,
    ) -> None:
        torch = import_torch()
        if not isinstance(module, torch.nn.Module):
            raise ModelSpecError(
                f"TorchAdapter needs a torch.nn.Module; got a {type(module).__name__}"
            )
        if output not in ("logits", "probabilities", "values"):
            raise ModelSpecError(
                "The 'output' parameter of TorchAdapter must be 'logits', 'probabilities' "
                f"or 'values'; got {output!r} instead."
            )
        if not (callable(getattr(encode, "transform", None)) or callable(encode)):
            raise ModelSpecError(
                "The 'encode' parameter of TorchAdapter must be a callable or a fitted "
                f"transformer with a transform method; got a {type(encode).__name__} instead."
            )
        if isinstance(positive_index, bool) or positive_index not in (0, 1):
            raise ModelSpecError(
                "The 'positive_index' parameter of TorchAdapter must be 0 or 1; "
                f"got {positive_index!r} instead."
            )
        self.batch_size = check_batch_size(batch_size, "TorchAdapter")
        self.output = output
        self.positive_index = positive_index
        self.encode = encode
        chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.device = torch.device(chosen)
            self.module = module.to(self.device).eval()
        except (RuntimeError, ValueError, AssertionError) as exc:
            message = " ".join(str(exc).split())[:200]
            raise ModelSpecError(
                f"cannot run the PyTorch model on device {chosen!r}: {message}"
            ) from exc
        self._dtype = next(
            (p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32
        )

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Always ``None``: ``encode`` receives the audit's feature columns."""
        return None

    def _what(self) -> str:
        return f"PyTorch model {type(self.module).__name__}"

    def _encode(self, rows: pd.DataFrame) -> Any:
        torch = import_torch()
        transform = getattr(self.encode, "transform", None)
        encoder = transform if callable(transform) else self.encode
        encoded = wrap_model_call(
            lambda: encoder(rows), f"the encoding of {self._what()}", len(rows), rows
        )
        if hasattr(encoded, "toarray"):  # scipy sparse
            encoded = encoded.toarray()
        if isinstance(encoded, torch.Tensor):
            tensor = encoded if encoded.is_floating_point() else encoded.to(self._dtype)
        else:
            try:
                # writable, as torch.from_numpy warns on read-only arrays (pandas views)
                array = np.require(np.asarray(encoded, dtype=np.float64), requirements="W")
            except (TypeError, ValueError) as exc:
                raise ModelError(
                    f"the encoding of {self._what()} returned values that are not numbers: {exc}"
                ) from exc
            tensor = torch.from_numpy(array).to(self._dtype)
        if tensor.ndim == 0 or tensor.shape[0] != len(rows):
            raise ModelError(
                f"the encoding of {self._what()} returned shape {tuple(tensor.shape)} "
                f"for {len(rows)} rows"
            )
        return tensor.to(self.device)

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Encode ``rows``, run one forward pass without gradients, and read the output.

        Raises
        ------
        ModelError
            When the encoding or the module fails, or the output's shape does not fit
            ``output``.
        """
        torch = import_torch()
        n = len(rows)
        inputs = self._encode(rows)
        with torch.no_grad():
            raw = wrap_model_call(lambda: self.module(inputs), self._what(), n)
        if not isinstance(raw, torch.Tensor):
            raise ModelError(f"{self._what()} returned a {type(raw).__name__}; expected a tensor")
        out = raw.detach().to("cpu", torch.float64)
        if self.output == "values":
            return self._values(out, n)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim == 1:
            scores = torch.sigmoid(out) if self.output == "logits" else out
            return self._binary(as_column(scores.numpy(), n, self._what(), "scores"))
        if out.ndim != 2 or out.shape[0] != n:
            raise ModelError(
                f"{self._what()} returned output of shape {tuple(out.shape)} for {n} rows; "
                f"expected ({n},), ({n}, 1) or ({n}, classes)"
            )
        probabilities = torch.softmax(out, dim=1) if self.output == "logits" else out
        if out.shape[1] == 2:
            return self._binary(probabilities[:, self.positive_index].numpy())
        return Predictions(labels=torch.argmax(probabilities, dim=1).numpy().astype(np.int64))

    def _values(self, out: Any, n: int) -> Predictions:
        """A regressor's output, shape ``(n,)`` or ``(n, 1)``, as predicted values."""
        if tuple(out.shape) not in ((n,), (n, 1)):
            raise ModelError(
                f"{self._what()} returned output of shape {tuple(out.shape)} for {n} rows; "
                f"output='values' expects one value per row: ({n},) or ({n}, 1)"
            )
        values = np.ascontiguousarray(out.reshape(n).numpy(), dtype=np.float64)
        return Predictions(labels=values, scores=None)

    @staticmethod
    def _binary(scores: np.ndarray) -> Predictions:
        scores = np.ascontiguousarray(scores, dtype=np.float64)
        return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)

    def describe(self) -> dict[str, Any]:
        """Kind, module class, encoding, output reading, device and batch size."""
        return {
            "kind": "pytorch",
            "location": f"in-memory {type(self.module).__name__}",
            "class": type(self.module).__name__,
            "module": type(self.module).__module__,
            "encode": qualified_name(self.encode),
            "output": self.output,
            "positive_index": self.positive_index,
            "device": str(self.device),
            "batch_size": self.batch_size,
        }

    def fingerprint(self) -> str:
        """Hex SHA-256 of the module's class and ``state_dict``.

        Every entry of the state dict, in key order, contributes its name, dtype, shape
        and raw bytes (non-tensor extra state: its pickle); the encoding is not part of
        the hash.
        """
        torch = import_torch()
        digest = hashlib.sha256(qualified_name(self.module).encode())
        for key, value in sorted(self.module.state_dict().items()):
            if not isinstance(value, torch.Tensor):  # extra state: any object
                digest.update(f"\0{key}\0".encode() + object_sha256(value).encode())
                continue
            tensor = value.detach().to("cpu").contiguous()
            digest.update(f"\0{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()

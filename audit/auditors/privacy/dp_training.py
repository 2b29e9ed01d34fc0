"""Training a torch module with DP-SGD through Opacus, or without DP for reference.

DP training: the noise multiplier is found for the target (epsilon, delta) by Opacus's
``make_private_with_epsilon``; batches are Poisson samples of the training rows (each row
in each batch with probability ``sample_rate``), each row's gradient is clipped to
``max_grad_norm``, and the spent epsilon is read from the accountant.  Non-private training
uses the same model, optimiser, epochs and expected batch size with shuffled batches.

Both read their batches from tensors in one indexing operation per batch (not row by row):
the private batches still come from Opacus's own Poisson sampler and empty-batch handling
(``DPDataLoader``), so the sampling, and with it the accounting, is Opacus's.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "ERR_NO_OPACUS",
    "GHOST_LAYERS",
    "Head",
    "TrainedModel",
    "TrainingReport",
    "TrainingSettings",
    "choose_device",
    "ghost_compatible",
    "import_opacus",
    "resolve_mode",
    "train_module",
]

_HOOK_NOISE = "Full backward hook is firing"
"""A torch notice on every step of Opacus's hooks about their inputs; not about privacy."""

Head = Literal["logit", "probability", "two_logits", "two_probabilities", "value"]
"""How the module's output is read: one logit or probability, two of them, or a value
(regression, trained with squared error)."""

GHOST_LAYERS: frozenset[str] = frozenset({"Linear", "Embedding"})
"""Layer types whose per-sample gradient norms Opacus's ghost clipping computes directly."""

ERR_NO_OPACUS = (
    "differentially private training needs opacus and torch: pip install 'maas-audit[privacy]'"
)


def import_opacus() -> Any:
    """Import and return :mod:`opacus`, or raise ``ImportError`` naming the extra to install."""
    try:
        import opacus
        import torch  # noqa: F401
    except ImportError as exc:
        raise ImportError(ERR_NO_OPACUS) from exc
    return opacus


def choose_device(preference: str) -> str:
    """``"cuda"`` or ``"cpu"``: CUDA when asked for or (``"auto"``) when available.

    Raises
    ------
    ValueError
        When CUDA is asked for and not available.
    """
    import torch

    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but CUDA is not available here")
    if preference == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return preference


@dataclass(frozen=True)
class TrainingSettings:
    """The knobs of one training run (DP or not)."""

    epochs: int
    batch_size: int
    learning_rate: float
    max_grad_norm: float
    target_delta: float
    accountant: str
    grad_sample_mode: str
    device: str
    seed: int


@dataclass(frozen=True)
class TrainingReport:
    """What a training run did, for the report and the saved model's metadata."""

    private: bool
    target_epsilon: float | None
    epsilon: float | None
    """Epsilon spent, from the accountant (``None`` when not private)."""
    delta: float | None
    accountant: str | None
    noise_multiplier: float | None
    max_grad_norm: float | None
    sample_rate: float
    batch_size: int
    epochs: int
    steps: int
    grad_sample_mode: str | None
    device: str
    seconds: float
    samples_seen: int
    history: tuple[tuple[float, float, int], ...] = ()
    """The accountant's (noise multiplier, sample rate, steps) entries."""
    warnings: tuple[str, ...] = ()

    @property
    def samples_per_second(self) -> float:
        """Training throughput: rows processed per second of training."""
        return self.samples_seen / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A trained module (unwrapped from Opacus, on the CPU, in eval mode) and its report."""

    module: Any
    report: TrainingReport


def _loss(head: Head) -> Any:
    """The head's loss as a ``torch.nn`` loss module (ghost clipping resets its reduction)."""
    import torch

    class ProbabilityNLL(torch.nn.Module):
        """Negative log-likelihood of two class probabilities."""

        def __init__(self) -> None:
            super().__init__()
            self.reduction = "mean"

        def forward(self, out: Any, target: Any) -> Any:
            return torch.nn.functional.nll_loss(
                torch.log(out.clamp_min(1e-7)), target, reduction=self.reduction
            )

    losses: dict[str, Any] = {
        "logit": torch.nn.BCEWithLogitsLoss,
        "probability": torch.nn.BCELoss,
        "two_logits": torch.nn.CrossEntropyLoss,
        "two_probabilities": ProbabilityNLL,
        "value": torch.nn.MSELoss,
    }
    return losses[head]()


def _target(head: Head, labels: Any) -> Any:
    return labels.long() if head.startswith("two") else labels.float()


def _squeeze(head: Head, out: Any) -> Any:
    if not head.startswith("two") and out.ndim == 2:
        return out[:, 0]
    return out


def _step(module: Any, optimiser: Any, criterion: Any, head: Head, xb: Any, yb: Any) -> None:
    optimiser.zero_grad()
    out = _squeeze(head, module(xb))
    # an empty Poisson batch still takes a (noise-only) step, as the accountant counts it
    loss = criterion(out, _target(head, yb)) if len(xb) else out.sum() * 0.0
    loss.backward()
    optimiser.step()


def ghost_compatible(module: Any) -> bool:
    """Whether every layer of ``module`` with trainable parameters supports ghost clipping."""
    return all(
        type(layer).__name__ in GHOST_LAYERS
        for layer in module.modules()
        if any(p.requires_grad for p in layer.parameters(recurse=False))
    )


def resolve_mode(preference: str, module: Any) -> str:
    """The per-sample-gradient mode used for ``module``.

    ``"auto"`` picks ghost clipping for a network of several layers that all support it:
    it computes each row's gradient norm without materialising per-row gradients (a batch
    times the weights of every layer), at the price of a second backward pass.  A single
    layer's per-row gradients are about as cheap as that pass, so it keeps ``"hooks"``.
    """
    if preference != "auto":
        return preference
    trainable = [
        layer
        for layer in module.modules()
        if any(p.requires_grad for p in layer.parameters(recurse=False))
    ]
    return "ghost" if len(trainable) > 1 and ghost_compatible(module) else "hooks"


class _Batches:
    """Rows as tensors; a batch of row indices is fetched with one indexing operation.

    ``DataLoader`` calls ``__getitems__`` with a whole batch of indices; the batch is
    returned as a one-element list that :func:`_whole_batch` unwraps, and an empty batch
    as an empty list, which Opacus's ``DPDataLoader`` turns into empty tensors.
    """

    def __init__(self, inputs: Any, labels: Any) -> None:
        self.inputs = inputs
        self.labels = labels

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.inputs[index], self.labels[index]

    def __getitems__(self, indices: list[int]) -> list[tuple[Any, Any]]:
        if not indices:
            return []
        return [(self.inputs[indices], self.labels[indices])]


def _whole_batch(batch: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    return batch[0]


def train_module(
    module: Any,
    inputs: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64] | npt.NDArray[np.float32],
    *,
    head: Head,
    settings: TrainingSettings,
    target_epsilon: float | None,
) -> TrainedModel:
    """Train ``module`` on ``inputs`` and ``labels``, privately when ``target_epsilon`` is set.

    Parameters
    ----------
    module:
        A fresh :class:`torch.nn.Module`; it is trained in place (wrapped by Opacus).
    inputs, labels:
        The encoded training rows and their 0/1 labels (for the ``"value"`` head: the
        float targets, best standardised).
    head:
        How the module's output is read, which picks the loss.
    settings:
        Epochs, expected batch size, learning rate, clipping, delta, accountant,
        per-sample-gradient mode (``"auto"``: see :func:`resolve_mode`), device and seed.
    target_epsilon:
        The privacy budget; ``None`` trains without DP.

    Returns
    -------
    TrainedModel
        The unwrapped module on the CPU in eval mode, and what the run did.
    """
    import torch
    from torch.utils.data import DataLoader

    n = len(inputs)
    batch = max(1, min(settings.batch_size, n))
    device = torch.device(settings.device)
    mode = resolve_mode(settings.grad_sample_mode, module)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        generator = torch.Generator().manual_seed(settings.seed)
        rows = _Batches(
            torch.from_numpy(inputs).to(device), torch.from_numpy(np.asarray(labels)).to(device)
        )
        loader: Any = DataLoader(
            rows,  # type: ignore[arg-type]
            batch_size=batch,
            shuffle=True,
            generator=generator,
            collate_fn=_whole_batch,
        )
        module = module.to(device).train()
        optimiser = torch.optim.Adam(module.parameters(), lr=settings.learning_rate)
        criterion = _loss(head)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            engine = None
            if target_epsilon is not None:
                opacus = import_opacus()
                engine = opacus.PrivacyEngine(accountant=settings.accountant)
                made = engine.make_private_with_epsilon(
                    module=module,
                    optimizer=optimiser,
                    data_loader=loader,
                    criterion=criterion,
                    target_epsilon=target_epsilon,
                    target_delta=settings.target_delta,
                    epochs=settings.epochs,
                    max_grad_norm=settings.max_grad_norm,
                    poisson_sampling=True,
                    grad_sample_mode=mode,
                )
                if mode == "ghost":
                    module, optimiser, criterion, loader = made
                else:
                    module, optimiser, loader = made
            seen = 0
            steps = 0
            start = time.perf_counter()
            for _ in range(settings.epochs):
                for xb, yb in loader:
                    _step(module, optimiser, criterion, head, xb, yb)
                    seen += len(xb)
                    steps += 1
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            epsilon = (
                float(engine.get_epsilon(settings.target_delta)) if engine is not None else None
            )
    notes = tuple(
        sorted(
            {
                " ".join(str(w.message).split())[:200]
                for w in caught
                if not str(w.message).startswith(_HOOK_NOISE)
            }
        )
    )
    remove_hooks = getattr(module, "remove_hooks", None)
    if callable(remove_hooks):
        remove_hooks()
    plain = getattr(module, "_module", module).to("cpu").eval()
    history: tuple[tuple[float, float, int], ...] = ()
    sample_rate = batch / n
    if engine is not None:
        history = tuple((float(s), float(r), int(k)) for s, r, k in engine.accountant.history)
        # Opacus samples at 1 / (batches per epoch), which can differ slightly from batch / n
        sample_rate = float(loader.sample_rate)
    return TrainedModel(
        module=plain,
        report=TrainingReport(
            private=engine is not None,
            target_epsilon=target_epsilon,
            epsilon=epsilon,
            delta=settings.target_delta if engine is not None else None,
            accountant=settings.accountant if engine is not None else None,
            noise_multiplier=float(getattr(optimiser, "noise_multiplier", 0.0))
            if engine is not None
            else None,
            max_grad_norm=settings.max_grad_norm if engine is not None else None,
            sample_rate=sample_rate,
            batch_size=batch,
            epochs=settings.epochs,
            steps=steps,
            grad_sample_mode=mode if engine is not None else None,
            device=str(device),
            seconds=seconds,
            samples_seen=seen,
            history=history,
            warnings=notes,
        ),
    )

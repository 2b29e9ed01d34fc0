"""Training a torch module with DP-SGD through Opacus, or without DP for reference.

DP training: the noise multiplier is found for the target (epsilon, delta) by Opacus's
``make_private_with_epsilon``; batches are Poisson samples of the training rows (each row
in each batch with probability ``sample_rate``), each row's gradient is clipped to
``max_grad_norm``, and the spent epsilon is read from the accountant.  Non-private training
uses the same model, optimiser, epochs and expected batch size with shuffled batches.
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
    "Head",
    "TrainedModel",
    "TrainingReport",
    "TrainingSettings",
    "choose_device",
    "import_opacus",
    "train_module",
]

_HOOK_NOISE = "Full backward hook is firing"
"""A torch notice on every step of Opacus's hooks about their inputs; not about privacy."""

Head = Literal["logit", "probability", "two_logits", "two_probabilities"]
"""How the module's output is read: one logit or probability, or two of them."""

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
    import torch

    if head == "logit":
        return torch.nn.BCEWithLogitsLoss()
    if head == "probability":
        return torch.nn.BCELoss()
    if head == "two_logits":
        return torch.nn.CrossEntropyLoss()
    nll = torch.nn.NLLLoss()
    return lambda out, y: nll(torch.log(out.clamp_min(1e-7)), y)


def _target(head: Head, labels: Any) -> Any:
    return labels.float() if head in ("logit", "probability") else labels.long()


def _squeeze(head: Head, out: Any) -> Any:
    if head in ("logit", "probability") and out.ndim == 2:
        return out[:, 0]
    return out


def _step(module: Any, optimiser: Any, criterion: Any, head: Head, xb: Any, yb: Any) -> None:
    optimiser.zero_grad()
    out = _squeeze(head, module(xb))
    loss = criterion(out, _target(head, yb)) if len(xb) else out.sum() * 0.0
    loss.backward()
    optimiser.step()


def train_module(
    module: Any,
    inputs: npt.NDArray[np.float32],
    labels: npt.NDArray[np.int64],
    *,
    head: Head,
    settings: TrainingSettings,
    target_epsilon: float | None,
) -> TrainedModel:
    """Train ``module`` on ``inputs`` and 0/1 ``labels``, privately when ``target_epsilon`` is set.

    Parameters
    ----------
    module:
        A fresh :class:`torch.nn.Module`; it is trained in place (wrapped by Opacus).
    inputs, labels:
        The encoded training rows and their 0/1 labels.
    head:
        How the module's output is read, which picks the loss.
    settings:
        Epochs, expected batch size, learning rate, clipping, delta, accountant,
        per-sample-gradient mode, device and seed.
    target_epsilon:
        The privacy budget; ``None`` trains without DP.

    Returns
    -------
    TrainedModel
        The unwrapped module on the CPU in eval mode, and what the run did.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    n = len(inputs)
    batch = max(1, min(settings.batch_size, n))
    device = torch.device(settings.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        generator = torch.Generator().manual_seed(settings.seed)
        dataset = TensorDataset(torch.from_numpy(inputs), torch.from_numpy(labels))
        loader = DataLoader(dataset, batch_size=batch, shuffle=True, generator=generator)
        module = module.to(device).train()
        optimiser = torch.optim.Adam(module.parameters(), lr=settings.learning_rate)
        criterion = _loss(head)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            engine = None
            if target_epsilon is not None:
                opacus = import_opacus()
                engine = opacus.PrivacyEngine(accountant=settings.accountant)
                module, optimiser, loader = engine.make_private_with_epsilon(
                    module=module,
                    optimizer=optimiser,
                    data_loader=loader,
                    target_epsilon=target_epsilon,
                    target_delta=settings.target_delta,
                    epochs=settings.epochs,
                    max_grad_norm=settings.max_grad_norm,
                    poisson_sampling=True,
                    grad_sample_mode=settings.grad_sample_mode,
                )
            seen = 0
            steps = 0
            start = time.perf_counter()
            for _ in range(settings.epochs):
                for xb, yb in loader:
                    _step(module, optimiser, criterion, head, xb.to(device), yb.to(device))
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
    if engine is not None:
        history = tuple((float(s), float(r), int(k)) for s, r, k in engine.accountant.history)
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
            sample_rate=batch / n,
            batch_size=batch,
            epochs=settings.epochs,
            steps=steps,
            grad_sample_mode=settings.grad_sample_mode if engine is not None else None,
            device=str(device),
            seconds=seconds,
            samples_seen=seen,
            history=history,
            warnings=notes,
        ),
    )

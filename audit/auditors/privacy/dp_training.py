"""Training a torch module with DP-SGD, or without DP for reference.

DP training follows Opacus's ``make_private_with_epsilon``: the noise multiplier is found
for the target (epsilon, delta) over the planned epochs; batches are Poisson samples of the
training rows, as Opacus's sampler draws them (each row in each batch independently with
probability ``sample_rate`` = 1 / batches per epoch, :meth:`_Batches.poisson`), for every
engine alike; each row's gradient is clipped to
``max_grad_norm``; Gaussian noise is added to the clipped sum; the spent epsilon is read
from Opacus's accountant.  Per-row gradients (or their norms) come from one of two engines:

- a stack of linear layers and elementwise activations (the stand-ins, and audited networks
  of that shape) is clipped in one backward pass by :mod:`~audit.auditors.privacy.bookkeeping`,
  with Opacus's sampler, noise multiplier and accountant;
- any other network goes through Opacus's ``PrivacyEngine`` in the mode its layers allow
  (ghost clipping or per-sample-gradient hooks).

Non-private training uses the same model, optimiser, epochs and expected batch size with
shuffled batches, drawn exactly as a shuffling ``DataLoader`` draws them (tested).  Every
engine fetches a batch from tensors in one indexing operation on a tensor of row numbers:
no ``DataLoader`` iterator, no list of row numbers per batch.

The module is over 500 lines on purpose: the engines share one training job (its loop,
sampler, noise search and report), and splitting them would spread that job's state.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from audit.auditors.privacy.bookkeeping import (
    LinearStackGradients,
    has_tied_parameters,
    linear_stack,
    why_not_linear_stack,
)

__all__ = [
    "BOOKKEEPING",
    "ERR_UNREACHABLE_EPSILON",
    "ERR_NO_OPACUS",
    "GHOST_LAYERS",
    "Head",
    "TrainedModel",
    "TrainingReport",
    "TrainingSettings",
    "Unmeasurable",
    "choose_device",
    "ghost_compatible",
    "import_opacus",
    "layers_called_twice",
    "poisson_gaps",
    "poisson_schedule",
    "resolve_mode",
    "train_module",
]

_HOOK_NOISE = "Full backward hook is firing"
"""A torch notice on every step of Opacus's hooks about their inputs; not about privacy."""

_SECURE_RNG_NOTICE = "Secure RNG turned off"
"""Opacus's notice that its noise is pseudo-random: the auditor's limitations say so."""

ERR_UNREACHABLE_EPSILON = (
    "target_epsilon {epsilon:g} with delta {delta:g} cannot be reached in {epochs} epoch(s) at "
    "sample rate {rate:.4g}: Opacus's noise search found no noise multiplier for it ({detail}); "
    "raise target_epsilon or target_delta, or train fewer epochs"
)


class Unmeasurable(ValueError):
    """The data or settings cannot measure the cost of DP; the message is the report's reason."""


_SEARCH_NOISE = "Optimal order is the largest alpha"
"""The RDP accountant's notice on noise levels tried by the noise search (see
``_Job._noise_multiplier``)."""

Head = Literal["logit", "probability", "two_logits", "two_probabilities", "value"]
"""How the module's output is read: one logit or probability, two of them, or a value
(regression, trained with squared error)."""

BOOKKEEPING = "bookkeeping"
"""The per-sample-gradient mode of :mod:`~audit.auditors.privacy.bookkeeping` (not Opacus's)."""

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


def _loss(head: Head, reduction: str = "mean") -> Any:
    """The head's loss as a ``torch.nn`` loss module (ghost clipping resets its reduction)."""
    import torch

    class ProbabilityNLL(torch.nn.Module):
        """Negative log-likelihood of two class probabilities."""

        def __init__(self, reduction: str) -> None:
            super().__init__()
            self.reduction = reduction

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
    return losses[head](reduction=reduction)


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


def layers_called_twice(module: Any, sample: Any) -> bool:
    """Whether one forward pass of ``sample`` calls a layer with parameters more than once.

    This finds tied weights that a custom ``forward`` hides (a layer registered once and
    called twice), which :func:`~audit.auditors.privacy.bookkeeping.has_tied_parameters`
    cannot see.
    """
    import torch

    calls: dict[int, int] = {}
    handles = [
        layer.register_forward_hook(
            lambda layer, args, out: calls.__setitem__(id(layer), calls.get(id(layer), 0) + 1)
        )
        for layer in module.modules()
        if any(True for _ in layer.parameters(recurse=False))
    ]
    training = module.training
    try:
        with torch.no_grad():
            module.eval()  # no running statistics updated, no dropout drawn
            module(sample)
    finally:
        module.train(training)
        for handle in handles:
            handle.remove()
    return any(count > 1 for count in calls.values())


def resolve_mode(preference: str, module: Any, input_ndim: int = 2, sample: Any = None) -> str:
    """The per-sample-gradient mode used for ``module`` fed inputs of ``input_ndim`` dimensions.

    ``"auto"`` picks, in order:

    - ``"bookkeeping"`` for a stack of linear layers and elementwise activations on rows
      (:mod:`~audit.auditors.privacy.bookkeeping`): per-row gradient norms in closed form and
      the clipped sum in the same backward pass;
    - ``"ghost"`` (Opacus's ghost clipping) for any other network of several layers that
      all support it and share no parameters: per-row norms without per-row gradients, at
      the price of a second backward pass;
    - ``"hooks"`` (Opacus's per-sample gradients) otherwise, tied weights included (the
      hooks add each use's per-row gradient): registered twice, or, given a ``sample``
      batch of inputs, called twice in one forward pass (:func:`layers_called_twice`).

    Raises
    ------
    ValueError
        When ``"bookkeeping"`` is asked for a module that is not a linear stack.
    """
    if preference == BOOKKEEPING:
        why = why_not_linear_stack(module, input_ndim)
        if why is not None:
            raise ValueError(
                f"grad_sample_mode 'bookkeeping' needs linear layers and elementwise "
                f"activations on rows of features, and this network cannot: {why}"
            )
    if preference != "auto":
        return preference
    if linear_stack(module, input_ndim) is not None:
        return BOOKKEEPING
    trainable = [
        layer
        for layer in module.modules()
        if any(p.requires_grad for p in layer.parameters(recurse=False))
    ]
    if has_tied_parameters(module) or (sample is not None and layers_called_twice(module, sample)):
        return "hooks"
    return "ghost" if len(trainable) > 1 and ghost_compatible(module) else "hooks"


class _Batches:
    """Rows as tensors; a batch of row indices is fetched with one indexing operation.

    :meth:`shuffled` draws an epoch's batches from a generator as
    ``DataLoader(shuffle=True)`` draws them, row for row; :meth:`poisson` draws Poisson
    batches (the distribution of Opacus's ``DPDataLoader``, not its random stream).
    ``PrivacyEngine.make_private`` is handed a ``DataLoader``, whose ``__getitems__`` gets
    a whole batch of indices and returns it as a one-element list that :func:`_whole_batch`
    unwraps (an empty batch as an empty list).
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
        return [self.fetch(indices)]

    def fetch(self, indices: Any) -> tuple[Any, Any]:
        """The rows at ``indices`` (a list or tensor of row numbers) and their labels."""
        import torch

        rows = torch.as_tensor(indices, dtype=torch.long, device=self.inputs.device)
        return self.inputs.index_select(0, rows), self.labels.index_select(0, rows)

    def shuffled(self, batch: int, generator: Any) -> Iterator[tuple[Any, Any]]:
        """One epoch in shuffled batches of ``batch`` rows (the last one shorter).

        The draws are those of iterating ``DataLoader(shuffle=True, generator=generator)``:
        the iterator's base seed, one permutation, and a second one that torch's
        ``RandomSampler`` draws when it ends (for its ``n % n`` leftover rows), unused.
        """
        import torch

        n = len(self)
        _loader_seed(generator)
        for rows in torch.split(torch.randperm(n, generator=generator), batch):
            yield self.fetch(rows)
        torch.randperm(n, generator=generator)

    def poisson(self, sample_rate: float, steps: int, generator: Any) -> Iterator[tuple[Any, Any]]:
        """One epoch of ``steps`` Poisson batches: each row in each batch with ``sample_rate``.

        Every (batch, row) pair is taken independently with probability ``sample_rate``, as
        Opacus's ``UniformWithReplacementSampler`` takes it, but drawn as the gaps between
        taken pairs instead of one uniform number per pair: the pairs of the epoch in a row
        (batch by batch, row by row) form a sequence of Bernoulli trials, and the gaps
        between successes of such a sequence are independent geometric numbers.  Opacus
        draws rows x steps numbers per epoch (a 10,000-row table: 10,000 per step, half the
        instructions of a whole non-private step); this draws about ``rows`` (:func:`poisson_gaps`).
        An empty batch is two empty tensors.
        """
        import torch

        n = len(self)
        taken = poisson_gaps(sample_rate, steps * n, generator)
        batch, row = np.divmod(taken, n)
        ends = np.searchsorted(batch, np.arange(1, steps + 1)).tolist()
        for start, end in zip([0, *ends[:-1]], ends, strict=True):
            yield self.fetch(torch.from_numpy(row[start:end]))


def poisson_gaps(
    sample_rate: float, trials: int, generator: Any, *, chunk: int | None = None
) -> npt.NDArray[np.int64]:
    """The successes among ``trials`` Bernoulli trials of ``sample_rate``, in order.

    The first success is at a geometric number of trials (``P(k) = (1 - q)^(k - 1) q``), and
    each next one that many trials further, independently: torch's ``geometric_`` draws
    them from ``generator`` (in float64, exact for positions below 2^53), ``chunk`` at a
    time (by default a few standard deviations more than expected), until the trials are
    covered.  The chunk size changes how many numbers are drawn past the end, never which
    trials succeed.
    """
    import torch

    if sample_rate >= 1:  # one batch per epoch: every row, every time (geometric_ needs p < 1)
        return np.arange(trials, dtype=np.int64)
    if chunk is None:
        expected = trials * sample_rate
        chunk = int(expected + 6 * expected**0.5) + 16
    ends = torch.empty(chunk, dtype=torch.float64).geometric_(sample_rate, generator=generator)
    ends = ends.cumsum_(0)
    while ends[-1] <= trials:
        more = torch.empty(chunk, dtype=torch.float64).geometric_(sample_rate, generator=generator)
        ends = torch.cat([ends, more.cumsum_(0).add_(ends[-1])])
    # the k-th success ends k trials: its position is one less
    positions = ends.numpy()
    return positions[: np.searchsorted(positions, trials, side="right")].astype(np.int64) - 1


def _loader_seed(generator: Any) -> None:
    """Draw what a ``DataLoader`` iterator draws first from its generator: a base seed.

    A single-process loader never uses it, but drawing it keeps the batches that follow
    those of the loader.
    """
    import torch

    torch.empty((), dtype=torch.int64).random_(generator=generator)


def poisson_schedule(rows: int, batch_size: int) -> tuple[float, int]:
    """Opacus's sample rate and steps per epoch for ``rows`` in expected batches of ``batch_size``.

    ``DPDataLoader.from_data_loader`` samples at 1 / (batches per epoch of the shuffling
    loader) and takes ``int(1 / sample_rate)`` steps per epoch.
    """
    sample_rate = 1 / -(-rows // batch_size)
    return sample_rate, int(1 / sample_rate)


def _whole_batch(batch: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    return batch[0]


@dataclass(frozen=True)
class _Run:
    """What one training loop did, before it is turned into a :class:`TrainingReport`."""

    module: Any
    steps: int
    seen: int
    seconds: float
    sample_rate: float
    epsilon: float | None = None
    noise_multiplier: float | None = None
    history: tuple[tuple[float, float, int], ...] = ()


@dataclass(frozen=True, eq=False)
class _Job:
    """One training's fixed parts: the module, its rows as tensors, optimiser and loss."""

    module: Any
    rows: _Batches
    optimiser: Any
    criterion: Any
    head: Head
    settings: TrainingSettings
    batch: int
    generator: Any

    def timed(
        self, batches: Callable[[], Iterator[tuple[Any, Any]]], step: Callable[[Any, Any], None]
    ) -> _Run:
        """Run ``step`` on every batch of every epoch; count rows and steps, time the loop."""
        import torch

        seen = steps = 0
        start = time.perf_counter()
        for _ in range(self.settings.epochs):
            for xb, yb in batches():
                step(xb, yb)
                seen += len(xb)
                steps += 1
        if self.rows.inputs.device.type == "cuda":
            torch.cuda.synchronize()
        n = len(self.rows)
        return _Run(self.module, steps, seen, time.perf_counter() - start, self.batch / n)

    def plain(self) -> _Run:
        """Train without DP: every epoch a shuffled pass in batches of the expected size."""

        def step(xb: Any, yb: Any) -> None:
            _step(self.module, self.optimiser, self.criterion, self.head, xb, yb)

        return self.timed(lambda: self.rows.shuffled(self.batch, self.generator), step)

    def _loader(self) -> Any:
        """A shuffling loader of the expected batch size, for ``make_private``.

        Opacus's engines take their Poisson rate, expected batch size and accountant from it.
        """
        from torch.utils.data import DataLoader

        return DataLoader(
            self.rows,  # type: ignore[arg-type]
            batch_size=self.batch,
            shuffle=True,
            generator=self.generator,
            collate_fn=_whole_batch,
        )

    def _noise_multiplier(self, target_epsilon: float, sample_rate: float) -> float:
        """The noise for the target over the planned steps, as ``make_private_with_epsilon``.

        Its binary search tries noise levels far from the answer, where the RDP accountant
        warns that its best order is the largest; those warnings are about the trials, not
        about the training's accounting, so they are not passed on.
        """
        from opacus.accountants.utils import get_noise_multiplier

        settings = self.settings
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_SEARCH_NOISE)
            try:
                found = get_noise_multiplier(
                    target_epsilon=target_epsilon,
                    target_delta=settings.target_delta,
                    sample_rate=sample_rate,
                    epochs=settings.epochs,
                    accountant=settings.accountant,
                )
            except ValueError as exc:
                raise Unmeasurable(
                    ERR_UNREACHABLE_EPSILON.format(
                        epsilon=target_epsilon,
                        delta=settings.target_delta,
                        epochs=settings.epochs,
                        rate=sample_rate,
                        detail=" ".join(str(exc).split()),
                    )
                ) from exc
        return float(found)

    def bookkeeping(self, target_epsilon: float) -> _Run:
        """DP-SGD of a linear stack with :class:`LinearStackGradients`.

        The sampling (:meth:`_Batches.poisson`), noise multiplier and accounting are
        Opacus's, set up as ``make_private_with_epsilon`` sets them up.
        """
        import_opacus()
        from opacus.accountants.utils import create_accountant

        n = len(self.rows)
        sample_rate, steps = poisson_schedule(n, self.batch)
        noise_multiplier = self._noise_multiplier(target_epsilon, sample_rate)
        head = self.head
        criterion = _loss(head, reduction="sum")
        gradients = LinearStackGradients(
            linear_stack(self.module) or (),
            lambda out, labels: criterion(_squeeze(head, out), _target(head, labels)),
            max_grad_norm=self.settings.max_grad_norm,
            noise_multiplier=noise_multiplier,
            expected_batch_size=int(n * sample_rate),
        )

        def step(xb: Any, yb: Any) -> None:
            gradients(xb, yb)
            self.optimiser.step()

        run = self.timed(lambda: self.rows.poisson(sample_rate, steps, self.generator), step)
        # every step has the same noise and rate, so the accountant's history is one entry
        # of all the steps: what stepping it once per step builds (tested)
        accountant = create_accountant(mechanism=self.settings.accountant)
        if run.steps:
            accountant.history = [(noise_multiplier, sample_rate, run.steps)]
        return replace(
            run,
            sample_rate=sample_rate,
            epsilon=float(accountant.get_epsilon(self.settings.target_delta)),
            noise_multiplier=noise_multiplier,
            history=_history(accountant),
        )

    def opacus(self, target_epsilon: float, mode: str) -> _Run:
        """DP-SGD through Opacus's ``PrivacyEngine`` (any network its modes support).

        ``make_private`` sets up the noise, clipping and accountant from a shuffling loader;
        the batches are then :meth:`_Batches.poisson`'s, at the rate of the Poisson loader
        it returns, as in :meth:`bookkeeping`.
        """
        opacus = import_opacus()
        loader = self._loader()
        engine = opacus.PrivacyEngine(accountant=self.settings.accountant)
        criterion = self.criterion
        made = engine.make_private(
            module=self.module,
            optimizer=self.optimiser,
            data_loader=loader,
            criterion=criterion,
            noise_multiplier=self._noise_multiplier(target_epsilon, 1 / len(loader)),
            max_grad_norm=self.settings.max_grad_norm,
            poisson_sampling=True,
            grad_sample_mode=mode,
        )
        if mode == "ghost":
            module, optimiser, criterion, loader = made
        else:
            module, optimiser, loader = made

        def step(xb: Any, yb: Any) -> None:
            _step(module, optimiser, criterion, self.head, xb, yb)

        sample_rate, steps = poisson_schedule(len(self.rows), self.batch)
        assert (sample_rate, steps) == (loader.sample_rate, len(loader))  # as Opacus's loader
        run = self.timed(lambda: self.rows.poisson(sample_rate, steps, self.generator), step)
        remove_hooks = getattr(module, "remove_hooks", None)
        if callable(remove_hooks):
            remove_hooks()
        return replace(
            run,
            module=getattr(module, "_module", module),
            # Opacus samples at 1 / (batches per epoch), which can differ from batch / n
            sample_rate=float(loader.sample_rate),
            epsilon=float(engine.get_epsilon(self.settings.target_delta)),
            noise_multiplier=float(optimiser.noise_multiplier),
            history=_history(engine.accountant),
        )


def _history(accountant: Any) -> tuple[tuple[float, float, int], ...]:
    return tuple((float(s), float(r), int(k)) for s, r, k in accountant.history)


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
        A fresh :class:`torch.nn.Module`; it is trained in place.
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

    Raises
    ------
    ValueError
        When the asked-for per-sample-gradient mode cannot train this module.
    """
    import torch

    n = len(inputs)
    device = torch.device(settings.device)
    private = target_epsilon is not None
    mode = None
    if private:
        probe = torch.from_numpy(inputs[:2]) if len(inputs) else None
        mode = resolve_mode(settings.grad_sample_mode, module, inputs.ndim, sample=probe)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        module = module.to(device).train()
        job = _Job(
            module=module,
            rows=_Batches(
                torch.from_numpy(inputs).to(device),
                torch.from_numpy(np.asarray(labels)).to(device),
            ),
            optimiser=torch.optim.Adam(module.parameters(), lr=settings.learning_rate),
            criterion=_loss(head),
            head=head,
            settings=settings,
            batch=max(1, min(settings.batch_size, n)),
            generator=torch.Generator().manual_seed(settings.seed),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message=_HOOK_NOISE)
            warnings.filterwarnings("ignore", message=_SECURE_RNG_NOTICE)
            if target_epsilon is None:
                run = job.plain()
            elif mode == BOOKKEEPING:
                run = job.bookkeeping(target_epsilon)
            else:
                run = job.opacus(target_epsilon, str(mode))
    notes = tuple(sorted({" ".join(str(w.message).split())[:200] for w in caught}))
    return TrainedModel(
        module=run.module.to("cpu").eval(),
        report=TrainingReport(
            private=private,
            target_epsilon=target_epsilon,
            epsilon=run.epsilon,
            delta=settings.target_delta if private else None,
            accountant=settings.accountant if private else None,
            noise_multiplier=run.noise_multiplier,
            max_grad_norm=settings.max_grad_norm if private else None,
            sample_rate=run.sample_rate,
            batch_size=job.batch,
            epochs=settings.epochs,
            steps=run.steps,
            grad_sample_mode=mode,
            device=str(device),
            seconds=run.seconds,
            samples_seen=run.seen,
            history=run.history,
            warnings=notes,
        ),
    )

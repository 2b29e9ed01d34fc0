"""Benchmark: DP-SGD training throughput against non-private training, measured in one run.

Encodes UCI Adult with the privacy auditor's stand-in encoding (one-hot categories,
standardised numbers) and trains the same model on the same rows, per device and
per-sample-gradient mode: without DP (shuffled batches) and with DP-SGD (Poisson batches at
Opacus's rate, per-sample clipping, noise for the target epsilon).  Both go through the same
``train_module`` (same batch fetching, optimiser, epochs and expected batch size); training
time only: encoding and the noise search are outside the timed loop.

Each configuration is first run once untimed (warm-up: torch's lazy imports and first
allocations would otherwise be charged to whichever runs first), then ``--repeats`` times,
non-private and DP interleaved so that load from other processes hits both alike.  Printed:
the best and the median rows per second of each; the DP overhead (DP time / non-private
time) of the best runs, which is least disturbed by other processes; and the overhead of
each interleaved pair as median and range.  Target for the book-keeping engine: overhead
at most 1.25x.  CPU always, CUDA when available.  ``--threads`` sets torch's intra-op
threads for both sides alike (default: torch's own choice).

    python benchmarks/privacy.py                       # ~10k rows, 3 epochs, logistic regression
    python benchmarks/privacy.py --hidden 64 --modes bookkeeping hooks ghost --repeats 7

``benchmark(quick)`` gives ``run.py`` two rows per model (logistic regression, 64-unit MLP):
DP rows/s against non-private rows/s with the ``auto`` engine (book-keeping clipping for
these linear stacks), target ratio >= 0.8 (overhead at most 1.25x, :data:`MAX_OVERHEAD`);
and with the Opacus engine the same model would otherwise use (hooks, ghost clipping), for
reference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from audit.auditors.privacy import TabularEncoding, TrainingSettings, train_module
from audit.auditors.privacy.dp_training import TrainingReport
from audit.auditors.privacy.models import stand_in_module

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rows import Row, throughput  # beside this file

ADULT = Path(__file__).resolve().parents[1] / "examples" / "data" / "adult.csv"
FEATURES = [
    "age",
    "workclass",
    "education-num",
    "marital-status",
    "occupation",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
]
MODES = ["auto", "bookkeeping", "hooks", "ghost", "ew", "functorch"]
OPACUS_REFERENCE = {0: "hooks", 64: "ghost"}
"""Per model, the Opacus engine ``auto`` would use without book-keeping: shown for reference."""
MAX_OVERHEAD = 1.25
"""Target: DP training time at most this many times the non-private time (book-keeping)."""


@dataclass(frozen=True)
class Measured:
    """Interleaved non-private and DP runs of one configuration."""

    mode: str
    """The per-sample-gradient mode asked for."""
    used: str
    """The mode Opacus ran (what ``auto`` resolved to)."""
    plain: list[TrainingReport]
    private: list[TrainingReport]

    @property
    def best_overhead(self) -> float:
        """DP time / non-private time of the fastest run of each."""
        return min(q.seconds for q in self.private) / min(p.seconds for p in self.plain)

    @property
    def pair_overheads(self) -> list[float]:
        """DP time / non-private time of each interleaved pair."""
        return [q.seconds / p.seconds for p, q in zip(self.plain, self.private, strict=True)]

    @property
    def epsilon(self) -> float:
        """Epsilon spent by the DP runs."""
        return self.private[0].epsilon or 0.0


def adult(rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` seeded rows of Adult, encoded as the stand-in encodes them, and 0/1 labels."""
    frame = pd.read_csv(ADULT).sample(rows, random_state=0).reset_index(drop=True)
    x = TabularEncoding.fit(frame, FEATURES)(frame)
    y = (frame["income"].astype(str).str.strip() == ">50K").to_numpy(dtype=np.int64)
    return x, y


def _train(
    x: np.ndarray, y: np.ndarray, settings: TrainingSettings, hidden: int, epsilon: float | None
) -> TrainingReport:
    torch.manual_seed(0)  # the same initial weights for every run
    return train_module(
        stand_in_module(x.shape[1], hidden),
        x,
        y,
        head="logit",
        settings=settings,
        target_epsilon=epsilon,
    ).report


def measure(
    x: np.ndarray,
    y: np.ndarray,
    *,
    device: str,
    mode: str,
    hidden: int,
    epochs: int = 3,
    batch_size: int = 256,
    epsilon: float = 3.0,
    repeats: int = 5,
) -> Measured:
    """A warm-up pair, then ``repeats`` interleaved non-private and DP trainings."""
    settings = TrainingSettings(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=0.05,
        max_grad_norm=1.0,
        target_delta=1e-5,
        accountant="rdp",
        grad_sample_mode=mode,
        device=device,
        seed=0,
    )
    _train(x, y, settings, hidden, None)
    used = _train(x, y, settings, hidden, epsilon).grad_sample_mode or mode
    plain: list[TrainingReport] = []
    private: list[TrainingReport] = []
    for _ in range(repeats):
        plain.append(_train(x, y, settings, hidden, None))
        private.append(_train(x, y, settings, hidden, epsilon))
    return Measured(mode, used, plain, private)


def _rates(reports: list[TrainingReport]) -> tuple[float, float]:
    """Best and median rows per second."""
    rates = [r.samples_per_second for r in reports]
    return max(rates), statistics.median(rates)


def _devices() -> list[str]:
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def benchmark(quick: bool) -> list[Row]:
    """DP against non-private training throughput, logistic regression and a 64-unit MLP.

    Per model: the ``auto`` engine (book-keeping for these linear stacks), which carries the
    :data:`MAX_OVERHEAD` target (DP rows/s at least 1 / 1.25 = 0.8x non-private), and Opacus's
    own engine for the same model as a reference without a target.
    """
    rows, repeats = (3000, 3) if quick else (10_000, 7)
    x, y = adult(rows)
    found = []
    for device in _devices():
        for hidden, reference in OPACUS_REFERENCE.items():
            model = "logistic regression" if hidden == 0 else f"MLP {hidden}"
            for mode in ("auto", reference):
                got = measure(x, y, device=device, mode=mode, hidden=hidden, repeats=repeats)
                dp_best, dp_median = _rates(got.private)
                best, median = _rates(got.plain)
                pairs = got.pair_overheads
                engine = got.used if mode == "auto" else f"Opacus {got.used}, reference"
                found.append(
                    throughput(
                        f"DP-SGD training, {model}, {rows} Adult rows x 3 epochs ({device}, "
                        f"{engine})",
                        dp_best,
                        "rows/s",
                        "non-private training, same model, data, epochs",
                        best,
                        at_least=1 / MAX_OVERHEAD if mode == "auto" else None,
                        notes=f"best of {repeats} interleaved, {torch.get_num_threads()} "
                        f"threads; overhead {got.best_overhead:.2f}x "
                        f"{f'(target <= {MAX_OVERHEAD:g}x) ' if mode == 'auto' else ''}"
                        f"best, {statistics.median(pairs):.2f}x median pair "
                        f"({min(pairs):.2f}-{max(pairs):.2f}); medians {dp_median:,.0f} vs "
                        f"{median:,.0f} rows/s; epsilon {got.epsilon:.3f}",
                    )
                )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=0, help="0: logistic regression")
    parser.add_argument("--epsilon", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=["auto"], choices=MODES)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads, both sides (0: torch's)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    x, y = adult(args.rows)
    print(
        f"{len(x)} rows x {x.shape[1]} inputs, {args.epochs} epochs, batch {args.batch_size}, "
        f"{'logistic regression' if args.hidden == 0 else f'MLP {args.hidden}'}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{args.repeats} interleaved repeats after a warm-up"
    )
    header = (
        f"{'device':<6} {'mode':<15} {'non-DP rows/s best|median':>26} "
        f"{'DP rows/s best|median':>22} {'overhead best':>14} {'pairs median (range)':>21} "
        f"{'epsilon':>8}"
    )
    print(header)
    print("-" * len(header))
    for device in _devices():
        for mode in args.modes:
            got = measure(
                x,
                y,
                device=device,
                mode=mode,
                hidden=args.hidden,
                epochs=args.epochs,
                batch_size=args.batch_size,
                epsilon=args.epsilon,
                repeats=args.repeats,
            )
            label = mode if mode == got.used else f"{mode} ({got.used})"
            fast, typical = _rates(got.plain)
            dp_fast, dp_typical = _rates(got.private)
            pairs = got.pair_overheads
            spread = f"{statistics.median(pairs):.2f}x ({min(pairs):.2f}-{max(pairs):.2f})"
            print(
                f"{device:<6} {label:<15} {fast:>12,.0f} | {typical:>11,.0f} "
                f"{dp_fast:>10,.0f} | {dp_typical:>9,.0f} {got.best_overhead:>13.2f}x "
                f"{spread:>21} {got.epsilon:>8.3f}"
            )
            if got.used == "bookkeeping":
                met = "met" if got.best_overhead <= MAX_OVERHEAD else "not met"
                print(f"{'':<6} target: overhead at most {MAX_OVERHEAD:g}x (best runs): {met}")


if __name__ == "__main__":
    main()

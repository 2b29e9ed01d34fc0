"""Benchmark: DP-SGD training throughput (Opacus) against non-private training, one run.

Encodes UCI Adult with the privacy auditor's stand-in encoding (one-hot categories,
standardised numbers) and trains the same model on the same rows twice per device and
per-sample-gradient mode: without DP (shuffled batches) and with DP-SGD (Poisson batches,
per-sample clipping, noise for the target epsilon).  Training time only: encoding and the
noise search are outside the timed loop.  CPU always, CUDA when available.  Prints rows per
second and the DP overhead (non-private throughput / DP throughput; target: at most 2x).

    python benchmarks/privacy.py                       # ~10k rows, 3 epochs, logistic regression
    python benchmarks/privacy.py --rows 32561 --hidden 64 --modes hooks ew
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from audit.auditors.privacy import TabularEncoding, TrainingSettings, train_module
from audit.auditors.privacy.models import stand_in_module

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=0, help="0: logistic regression")
    parser.add_argument("--epsilon", type=float, default=3.0)
    parser.add_argument(
        "--modes", nargs="+", default=["hooks"], choices=["hooks", "ew", "functorch"]
    )
    args = parser.parse_args()

    frame = pd.read_csv(ADULT).sample(args.rows, random_state=0).reset_index(drop=True)
    encoding = TabularEncoding.fit(frame, FEATURES)
    x = encoding(frame)
    y = (frame["income"].astype(str).str.strip() == ">50K").to_numpy(dtype=np.int64)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"{len(x)} rows x {x.shape[1]} inputs, {args.epochs} epochs, batch {args.batch_size}, "
        f"{'logistic regression' if args.hidden == 0 else f'MLP {args.hidden}'}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    header = (
        f"{'device':<6} {'mode':<10} {'non-DP rows/s':>14} {'DP rows/s':>12} "
        f"{'overhead':>9} {'epsilon':>8}"
    )
    print(header)
    print("-" * len(header))
    for device in devices:
        for mode in args.modes:
            settings = TrainingSettings(
                epochs=args.epochs,
                batch_size=args.batch_size,
                learning_rate=0.05,
                max_grad_norm=1.0,
                target_delta=1e-5,
                accountant="rdp",
                grad_sample_mode=mode,
                device=device,
                seed=0,
            )
            plain = train_module(
                stand_in_module(x.shape[1], args.hidden),
                x,
                y,
                head="logit",
                settings=settings,
                target_epsilon=None,
            ).report
            private = train_module(
                stand_in_module(x.shape[1], args.hidden),
                x,
                y,
                head="logit",
                settings=settings,
                target_epsilon=args.epsilon,
            ).report
            ratio = plain.samples_per_second / private.samples_per_second
            print(
                f"{device:<6} {mode:<10} {plain.samples_per_second:>14,.0f} "
                f"{private.samples_per_second:>12,.0f} {ratio:>8.2f}x {private.epsilon:>8.3f}"
            )


if __name__ == "__main__":
    main()

"""Benchmark: Kernel SHAP of a model served over local HTTP, this auditor vs a plain Captum loop.

Trains a scikit-learn pipeline on UCI Adult, serves it on 127.0.0.1 (MLflow protocol), and
explains ``--rows`` held-out rows three ways, in the same run:

* a plain Captum loop: ``KernelShap.attribute`` row by row, its forward function posting
  every call to the endpoint, with Captum's default ``perturbations_per_eval=1``;
* the same loop with ``perturbations_per_eval=64``;
* the explanations auditor's engine, which batches across rows as well as perturbations.

Each row of the loops is seeded like the engine's run, so the attributions must agree.
Prints requests sent, rows evaluated, seconds, rows explained per second and the largest
difference in attribution from the engine's.

    python benchmarks/explanations.py --rows 200 --samples 200
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from captum.attr import KernelShap
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.http import http_adapter
from audit.auditors.explanations import ColumnSpace, ModelForward, baseline_row, explain_black_box
from audit.auditors.explanations.perturbation import seeded
from audit.core.context import Task
from audit.testing.endpoint import serve_model, sklearn_predict_fn

ADULT = Path(__file__).resolve().parents[1] / "examples" / "data" / "adult.csv"
CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC


def _model(train: pd.DataFrame) -> Pipeline:
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(train[FEATURES], train["income"])


def _plain_loop(url: str, space: ColumnSpace, samples: int, per_eval: int, seed: int) -> tuple:
    adapter = http_adapter(url, batch_size=100_000)  # one request per forward call
    forward = ModelForward(
        adapter, space, rows_per_call=100_000, task=Task.BINARY, positive_label=">50K"
    )
    inputs = torch.from_numpy(space.inputs())
    baseline = torch.from_numpy(space.baseline())
    mask = torch.arange(len(space.columns)).unsqueeze(0)
    started = time.perf_counter()
    out = np.empty((space.n_rows, len(space.columns)))
    for row in range(space.n_rows):
        with seeded(seed):
            values = KernelShap(forward).attribute(
                inputs[row : row + 1],
                baselines=baseline,
                feature_mask=mask,
                n_samples=samples,
                perturbations_per_eval=per_eval,
            )
        out[row] = values.numpy()[0]
    seconds = time.perf_counter() - started
    requests = adapter.requests_sent
    adapter.close()
    return out, requests, forward.count.rows, seconds


def _engine(url: str, space: ColumnSpace, samples: int, seed: int) -> tuple:
    adapter = http_adapter(url)  # 1,000 rows per request, the adapter's default
    forward = ModelForward(
        adapter, space, rows_per_call=adapter.batch_size, task=Task.BINARY, positive_label=">50K"
    )
    started = time.perf_counter()
    out = explain_black_box(forward, "kernel_shap", n_samples=samples, seed=seed)
    seconds = time.perf_counter() - started
    requests = adapter.requests_sent
    adapter.close()
    return out, requests, forward.count.rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="rows explained (default 200)")
    parser.add_argument("--samples", type=int, default=200, help="Kernel SHAP coalitions")
    parser.add_argument(
        "--loop-rows",
        type=int,
        default=10,
        help="rows of the perturbations_per_eval=1 loop, which sends one request per "
        "coalition (default 10; its rates are per row, so they compare)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    adult = pd.read_csv(ADULT).sample(frac=1.0, random_state=1).reset_index(drop=True)
    model = _model(adult.iloc[:5000])
    held_out = adult.iloc[5000 : 5000 + args.rows]
    base, _, _ = baseline_row(adult.iloc[:5000], FEATURES, "median")
    space = ColumnSpace.build(held_out[FEATURES], base)
    few = ColumnSpace.build(held_out[FEATURES].iloc[: min(args.loop_rows, args.rows)], base)

    with serve_model(sklearn_predict_fn(model), respond="records") as served:
        url = served.mlflow_url
        ours = _engine(url, space, args.samples, args.seed)
        loops = {
            "plain Captum loop, perturbations_per_eval=1": _plain_loop(
                url, few, args.samples, 1, args.seed
            ),
            "plain Captum loop, perturbations_per_eval=64": _plain_loop(
                url, space, args.samples, 64, args.seed
            ),
        }

    print(
        f"Kernel SHAP, {args.samples} samples, {args.rows} Adult rows, {len(FEATURES)} columns, "
        "sklearn pipeline served over local HTTP (MLflow)"
    )
    header = (
        f"{'':46} {'rows':>5} {'requests':>9} {'req/row':>8} {'rows sent':>10} "
        f"{'seconds':>8} {'rows/s':>8} {'max |diff|':>11}"
    )
    print(header)
    print("-" * len(header))
    table = {**loops, "explanations auditor (batched across rows)": ours}
    for name, (values, requests, rows, seconds) in table.items():
        n = len(values)
        diff = float(np.abs(values - ours[0][:n]).max())
        print(
            f"{name:46} {n:>5} {requests:>9,} {requests / n:>8.1f} {rows:>10,} "
            f"{seconds:>8.2f} {n / seconds:>8.1f} {diff:>11.2e}"
        )
    mine_per_row, mine_rate = ours[1] / args.rows, args.rows / ours[3]
    for name, (values, requests, _, seconds) in loops.items():
        n = len(values)
        print(
            f"auditor vs {name}: {requests / n / mine_per_row:.0f}x fewer requests per row, "
            f"{mine_rate / (n / seconds):.1f}x more rows/s"
        )


if __name__ == "__main__":
    main()

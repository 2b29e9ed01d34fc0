"""Benchmark: Kernel SHAP of a model served over local HTTP, this auditor vs a plain Captum loop.

Trains a scikit-learn pipeline on UCI Adult, serves it on 127.0.0.1 (MLflow protocol), and
explains ``--rows`` held-out rows three ways, in the same run:

* a plain Captum loop: ``KernelShap.attribute`` row by row, its forward function posting
  every call to the endpoint, with Captum's default ``perturbations_per_eval=1``;
* the same loop with ``perturbations_per_eval=64``;
* the explanations auditor's engine, which batches across rows as well as perturbations.

Each row of the loops is seeded like the engine's run, so the attributions must agree.
Prints requests sent, rows evaluated, seconds, rows explained per second and the largest
difference in attribution from the engine's.  ``benchmark(quick)`` gives the same
comparison as rows for ``benchmarks/run.py``.

    python benchmarks/explanations.py --rows 200 --samples 200
"""

from __future__ import annotations

import argparse
import sys
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rows import Row, throughput  # beside this file

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
DEFAULT_LOOP = "plain Captum loop, perturbations_per_eval=1"
TUNED_LOOP = "plain Captum loop, perturbations_per_eval=64"
ENGINE = "explanations auditor (batched across rows)"


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


Table = dict[str, tuple[np.ndarray, int, int, float]]
"""Per engine: attributions, requests sent, rows sent, seconds."""


def measure(rows: int, samples: int, loop_rows: int, seed: int) -> Table:
    """Explain ``rows`` held-out Adult rows with the engine and both Captum loops."""
    adult = pd.read_csv(ADULT).sample(frac=1.0, random_state=1).reset_index(drop=True)
    model = _model(adult.iloc[:5000])
    held_out = adult.iloc[5000 : 5000 + rows]
    base, _, _ = baseline_row(adult.iloc[:5000], FEATURES, "median")
    space = ColumnSpace.build(held_out[FEATURES], base)
    few = ColumnSpace.build(held_out[FEATURES].iloc[: min(loop_rows, rows)], base)

    with serve_model(sklearn_predict_fn(model), respond="records") as served:
        url = served.mlflow_url
        ours = _engine(url, space, samples, seed)
        loops = {
            DEFAULT_LOOP: _plain_loop(url, few, samples, 1, seed),
            TUNED_LOOP: _plain_loop(url, space, samples, 64, seed),
        }
    return {**loops, ENGINE: ours}


def benchmark(quick: bool) -> list[Row]:
    """Requests per row and rows/s against both Captum loops, and the attributions' agreement.

    Targets (issue 7): at least 100x fewer requests than the default loop and 10x fewer
    than the tuned one, faster than both, with the same attributions.
    """
    rows, samples, loop_rows = (20, 100, 3) if quick else (200, 200, 10)
    table = measure(rows, samples, loop_rows, seed=0)
    ours, ours_requests, _, ours_s = table[ENGINE]
    ours_per_row, ours_rate = ours_requests / len(ours), len(ours) / ours_s
    found = []
    for name, fewer in ((DEFAULT_LOOP, 100), (TUNED_LOOP, 10)):
        values, requests, _, seconds = table[name]
        n = len(values)
        diff = float(np.abs(values - ours[:n]).max())
        what = f"Kernel SHAP over local HTTP, {samples} samples, {rows} Adult rows"
        note = f"max attribution diff {diff:.1e}; loop on {n} rows"
        found.append(
            throughput(
                f"{what}: requests per row",
                1 / ours_per_row,
                "rows/request",
                name,
                n / requests,
                at_least=fewer,
                notes=f"{ours_per_row:.2f} vs {requests / n:.1f} requests per row; {note}",
            )
        )
        found.append(
            throughput(
                f"{what}: rows/s", ours_rate, "rows/s", name, n / seconds, at_least=1, notes=note
            )
        )
    return found


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

    table = measure(args.rows, args.samples, args.loop_rows, args.seed)
    ours = table[ENGINE]
    loops = {name: table[name] for name in (DEFAULT_LOOP, TUNED_LOOP)}

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

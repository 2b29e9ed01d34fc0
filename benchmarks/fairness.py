"""Fairness auditor against Fairlearn's MetricFrame, measured side by side in one run.

The same synthetic decision log (three string group columns, 48 intersectional groups)
goes through maas-audit's fairness auditor and through MetricFrame with the same six
metrics; the numbers are checked to agree to 1e-12 before any time is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task

SENSITIVE = ["sex", "race", "age_band"]
FAIRLEARN_METRICS: dict[str, Callable[..., float]] = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": lambda t, p: precision_score(t, p, zero_division=0),
}


class _NoModel:
    batch_size = 1

    @property
    def input_columns(self) -> None:
        return None

    def predict_batch(self, rows: pd.DataFrame) -> Any:
        raise AssertionError("not called")

    def describe(self) -> dict[str, str]:
        return {"kind": "none", "location": "benchmark"}

    def fingerprint(self) -> str:
        return "0" * 64


def decision_log(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A synthetic decision log: 2 x 6 x 4 = 48 intersectional groups, rates that differ."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["Female", "Male"], rows),
            "race": rng.choice(["A", "B", "C", "D", "E", "F"], rows),
            "age_band": rng.choice(["<25", "25-40", "40-60", "60+"], rows),
        }
    )
    y_true = rng.binomial(1, 0.3, rows).astype(np.int8)
    bias = np.where(frame["sex"].to_numpy() == "Female", -0.1, 0.0)
    y_pred = (rng.random(rows) < np.clip(0.25 + 0.4 * y_true + bias, 0, 1)).astype(np.int8)
    return frame, y_true, y_pred


def _ours(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, bootstrap: int) -> Any:
    context = AuditContext(
        data=frame,
        roles=ColumnRoles(target="y", sensitive=tuple(SENSITIVE), features=(), task=Task.BINARY),
        outcomes=Outcomes(task=Task.BINARY, y_true=y_true, y_pred=y_pred),
        model=_NoModel(),
    )
    config = FairnessConfig(bootstrap=bootstrap, min_group_size=1)
    return FairnessAuditor().run(context, config)


def _metricframe(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray) -> MetricFrame:
    return MetricFrame(
        metrics=FAIRLEARN_METRICS,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=frame[SENSITIVE],
    )


def _check_agreement(output: Any, reference: MetricFrame) -> float:
    """Largest absolute difference between the two engines over every group and metric."""
    worst = 0.0
    by_group = reference.by_group
    for metric in FAIRLEARN_METRICS:
        result = next(m for m in output.find(metric) if m.grouping == tuple(SENSITIVE))
        ours = {g.group: g.value for g in result.groups}
        for key, value in by_group[metric].items():
            label = ", ".join(f"{c}={v}" for c, v in zip(SENSITIVE, key, strict=True))
            worst = max(worst, abs(ours[label] - float(value)))
    return worst


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def run(sizes: list[int]) -> list[dict[str, Any]]:
    """One row per size: seconds for each engine, their ratio, and their largest disagreement."""
    rows = []
    for size in sizes:
        frame, y_true, y_pred = decision_log(size)
        ours_s, output = _timed(_ours, frame, y_true, y_pred, bootstrap=0)
        anchor_s, reference = _timed(_metricframe, frame, y_true, y_pred)
        difference = _check_agreement(output, reference)
        if difference > 1e-12:
            raise SystemExit(f"engines disagree by {difference} at {size} rows")
        rows.append(
            {
                "benchmark": f"fairness, 6 metrics x 3 groupings+intersection, {size:,} rows",
                "ours_s": ours_s,
                "anchor": "fairlearn MetricFrame (intersection only)",
                "anchor_s": anchor_s,
                "max_abs_difference": difference,
            }
        )
    return rows

"""Fairness group metrics: the auditor against Fairlearn's MetricFrame and against the floor.

The same synthetic decision log (three string group columns, 2 x 6 x 4 = 48 intersectional
groups) goes, in one run, through

* maas-audit's fairness auditor end to end (each column and their intersection, six rates,
  disparities, findings), from string columns and from categorical columns;
* Fairlearn's ``MetricFrame`` with the same six metrics on the intersection;
* the floor: one ``np.bincount`` over the combined (group, label, prediction) code when the
  group columns are already integer codes, i.e. the least work any count-based engine does;
* the engine's own counts of the four groupings from categorical columns (``encode_values``,
  one ``joint_confusion_counts`` pass, sums of the joint table, the six rates), like for
  like with the floor;

and again with bootstrap confidence intervals (``MetricFrame(n_boot=...)`` builds one
MetricFrame per resample).  Numbers are checked to agree (to 1e-12 with MetricFrame, exactly
with the floor) before any time is reported; the coverage of the 95% intervals is checked on
simulated data whose true rates are known.  Every time is the minimum of at least ``repeats``
runs, more for fast calls (up to 50, until 1 s is spent); MetricFrame runs once when it takes
over 10 s.

    python benchmarks/fairness.py --sizes 100000,1000000 --metricframe-max 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rows import Row, speedup  # beside this file

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.auditors.fairness.bootstrap import percentile_interval, resample_counts
from audit.auditors.fairness.counts import (
    RATES,
    confusion_counts,
    joint_confusion_counts,
    rate_values,
)
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.groups import encode_values, make_grouping

TARGET_ROWS = 10_000_000
"""The scale the speed targets are set at (1,000x MetricFrame; within 2x of the floor):
below it the auditor's fixed costs of a few milliseconds dominate the comparisons."""
SENSITIVE = ["sex", "race", "age_band"]
LEVELS = {
    "sex": ["Female", "Male"],
    "race": ["A", "B", "C", "D", "E", "F"],
    "age_band": ["<25", "25-40", "40-60", "60+"],
}
FAIRLEARN_METRICS: dict[str, Callable[..., float]] = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": lambda t, p: precision_score(t, p, zero_division=0),
}
SIZES = (100_000, 1_000_000, 10_000_000)
MF = "MetricFrame, intersection only"
FLOOR = "floor: one bincount of int codes"
MF_SLOW_S = 10.0
"""MetricFrame runs that take longer than this are not repeated."""
MIN_SPENT_S = 1.0
"""Fast calls are repeated until this much time is spent, and the fastest is reported."""


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
    frame = pd.DataFrame({column: rng.choice(LEVELS[column], rows) for column in SENSITIVE})
    y_true = rng.binomial(1, 0.3, rows).astype(np.int8)
    bias = np.where(frame["sex"].to_numpy() == "Female", -0.1, 0.0)
    y_pred = (rng.random(rows) < np.clip(0.25 + 0.4 * y_true + bias, 0, 1)).astype(np.int8)
    return frame, y_true, y_pred


def _ours(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, bootstrap: int) -> Any:
    """The fairness auditor end to end, from the DataFrame to its findings."""
    context = AuditContext(
        data=frame,
        roles=ColumnRoles(target="y", sensitive=tuple(SENSITIVE), features=(), task=Task.BINARY),
        outcomes=Outcomes(task=Task.BINARY, y_true=y_true, y_pred=y_pred),
        model=_NoModel(),
    )
    config = FairnessConfig(bootstrap=bootstrap, min_group_size=1)
    return FairnessAuditor().run(context, config)


def _metricframe(
    frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, n_boot: int | None = None
) -> MetricFrame:
    return MetricFrame(
        metrics=FAIRLEARN_METRICS,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=frame[SENSITIVE],
        n_boot=n_boot,
        ci_quantiles=[0.025, 0.975] if n_boot else None,
        random_state=0 if n_boot else None,
    )


def _floor(codes: Sequence[np.ndarray], y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """One bincount over the combined (group, label, prediction) code of integer codes."""
    cell = codes[0]
    for column, more in zip(SENSITIVE[1:], codes[1:], strict=True):
        cell = cell * len(LEVELS[column]) + more
    groups = int(np.prod([len(LEVELS[c]) for c in SENSITIVE]))
    return np.bincount(cell * 4 + 2 * y_true + y_pred, minlength=4 * groups).reshape(groups, 4)


def _floor_bootstrap(
    codes: Sequence[np.ndarray], y_true: np.ndarray, y_pred: np.ndarray, n_boot: int
) -> np.ndarray:
    """The floor, then ``n_boot`` multinomial draws of every group's four cells."""
    counts = _floor(codes, y_true, y_pred)
    sizes = counts.sum(axis=1)
    rng = np.random.default_rng(0)
    return rng.multinomial(sizes, counts / sizes[:, None], size=(n_boot, len(sizes)))


def _engine(frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The engine's counts of all four groupings and their six rates, without the findings.

    ``encode_values`` per column, one ``joint_confusion_counts`` pass over the rows, then
    each grouping's counts as sums of the joint table (the intersection: its present
    combinations).  Returns the intersection's counts, to compare with the floor's.
    """
    encoded = [encode_values(frame[column]) for column in SENSITIVE]
    widths = [len(known) + has_missing for _, known, has_missing in encoded]
    joint = joint_confusion_counts([codes for codes, _, _ in encoded], widths, y_true, y_pred)
    axes = range(len(widths))
    alone = [joint.sum(axis=tuple(a for a in axes if a != axis)) for axis in axes]
    both = joint.reshape(-1, 4)
    intersection = both[both.any(axis=1)]
    for counts in [*alone, intersection]:
        for rate in RATES:
            rate_values(counts, rate)
    return intersection


def _best(
    repeats: int, fn: Callable[..., Any], *args: Any, slow_s: float = float("inf"), **kwargs: Any
) -> tuple[float, Any]:
    """Minimum wall time of at least ``repeats`` calls, more (up to 50) until 1 s is spent.

    A call taking over ``slow_s`` is not repeated.
    """
    best, spent, calls, value = float("inf"), 0.0, 0, None
    while calls < max(1, repeats) or (spent < MIN_SPENT_S and calls < 50):
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
        if best > slow_s:
            break
    return best, value


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


def _values(output: Any) -> list[tuple[str, str, int, Any]]:
    return [
        (m.metric, g.group, g.count, g.value)
        for m in output.metrics
        if m.grouping == tuple(SENSITIVE)
        for g in m.groups
    ]


def coverage(
    n_datasets: int = 400, n_boot: int = 100, level: float = 0.95, seed: int = 0
) -> dict[str, float]:
    """Share of the auditor's bootstrap intervals that cover the true rate, per metric.

    Datasets are drawn from known per-group cell probabilities (those of the 1e5-row
    decision log, with its group sizes); each is bootstrapped like the auditor does
    (``resample_counts`` then ``percentile_interval``), all at once.
    """
    frame, y_true, y_pred = decision_log(100_000, seed=seed)
    grouping = make_grouping(frame, SENSITIVE)
    truth = confusion_counts(grouping.codes, grouping.n_groups, y_true, y_pred)
    sizes = truth.sum(axis=1)
    rng = np.random.default_rng(seed + 1)
    drawn = rng.multinomial(sizes, truth / sizes[:, None], size=(n_datasets, len(sizes)))
    flat = drawn.reshape(-1, 4)  # every dataset's groups side by side
    resampled = resample_counts(flat, n_boot, rng)
    shares = {}
    for rate in RATES:
        true_value = np.tile(rate_values(truth, rate), n_datasets)
        low, high = percentile_interval(rate_values(resampled, rate), level)
        reported = ~np.isnan(low)
        covered = (low <= true_value) & (true_value <= high)
        shares[rate.name] = float(covered[reported].mean())
    return shares


def _coverage_note(*resamples: int | None) -> str:
    """The range over the six rates of the 95% intervals' coverage, for each resample count."""
    parts = []
    for n_boot in filter(None, resamples):
        shares = coverage(n_datasets=400 if n_boot <= 100 else 200, n_boot=n_boot).values()
        parts.append(f"{min(shares):.3f}-{max(shares):.3f} at {n_boot} resamples")
    return "95% CI coverage, simulated: " + ", ".join(parts)


def benchmark(
    quick: bool,
    sizes: Sequence[int] | None = None,
    metricframe_max: int = 1_000_000,
    bootstrap_anchor_max: int = 100_000,
    n_boot: int = 100,
    repeats: int = 3,
) -> list[Row]:
    """Rows for every size: the auditor against MetricFrame and the floor, with and without
    bootstrap.

    Parameters
    ----------
    quick:
        1e5 rows only, one repeat, and MetricFrame's bootstrap with 10 resamples (its
        target is then not judged).
    sizes:
        Rows of the decision log (default 1e5, 1e6, 1e7).
    metricframe_max:
        Largest size at which MetricFrame runs (about 225 s at 1e7 rows on 2 cores).
    bootstrap_anchor_max:
        Largest size at which ``MetricFrame(n_boot=...)`` runs (about 220 s at 1e5 rows).
    n_boot:
        Bootstrap resamples, both engines.
    repeats:
        Runs per timing; the minimum is reported.
    """
    if quick:
        sizes, repeats, anchor_boot = [100_000], 1, 10
    else:
        sizes, anchor_boot = list(sizes or SIZES), n_boot
    coverage_note = _coverage_note(n_boot, 1000 if not quick else None)
    rows: list[Row] = []
    for size in sizes:
        rows.extend(
            _rows_for(
                size,
                repeats,
                with_metricframe=size <= metricframe_max,
                anchor_boot=anchor_boot if size <= bootstrap_anchor_max else 0,
                n_boot=n_boot,
                coverage_note=coverage_note,
            )
        )
    return rows


def _rows_for(
    size: int,
    repeats: int,
    *,
    with_metricframe: bool,
    anchor_boot: int,
    n_boot: int,
    coverage_note: str,
) -> list[Row]:
    """The rows of one size; ``anchor_boot`` resamples for MetricFrame's bootstrap (0: skip)."""
    n = f"{size:.0e}".replace("+0", "").replace("+", "")
    frame, y_true, y_pred = decision_log(size)
    categorical = frame.astype({c: pd.CategoricalDtype(sorted(LEVELS[c])) for c in SENSITIVE})
    codes = [categorical[c].cat.codes.to_numpy().astype(np.int64) for c in SENSITIVE]
    yt64, yp64 = y_true.astype(np.int64), y_pred.astype(np.int64)
    rows: list[Row] = []

    floor_s, floor_counts = _best(repeats, _floor, codes, yt64, yp64)
    engine_s, engine_counts = _best(repeats, _engine, categorical, y_true, y_pred)
    if not np.array_equal(engine_counts, floor_counts):
        raise RuntimeError(f"engine and floor counts differ at {size} rows")
    ours_s, output = _best(repeats, _ours, frame, y_true, y_pred, 0)
    cat_s, cat_output = _best(repeats, _ours, categorical, y_true, y_pred, 0)
    if _values(cat_output) != _values(output):
        raise RuntimeError(f"categorical and string columns disagree at {size} rows")

    audit = f"audit, 4 groupings, str columns, {n} rows"
    if with_metricframe:
        mf_s, reference = _best(repeats, _metricframe, frame, y_true, y_pred, slow_s=MF_SLOW_S)
        difference = _check_agreement(output, reference)
        if difference > 1e-12:
            raise RuntimeError(f"engines disagree by {difference} at {size} rows")
        target = 1000 if size >= TARGET_ROWS else None
        note = f"max abs diff {difference:.0e}"
        rows.append(speedup(audit, ours_s, MF, mf_s, at_least=target, notes=note))
    else:
        rows.append(speedup(audit, ours_s, MF, None, notes="MetricFrame not run at this size"))
    rows.append(speedup(audit, ours_s, FLOOR, floor_s))
    cat_audit = f"audit, 4 groupings, categorical columns, {n} rows"
    note = "same values as from str columns"
    floor_target = 0.5 if size >= TARGET_ROWS else None
    rows.append(speedup(cat_audit, cat_s, FLOOR, floor_s, at_least=floor_target, notes=note))
    engine = f"engine: counts + 6 rates of 4 groupings, categorical, {n} rows"
    note = "encode_values + one joint_confusion_counts pass; counts identical to the floor's"
    rows.append(speedup(engine, engine_s, FLOOR, floor_s, at_least=floor_target, notes=note))

    boot = f"audit + bootstrap ({n_boot}), str columns, {n} rows"
    boot_s, _ = _best(repeats, _ours, frame, y_true, y_pred, n_boot)
    if anchor_boot:
        mf_boot_s, _ = _best(
            repeats, _metricframe, frame, y_true, y_pred, n_boot=anchor_boot, slow_s=MF_SLOW_S
        )
        anchor = f"MetricFrame(n_boot={anchor_boot}), intersection only"
        if anchor_boot == n_boot:
            target = 1000 if n_boot == 100 else None
            rows.append(
                speedup(boot, boot_s, anchor, mf_boot_s, at_least=target, notes=coverage_note)
            )
        else:  # quick: fewer resamples on both sides, target not judged
            quick_s, _ = _best(repeats, _ours, frame, y_true, y_pred, anchor_boot)
            name = boot.replace(f"({n_boot})", f"({anchor_boot})")
            rows.append(speedup(name, quick_s, anchor, mf_boot_s, notes="quick: target not judged"))
    floor_boot_s, _ = _best(repeats, _floor_bootstrap, codes, yt64, yp64, n_boot)
    anchor = f"floor + {n_boot} multinomial draws"
    rows.append(speedup(boot, boot_s, anchor, floor_boot_s, notes=coverage_note))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="rows, comma-separated")
    parser.add_argument("--metricframe-max", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = benchmark(args.quick, sizes=sizes, metricframe_max=args.metricframe_max)
    for row in rows:
        print(row)
    if args.json:
        args.json.write_text(json.dumps([row.as_dict() for row in rows], indent=2))


if __name__ == "__main__":
    main()

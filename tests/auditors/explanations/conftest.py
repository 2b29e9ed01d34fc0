"""Fixtures of the explanations auditor's tests: contexts over synthetic data and UCI Adult."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.adapters.callable import CallableAdapter
from audit.auditors.explanations import ExplanationsAuditor, ExplanationsConfig
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.measurements import AuditorOutput, MetricResult
from audit.core.protocols import ModelAdapter

ADULT_CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "race", "sex"]
ADULT_NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]


def make_context(
    data: pd.DataFrame,
    model: ModelAdapter,
    *,
    features: Sequence[str],
    sensitive: Sequence[str] = (),
    positive_label: Any = 1,
    seed: int = 0,
) -> AuditContext:
    """A context whose outcomes are the model's own decisions and scores."""
    predictions = model.predict_batch(data.loc[:, list(features)])
    scores = predictions.scores
    y_pred = (
        (np.asarray(scores) >= 0.5).astype(np.int64)
        if scores is not None
        else (np.asarray(predictions.labels) == positive_label).astype(np.int64)
    )
    return AuditContext(
        data=data,
        roles=ColumnRoles(
            target="y",
            sensitive=tuple(sensitive),
            features=tuple(features),
            positive_label=positive_label,
        ),
        outcomes=Outcomes(
            task=Task.BINARY,
            y_true=np.asarray(data["y"]) if "y" in data else y_pred,
            y_pred=y_pred,
            y_score=None if scores is None else np.asarray(scores, dtype=np.float64),
        ),
        model=model,
        seed=seed,
    )


def run(context: AuditContext, **settings: Any) -> AuditorOutput:
    """Run the auditor with ``settings``."""
    return ExplanationsAuditor().run(context, ExplanationsConfig(**settings))


def metric(output: AuditorOutput, name: str, grouping: tuple[str, ...]) -> MetricResult:
    """The one result of ``name`` for ``grouping``."""
    (found,) = [m for m in output.metrics if m.metric == name and m.grouping == grouping]
    return found


def table(output: AuditorOutput, title: str) -> dict[str, tuple[Any, ...]]:
    """The evidence table whose title starts with ``title``, keyed by first cell."""
    (found,) = [t for t in output.tables if t.title.startswith(title)]
    return {str(row[0]): row for row in found.rows}


def rows(output: AuditorOutput, title: str) -> tuple[tuple[Any, ...], ...]:
    """The rows of the evidence table whose title starts with ``title``."""
    (found,) = [t for t in output.tables if t.title.startswith(title)]
    return found.rows


def logistic(score: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-score))


def score_adapter(fn: Any, name: str) -> CallableAdapter:
    """A callable model returning positive-class scores ``fn(rows)``."""

    def predict(rows: pd.DataFrame) -> dict[str, np.ndarray]:
        scores = np.asarray(fn(rows), dtype=np.float64)
        return {"labels": (scores >= 0.5).astype(np.int64), "scores": scores}

    return CallableAdapter(predict, name=name)


@pytest.fixture
def synthetic() -> pd.DataFrame:
    """600 rows: two numbers, a colour, a sex column and a planted proxy of sex."""
    rng = np.random.default_rng(3)
    n = 600
    sex = rng.choice(["F", "M"], size=n)
    flip = rng.random(n) < 0.1
    proxy = np.where((sex == "F") ^ flip, "a", "b")
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "sex": sex,
            "proxy": proxy,
            "y": rng.integers(0, 2, size=n),
        }
    )

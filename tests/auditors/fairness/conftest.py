"""Fixtures of the fairness auditor's tests: contexts built on UCI Adult and a real model."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.measurements import AuditorOutput, MetricResult
from audit.core.protocols import Predictions

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


class UnusedModel:
    """A model adapter the fairness auditor must never call."""

    batch_size = 1000

    @property
    def input_columns(self) -> Sequence[str] | None:
        return None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        raise AssertionError("the fairness auditor called the model")

    def describe(self) -> Mapping[str, Any]:
        return {"kind": "unused"}

    def fingerprint(self) -> str:
        return "0" * 64


def _make_context(
    data: pd.DataFrame,
    y_true: Any,
    y_pred: Any,
    sensitive: Sequence[str],
    *,
    task: Task = Task.BINARY,
    seed: int = 0,
) -> AuditContext:
    """An audit context over ``data`` with the given outcomes, passed on as given."""
    return AuditContext(
        data=data,
        roles=ColumnRoles(target="income", sensitive=tuple(sensitive), features=(), task=task),
        outcomes=Outcomes(
            task=task,
            y_true=np.asarray(y_true),
            y_pred=np.asarray(y_pred),
        ),
        model=UnusedModel(),
        seed=seed,
    )


def _result(output: AuditorOutput, metric: str, grouping: Sequence[str]) -> MetricResult:
    """The one result of ``metric`` over ``grouping``."""
    found = [m for m in output.find(metric) if m.grouping == tuple(grouping)]
    assert len(found) == 1, f"{metric} over {grouping}: {len(found)} results"
    return found[0]


@pytest.fixture(scope="session")
def make_context() -> Callable[..., AuditContext]:
    """``make_context(data, y_true, y_pred, sensitive, task=..., seed=...)``."""
    return _make_context


@pytest.fixture(scope="session")
def pick() -> Callable[[AuditorOutput, str, Sequence[str]], MetricResult]:
    """``pick(output, metric, grouping)``: the one result of a metric over a grouping."""
    return _result


RunAudit = Callable[..., AuditorOutput]


@pytest.fixture
def run_audit() -> RunAudit:
    """Run the fairness auditor: ``run_audit(data, y_true, y_pred, sensitive, **config)``."""

    def run(
        data: pd.DataFrame,
        y_true: Any,
        y_pred: Any,
        sensitive: Sequence[str],
        *,
        task: Task = Task.BINARY,
        seed: int = 0,
        **settings: Any,
    ) -> AuditorOutput:
        context = _make_context(data, y_true, y_pred, sensitive, task=task, seed=seed)
        return FairnessAuditor().run(context, FairnessConfig(**settings))

    return run


@pytest.fixture(scope="session")
def adult_income(adult: pd.DataFrame) -> np.ndarray:
    """Adult's ground truth as 0/1: 1 = income >50K."""
    return (adult["income"] == ">50K").to_numpy().astype(np.int8)


@pytest.fixture(scope="session")
def adult_model_split(
    adult: pd.DataFrame, adult_income: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A logistic regression trained on 8,000 Adult rows, predicting 12,000 others.

    Returns the held-out rows, their ground truth, the model's decisions and its
    positive-class scores.
    """
    order = np.random.default_rng(2024).permutation(len(adult))
    train, test = order[:8000], order[8000:20000]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(adult.iloc[train][NUMERIC], adult_income[train])
    held_out = adult.iloc[test].reset_index(drop=True)
    scores = model.predict_proba(held_out[NUMERIC])[:, 1]
    decisions = (scores >= 0.5).astype(np.int8)
    return held_out, adult_income[test], decisions, scores

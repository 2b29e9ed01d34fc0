"""Fixtures of the privacy auditor's tests: a small UCI Adult subset and contexts over it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.sklearn import SklearnAdapter
from audit.auditors.privacy import PrivacyAuditor, PrivacyConfig, TrainingSettings
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.measurements import AuditorOutput, EvidenceTable, MetricResult
from audit.core.protocols import ModelAdapter

pytest.importorskip("opacus")

ADULT = Path(__file__).resolve().parents[3] / "examples" / "data" / "adult.csv"
CATEGORICAL = ["workclass", "marital-status", "occupation", "sex"]
NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """2,000 seeded rows of UCI Adult with a 0/1 column ``y`` (income >50K)."""
    frame = pd.read_csv(ADULT).sample(2000, random_state=7).reset_index(drop=True)
    frame["y"] = (frame["income"].astype(str).str.strip() == ">50K").astype(np.int64)
    return frame


def sklearn_pipeline() -> Any:
    """One-hot categories and scaled numbers into a logistic regression."""
    return make_pipeline(
        ColumnTransformer(
            [
                ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                ("n", StandardScaler(), NUMERIC),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )


@pytest.fixture(scope="session")
def sklearn_model(adult: pd.DataFrame) -> ModelAdapter:
    """A logistic regression fitted on the subset, as an adapter."""
    return SklearnAdapter(sklearn_pipeline().fit(adult[FEATURES], adult["y"]))


def make_context(
    data: pd.DataFrame,
    model: ModelAdapter,
    *,
    features: Sequence[str] = FEATURES,
    sensitive: Sequence[str] = ("sex",),
    seed: int = 0,
) -> AuditContext:
    """A context whose outcomes are the model's decisions and scores on ``data``."""
    predictions = model.predict_batch(data.loc[:, list(features)])
    scores = np.asarray(predictions.scores, dtype=np.float64)
    return AuditContext(
        data=data,
        roles=ColumnRoles(
            target="y", sensitive=tuple(sensitive), features=tuple(features), positive_label=1
        ),
        outcomes=Outcomes(
            task=Task.BINARY,
            y_true=np.asarray(data["y"], dtype=np.int64),
            y_pred=(scores >= 0.5).astype(np.int64),
            y_score=scores,
        ),
        model=model,
        seed=seed,
    )


def training_settings(**overrides: Any) -> TrainingSettings:
    """Settings of a direct ``train_module`` call: RDP, seed 0, CPU, clip 1, delta 1e-5."""
    base: dict[str, Any] = {
        "epochs": 3,
        "batch_size": 100,
        "learning_rate": 0.05,
        "max_grad_norm": 1.0,
        "target_delta": 1e-5,
        "accountant": "rdp",
        "grad_sample_mode": "auto",
        "device": "cpu",
        "seed": 0,
    }
    return TrainingSettings(**{**base, **overrides})


def fast_settings(tmp: Path, **overrides: Any) -> PrivacyConfig:
    """Tiny training: 2 epochs, no sweep, few bootstrap resamples, output under ``tmp``."""
    values: dict[str, Any] = {
        "epochs": 2,
        "batch_size": 128,
        "sweep_epsilons": (),
        "sweep_non_private": False,
        "bootstrap": 50,
        "output_dir": str(tmp / "dp-model"),
    }
    values.update(overrides)
    return PrivacyConfig(**values)


def run(context: AuditContext, settings: PrivacyConfig) -> AuditorOutput:
    """Run the auditor."""
    return PrivacyAuditor().run(context, settings)


def metric(output: AuditorOutput, name: str, grouping: tuple[str, ...] = ()) -> MetricResult:
    """The one result of ``name`` for ``grouping``."""
    (found,) = [m for m in output.metrics if m.metric == name and m.grouping == grouping]
    return found


def table(output: AuditorOutput, title: str) -> EvidenceTable:
    """The evidence table whose title starts with ``title``."""
    (found,) = [t for t in output.tables if t.title.startswith(title)]
    return found

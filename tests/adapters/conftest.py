"""Shared fixtures of the adapter tests: a slice of UCI Adult and models fitted on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.core.protocols import ModelAdapter, Predictions

ADULT = Path(__file__).resolve().parents[2] / "examples" / "data" / "adult.csv"
TARGET = "income"
N_TRAIN = 400
N_TEST = 250


@pytest.fixture(scope="session")
def adult_slice() -> pd.DataFrame:
    """The first rows of UCI Adult, missing values as NaN."""
    return pd.read_csv(ADULT, nrows=N_TRAIN + N_TEST)


@pytest.fixture(scope="session")
def features(adult_slice: pd.DataFrame) -> pd.DataFrame:
    return adult_slice.drop(columns=TARGET)


@pytest.fixture(scope="session")
def categorical(features: pd.DataFrame) -> list[str]:
    return [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]


@pytest.fixture(scope="session")
def numeric(features: pd.DataFrame) -> list[str]:
    return [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]


@pytest.fixture(scope="session")
def train(adult_slice: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    rows = adult_slice.iloc[:N_TRAIN]
    return rows.drop(columns=TARGET), rows[TARGET]


@pytest.fixture(scope="session")
def audit_rows(features: pd.DataFrame) -> pd.DataFrame:
    """Rows the models never saw: they include unseen categories and missing values."""
    rows = features.iloc[N_TRAIN:].reset_index(drop=True)
    assert rows.isna().any().any(), "the audit slice should exercise missing values"
    return rows


@pytest.fixture(scope="session")
def pipeline(
    train: tuple[pd.DataFrame, pd.Series], categorical: list[str], numeric: list[str]
) -> Pipeline:
    """OneHotEncoder + StandardScaler + LogisticRegression, predicting '>50K'/'<=50K'."""
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("num", StandardScaler(), numeric),
        ]
    )
    model = Pipeline([("encode", encode), ("clf", LogisticRegression(max_iter=2000))])
    return model.fit(*train)


@pytest.fixture(scope="session")
def numeric_model(train: tuple[pd.DataFrame, pd.Series], numeric: list[str]) -> Pipeline:
    """A numbers-only pipeline, the kind a plain 2-D ONNX input carries."""
    X, y = train
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])
    return model.fit(X[numeric].astype(np.float64), y)


@pytest.fixture
def predict_in_batches() -> Callable[[ModelAdapter, pd.DataFrame], Predictions]:
    """Run an adapter the way the runner does: consecutive batches of ``batch_size`` rows."""

    def run(adapter: ModelAdapter, rows: pd.DataFrame) -> Predictions:
        parts = []
        for start in range(0, len(rows), adapter.batch_size):
            batch = rows.iloc[start : start + adapter.batch_size]
            predictions = adapter.predict_batch(batch)
            assert len(predictions) == len(batch)
            parts.append(predictions)
        return Predictions.concatenate(parts)

    return run

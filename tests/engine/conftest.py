"""A decision log of UCI Adult as a folder of Parquet files, shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parents[2]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="session")
def decision_log(adult: pd.DataFrame) -> pd.DataFrame:
    """Adult with a logistic regression's decisions in column ``decision``."""
    model = LogisticRegression(max_iter=500).fit(adult[NUMERIC], adult["income"])
    log = adult.copy()
    log["decision"] = model.predict(adult[NUMERIC])
    return log


@pytest.fixture(scope="session")
def parquet_folder(decision_log: pd.DataFrame, tmp_path_factory) -> Path:
    """The decision log cut into three Parquet files of uneven size."""
    folder = tmp_path_factory.mktemp("log")
    for i, (start, stop) in enumerate([(0, 5000), (5000, 20000), (20000, len(decision_log))]):
        decision_log.iloc[start:stop].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


AUDIT = {
    "model": "column:decision",
    "policy": "four-fifths",
    "target": "income",
    "sensitive": ["sex", "race"],
    "positive_label": ">50K",
}

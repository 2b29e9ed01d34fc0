"""Fixtures shared by the whole suite: real data from UCI Adult."""

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
ADULT_CSV = REPO / "examples" / "data" / "adult.csv"


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """UCI Adult, training split, 32,561 rows (examples/data/adult.csv)."""
    return pd.read_csv(ADULT_CSV)


@pytest.fixture
def adult_sample(adult) -> pd.DataFrame:
    """A fixed sample of 2,000 Adult rows."""
    return adult.sample(n=2000, random_state=7).reset_index(drop=True)

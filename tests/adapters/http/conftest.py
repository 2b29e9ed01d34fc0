from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.http import HttpAdapter, HttpTransport, parse_endpoint_url
from audit.core.protocols import Predictions

REPO = Path(__file__).resolve().parents[3]
ADULT = REPO / "examples" / "data" / "adult.csv"
TARGET = "income"


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAAS_AUDIT_TOKEN", raising=False)


@pytest.fixture(scope="session")
def http_adult() -> pd.DataFrame:
    """The first 1,000 rows of UCI Adult, missing values as NaN."""
    return pd.read_csv(ADULT, nrows=1000)


@pytest.fixture(scope="session")
def http_rows(http_adult: pd.DataFrame) -> pd.DataFrame:
    """600 held-out rows (not used in training), with missing values."""
    features = http_adult.drop(columns=[TARGET]).iloc[400:].reset_index(drop=True)
    assert features.isna().any().any(), "the held-out rows should contain missing values"
    return features


@pytest.fixture(scope="session")
def http_pipeline(http_adult: pd.DataFrame) -> Pipeline:
    """OneHotEncoder + StandardScaler + LogisticRegression on 400 rows."""
    train = http_adult.iloc[:400]
    features = train.drop(columns=[TARGET])
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(features[c])]
    numeric = [c for c in features if c not in categorical]
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                        ("num", StandardScaler(), numeric),
                    ]
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    return model.fit(features, train[TARGET])


def make_adapter(
    url: str,
    *,
    batch_size: int = 1000,
    max_retries: int = 3,
    timeout: float = 5.0,
    header_env: dict[str, str] | None = None,
    sleeps: list[float] | None = None,
    output_name: str | None = None,
) -> HttpAdapter:
    """An adapter with tiny back-off, recording its waits into ``sleeps`` if given."""
    protocol, post_url = parse_endpoint_url(url)
    transport = HttpTransport(
        timeout=timeout,
        max_retries=max_retries,
        backoff_base=0.01,
        backoff_max=0.05,
        header_env=header_env,
        default_token=True,  # the tests name these endpoints, as a user does
        sleep=sleeps.append if sleeps is not None else (lambda _: None),
        seed=0,
    )
    return HttpAdapter(
        post_url,
        protocol=protocol,
        batch_size=batch_size,
        output_name=output_name,
        transport=transport,
    )


@pytest.fixture
def adapter_factory() -> Iterator[Callable[..., HttpAdapter]]:
    made: list[HttpAdapter] = []

    def factory(url: str, **kwargs: object) -> HttpAdapter:
        adapter = make_adapter(url, **kwargs)  # type: ignore[arg-type]
        made.append(adapter)
        return adapter

    yield factory
    for adapter in made:
        adapter.close()


def _constant(rows: pd.DataFrame) -> Predictions:
    n = len(rows)
    return Predictions(labels=np.ones(n, dtype=np.int64), scores=np.full(n, 0.75))


@pytest.fixture
def constant_fn() -> Callable[[pd.DataFrame], Predictions]:
    """A model that says 1 with probability 0.75 for every row."""
    return _constant

"""A real model on real data, served on localhost, for the command-line tests."""

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.core.protocols import Predictions
from audit.testing.endpoint import serve_model

CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "race", "sex"]
NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC


@pytest.fixture(scope="session")
def adult_split(adult):
    shuffled = adult.sample(frac=1.0, random_state=11).reset_index(drop=True)
    return shuffled.iloc[:4000].reset_index(drop=True), shuffled.iloc[4000:7000].reset_index(
        drop=True
    )


@pytest.fixture(scope="session")
def income_model(adult_split):
    train, _ = adult_split
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(train[FEATURES], train["income"])


@pytest.fixture(scope="session")
def audit_csv(adult_split, tmp_path_factory):
    _, held_out = adult_split
    path = tmp_path_factory.mktemp("data") / "held_out.csv"
    held_out.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def served(income_model):
    def predict(rows):
        proba = income_model.predict_proba(rows[FEATURES])[:, 1]
        return Predictions(labels=income_model.predict(rows[FEATURES]), scores=proba)

    with serve_model(predict, model_name="income") as server:
        yield server


@pytest.fixture(scope="session")
def run_args():
    """`maas-audit run` arguments shared by the tests, less model, data, policy and out."""
    return [
        "run",
        "--target",
        "income",
        "--positive-label",
        ">50K",
        "--sensitive",
        "sex,race",
        "--features",
        ",".join(FEATURES),
        "--no-progress",
    ]


@pytest.fixture(scope="session")
def expected_selection_rates(income_model):
    """Independent computation: pandas groupby over the model's own predictions."""

    def rates(frame, column):
        predicted = income_model.predict(frame[FEATURES]) == ">50K"
        return frame.assign(p=predicted.astype(float)).groupby(column)["p"].mean().to_dict()

    return rates

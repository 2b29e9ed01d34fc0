"""The loss-threshold attack: ~0 on a model that has not seen the rows, positive when overfit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from audit.adapters.sklearn import SklearnAdapter
from audit.auditors.privacy import example_losses, loss_threshold_attack
from audit.auditors.privacy.membership_inference import ERR_TOO_FEW
from tests.auditors.privacy.conftest import (
    FEATURES,
    fast_settings,
    make_context,
    metric,
    run,
    sklearn_pipeline,
)


def _attack(model: object, members: pd.DataFrame, others: pd.DataFrame) -> object:
    def losses(rows: pd.DataFrame) -> np.ndarray:
        scores = model.predict_proba(rows[FEATURES])[:, 1]  # type: ignore[attr-defined]
        return example_losses(rows["y"].to_numpy(), scores)

    return loss_threshold_attack(
        losses(members),
        losses(others),
        bootstrap=200,
        confidence_level=0.95,
        rng=np.random.default_rng(0),
    )


def _one_nn() -> object:
    pipeline = sklearn_pipeline()
    return make_pipeline(pipeline.steps[0][1], KNeighborsClassifier(n_neighbors=1))


def test_attack_is_near_zero_on_a_model_that_has_not_seen_the_rows(adult: pd.DataFrame) -> None:
    trainer, members, others = adult.iloc[:1000], adult.iloc[1000:1500], adult.iloc[1500:]
    model = sklearn_pipeline().fit(trainer[FEATURES], trainer["y"])
    result = _attack(model, members, others)
    low, high = result.advantage_ci  # type: ignore[attr-defined]
    assert result.advantage < 0.05 or (low is not None and low <= 0.0 <= high)  # type: ignore[attr-defined]
    assert low is not None and low < 0.05
    assert abs(result.auc - 0.5) < 0.06  # type: ignore[attr-defined]


def test_attack_is_clearly_positive_on_an_overfit_model(adult: pd.DataFrame) -> None:
    members, others = adult.iloc[:1000], adult.iloc[1000:]
    model = _one_nn().fit(members[FEATURES], members["y"])
    result = _attack(model, members, others)
    assert result.advantage > 0.1  # type: ignore[attr-defined]
    assert result.advantage_ci[0] > 0.05  # type: ignore[attr-defined]
    assert result.auc > 0.55  # type: ignore[attr-defined]


def test_auditor_attacks_the_audited_model_with_a_membership_column(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data = adult.copy()
    data["trained_on"] = np.arange(len(data)) < 1000
    model = _one_nn().fit(data.loc[data["trained_on"], FEATURES], data.loc[data["trained_on"], "y"])
    context = make_context(data, SklearnAdapter(model))
    output = run(context, fast_settings(tmp_path, membership_column="trained_on"))
    advantage = metric(output, "attack_advantage")
    assert advantage.value is not None and advantage.value > 0.1
    assert metric(output, "attack_auc").value > 0.55  # type: ignore[operator]
    dp = metric(output, "dp_attack_advantage")
    assert dp.value is not None and dp.value < 0.1


def test_without_a_membership_column_the_audited_model_attack_is_not_measured(
    adult: pd.DataFrame, sklearn_model: object, tmp_path: Path
) -> None:
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path))  # type: ignore[arg-type]
    result = metric(output, "attack_advantage")
    assert result.value is None
    assert result.reason is not None and "membership_column" in result.reason


@pytest.mark.parametrize("members", [0, 1])
def test_attack_needs_two_members_and_two_non_members(members: int) -> None:
    with pytest.raises(ValueError, match=ERR_TOO_FEW):
        loss_threshold_attack(
            np.zeros(members),
            np.ones(3),
            bootstrap=0,
            confidence_level=0.9,
            rng=np.random.default_rng(0),
        )


def test_advantage_without_leakage_is_near_zero_over_many_seeds() -> None:
    # identical loss distributions, 700 members and 300 non-members: there is nothing to
    # find, so the advantage must average 0 (the in-sample maximum averaged 0.042, and 32%
    # of runs exceeded the example policy's 0.05)
    found = []
    for seed in range(400):
        rng = np.random.default_rng(seed)
        result = loss_threshold_attack(
            rng.exponential(size=700),
            rng.exponential(size=300),
            bootstrap=0,
            confidence_level=0.95,
            rng=rng,
        )
        found.append(result.advantage)
    advantages = np.array(found)
    assert abs(float(advantages.mean())) < 0.006
    assert float(np.mean(advantages > 0.05)) < 0.1

"""The privacy auditor's numbers, measured without rendering anything, checked against sklearn
and Opacus; and the defects of issue 14 (utility on memorised rows, the cost of DP mixed
with the change of model, the membership column as a feature, the batch size)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from opacus.accountants import RDPAccountant
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.callable import CallableAdapter
from audit.adapters.sklearn import SklearnAdapter
from audit.auditors.privacy import PrivacyConfig, load_dp_model, read_metadata
from audit.auditors.privacy.describe import (
    ERR_AUDITED_SEEN,
    NOTE_ALL_MEMBERS,
    NOTE_MEMBERSHIP_UNKNOWN,
)
from audit.auditors.privacy.evidence import measured_output
from audit.auditors.privacy.measure import PrivacyMeasurement, measure_privacy
from audit.auditors.privacy.split import split_rows
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.protocols import ModelAdapter
from tests.auditors.privacy.conftest import (
    CATEGORICAL,
    FEATURES,
    NUMERIC,
    fast_settings,
    make_context,
    metric,
    run,
    table,
)


def _overall(utility: dict[tuple[str, ...], list], key: str) -> float:  # type: ignore[type-arg]
    return float(utility[()][0].values[key])


def test_utility_numbers_are_sklearns_on_the_holdout(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    context = make_context(adult, sklearn_model)
    found = measure_privacy(context, fast_settings(tmp_path))
    assert isinstance(found, PrivacyMeasurement)
    holdout = split_rows(len(adult), holdout_fraction=0.3, max_rows=50_000, seed=0).holdout
    y = adult["y"].to_numpy()[holdout]
    assert found.audited is not None
    assert _overall(found.audited, "accuracy") == pytest.approx(
        accuracy_score(y, context.outcomes.y_pred[holdout]), abs=1e-12
    )
    assert context.outcomes.y_score is not None
    assert _overall(found.audited, "auc") == pytest.approx(
        roc_auc_score(y, context.outcomes.y_score[holdout]), abs=1e-12
    )
    # the DP utility is the saved model's, reloaded and scored by sklearn
    dp = load_dp_model(tmp_path / "dp-model").predict_batch(adult[FEATURES].iloc[holdout])
    assert dp.scores is not None
    assert _overall(found.dp, "accuracy") == pytest.approx(accuracy_score(y, dp.labels), abs=1e-12)
    assert _overall(found.dp, "auc") == pytest.approx(roc_auc_score(y, dp.scores), abs=1e-9)
    for columns in ((), ("sex",)):
        assert [u.count for u in found.reference[columns]] == [u.count for u in found.dp[columns]]
    assert found.reference_report.epsilon is None and found.report.epsilon is not None


def test_the_batch_size_and_sample_rate_agree_with_opacus(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    # 1,400 training rows in batches of 128: Opacus's DPDataLoader samples at
    # q = 1 / ceil(1400 / 128) = 1 / 11, an expected batch of 127.27, not 128
    settings = fast_settings(tmp_path)
    output = run(make_context(adult, sklearn_model), settings)
    rows = dict(table(output, "DP training").rows)
    q = float(str(rows["sample rate q (Poisson, 1 / batches per epoch)"]))
    assert q == pytest.approx(1 / math.ceil(1400 / 128), rel=1e-11)
    assert rows["expected batch size (q \u00d7 training rows)"] == pytest.approx(
        1400 / 11, abs=0.01
    )
    assert "ceil(training rows / batch_size)" in str(
        PrivacyConfig.model_fields["batch_size"].description
    )
    assert "1 / ceil(training rows / 128)" in output.method


def test_epsilon_is_recomputed_by_opacus_from_the_printed_sigma_and_q(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path))
    rows = dict(table(output, "DP training").rows)
    sigma = float(str(rows["noise multiplier \u03c3"]))
    q = float(str(rows["sample rate q (Poisson, 1 / batches per epoch)"]))
    accountant = RDPAccountant()
    for _ in range(int(str(rows["steps"]))):
        accountant.step(noise_multiplier=sigma, sample_rate=q)
    epsilon = metric(output, "epsilon").value
    assert epsilon is not None
    assert accountant.get_epsilon(float(str(rows["delta"]))) == pytest.approx(epsilon, rel=1e-9)


def _forest_audit(adult: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """A fully grown random forest trained on the first 1,000 rows, marked by ``member``."""
    data = adult.copy()
    data["member"] = np.arange(len(data)) < 1000
    forest = make_pipeline(
        ColumnTransformer(
            [
                ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                ("n", "passthrough", NUMERIC),
            ]
        ),
        RandomForestClassifier(n_estimators=60, random_state=0, n_jobs=1),
    ).fit(data.loc[data["member"], FEATURES], data.loc[data["member"], "y"])
    return data, forest


def test_utility_is_measured_on_rows_the_audited_model_never_saw(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data, forest = _forest_audit(adult)
    # the column is given as a feature, as when --features is left out: it must not be used
    features = [*FEATURES, "member"]
    context = make_context(data, SklearnAdapter(forest), features=features)
    found = measure_privacy(context, fast_settings(tmp_path, membership_column="member"))

    assert found.holdout_unseen is True and found.audited is not None
    member = data["member"].to_numpy()
    holdout = split_rows(
        len(data), holdout_fraction=0.3, max_rows=50_000, seed=0, audited_members=member
    ).holdout
    assert not member[holdout].any() and len(holdout) == 600
    y = data["y"].to_numpy()
    memorised = accuracy_score(y[member], context.outcomes.y_pred[member])
    unseen = accuracy_score(y[holdout], context.outcomes.y_pred[holdout])
    assert memorised > 0.99 and unseen < 0.9
    assert _overall(found.audited, "accuracy") == pytest.approx(unseen, abs=1e-12)

    # the DP model reads the forest's own columns: the membership column is not one
    assert read_metadata(tmp_path / "dp-model")["columns"] == FEATURES
    assert not any("'member' is not a feature" in w for w in found.warnings)


def test_the_membership_column_is_never_a_feature_of_the_dp_model(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data, forest = _forest_audit(adult)
    # a model that names no columns is given every feature, the membership column too
    unnamed = CallableAdapter(lambda rows: SklearnAdapter(forest).predict_batch(rows[FEATURES]))
    context = make_context(data, unnamed, features=[*FEATURES, "member"])
    found = measure_privacy(context, fast_settings(tmp_path, membership_column="member"))

    assert read_metadata(tmp_path / "dp-model")["columns"] == FEATURES
    assert any("'member' is not a feature" in w for w in found.warnings)


def test_the_cost_of_dp_is_apart_from_the_change_of_model(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data, forest = _forest_audit(adult)
    context = make_context(data, SklearnAdapter(forest))
    settings = fast_settings(tmp_path, membership_column="member")
    found = measure_privacy(context, settings)
    output = measured_output(found, settings, context.roles.sensitive)
    audited, reference, dp = (
        _overall(u, "accuracy")
        for u in (found.audited or {}, found.reference, found.dp)  # type: ignore[arg-type]
    )
    assert metric(output, "accuracy_drop").value == pytest.approx(reference - dp, abs=1e-12)
    assert metric(output, "retrain_accuracy_drop").value == pytest.approx(
        audited - reference, abs=1e-12
    )
    worst = metric(output, "accuracy_drop_by_group", ("sex",))
    for group, ref, dpu in zip(
        worst.groups, found.reference[("sex",)], found.dp[("sex",)], strict=True
    ):
        assert group.value == pytest.approx(
            ref.values["accuracy"] - dpu.values["accuracy"],
            abs=1e-12,  # type: ignore[operator]
        )
    utility = table(output, "Utility on the holdout")
    for column in ("accuracy (audited)", "accuracy (non-private)", "accuracy (DP)"):
        assert column in utility.columns
    assert "accuracy drop: cost of DP" in utility.columns
    assert "non-private reference" in output.method and "retrain_accuracy_drop" in output.method


def test_without_membership_the_audited_utility_is_flagged(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path))
    assert NOTE_MEMBERSHIP_UNKNOWN in output.warnings
    assert any("membership_column" in limit for limit in output.limitations)


def test_the_dp_model_returns_the_audited_models_labels(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data = adult.copy()
    model = SklearnAdapter(
        make_pipeline(
            ColumnTransformer(
                [
                    ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                    ("n", StandardScaler(), NUMERIC),
                ]
            ),
            RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0),
        ).fit(data[FEATURES], data["income"])
    )
    predicted = model.predict_batch(data[FEATURES])
    assert predicted.scores is not None and predicted.labels is not None
    assert set(predicted.labels) == {"<=50K", ">50K"}
    context = AuditContext(
        data=data,
        roles=ColumnRoles(
            target="income", sensitive=("sex",), features=tuple(FEATURES), positive_label=">50K"
        ),
        outcomes=Outcomes(
            task=Task.BINARY,
            y_true=(data["income"] == ">50K").to_numpy().astype(np.int64),
            y_pred=(predicted.labels == ">50K").astype(np.int64),
            y_score=np.asarray(predicted.scores, dtype=np.float64),
        ),
        model=model,
        seed=0,
    )
    run(context, fast_settings(tmp_path))
    loaded = load_dp_model(tmp_path / "dp-model").predict_batch(data[FEATURES])
    assert loaded.scores is not None and loaded.labels is not None
    expected = np.where(loaded.scores >= 0.5, ">50K", "<=50K")
    np.testing.assert_array_equal(loaded.labels, expected)
    assert read_metadata(tmp_path / "dp-model")["class_labels"] == ["<=50K", ">50K"]


def test_when_every_row_is_a_member_the_audited_utility_is_not_reported(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    data = adult.assign(member=True)
    output = run(
        make_context(data, sklearn_model), fast_settings(tmp_path, membership_column="member")
    )
    assert NOTE_ALL_MEMBERS.format(column="member") in output.warnings
    retrain = metric(output, "retrain_accuracy_drop")
    assert retrain.value is None and retrain.reason == ERR_AUDITED_SEEN.format(column="member")
    # the cost of DP needs no unseen rows: both models are trained on the same split
    assert metric(output, "accuracy_drop").value is not None
    attack = metric(output, "attack_advantage")
    assert attack.value is None and attack.reason is not None and "at least two" in attack.reason
    overall = next(r for r in table(output, "Utility on the holdout").rows if r[0] == "overall")
    assert overall[3] is None and overall[4] is not None  # audited: none; reference: measured


def test_one_non_member_is_not_a_holdout() -> None:
    member = np.arange(40) != 7
    split = split_rows(40, holdout_fraction=0.3, max_rows=100, seed=0, audited_members=member)
    assert split.holdout_unseen is False and len(split.holdout) == 12
    member[8] = False
    split = split_rows(40, holdout_fraction=0.3, max_rows=100, seed=0, audited_members=member)
    assert split.holdout_unseen is True and split.holdout.tolist() == [7, 8]

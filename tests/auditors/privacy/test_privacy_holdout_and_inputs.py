"""What the holdout and the inputs allow the privacy auditor to judge, and what it says.

Every sensitive group of the sampled rows is listed, even one with no holdout row; a
holdout that a membership column shrinks below ``min_group_size`` is flagged and its
drops and attacks are not judged; numeric columns read as their mean where values are
missing are named, and so is a delta not below one over the training rows; the attack
advantage is described as the cross-fitted figure it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit.adapters import CallableAdapter
from audit.auditors.privacy.describe import METRICS
from audit.auditors.privacy.split import split_rows
from audit.core.measurements import GroupStatus
from audit.core.protocols import ModelAdapter
from tests.auditors.privacy.conftest import FEATURES, fast_settings, make_context, metric, run


def test_a_group_with_no_holdout_row_is_listed_and_never_judged(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    train = split_rows(len(adult), holdout_fraction=0.3, max_rows=50_000, seed=0).train
    data = adult.copy()
    data.loc[train[:3], "sex"] = "Other"
    output = run(make_context(data, sklearn_model), fast_settings(tmp_path))

    groups = {g.group: g for g in metric(output, "accuracy_drop_by_group", ("sex",)).groups}
    assert set(groups) == {"sex=Female", "sex=Male", "sex=Other"}
    assert groups["sex=Other"].count == 0 and groups["sex=Other"].value is None
    assert groups["sex=Other"].status is GroupStatus.SMALL
    assert groups["sex=Male"].status is GroupStatus.OK and groups["sex=Male"].count > 300


def test_a_holdout_shrunk_by_membership_is_flagged_and_not_judged(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    data = adult.assign(member=True)
    data.loc[data.index[::200], "member"] = False  # 10 non-members
    context = make_context(data, sklearn_model)
    output = run(context, fast_settings(tmp_path, membership_column="member"))

    assert any("leaves 10 sampled rows" in w and "instead of 600" in w for w in output.warnings)
    for name in ("accuracy_drop", "auc_drop", "retrain_accuracy_drop"):
        found = metric(output, name)
        assert found.value is None and found.reason is not None
        assert "10 rows, fewer than min_group_size (30)" in found.reason
    for name in ("attack_advantage", "attack_auc", "dp_attack_advantage", "dp_attack_auc"):
        found = metric(output, name)
        assert found.value is None and found.reason is not None
        assert "10 non-members" in found.reason

    # the same holdout is judged once min_group_size allows ten rows
    output = run(context, fast_settings(tmp_path, membership_column="member", min_group_size=10))
    assert metric(output, "accuracy_drop").value is not None
    assert metric(output, "dp_attack_advantage").value is not None


def test_missing_numbers_and_a_large_delta_are_named(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    data = adult.assign(extra=np.arange(len(adult), dtype=np.float64))
    data.loc[data.index[::4], "extra"] = np.nan
    # a model that names no input columns: the stand-in reads every feature, 'extra' too
    unnamed = CallableAdapter(lambda rows: sklearn_model.predict_batch(rows[FEATURES]))
    context = make_context(data, unnamed, features=[*FEATURES, "extra"])
    output = run(context, fast_settings(tmp_path, target_delta=1e-3))
    assert any("extra (500 rows)" in w for w in output.warnings)
    assert any(
        "target_delta 0.001 is not below 1 / training rows (1/1400" in w for w in output.warnings
    )

    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path))
    assert not any("missing or non-numeric" in w or "target_delta" in w for w in output.warnings)


def test_the_advantage_is_described_as_cross_fitted() -> None:
    for name in ("attack_advantage", "dp_attack_advantage"):
        assert "cross-fitted" in METRICS[name].lower()
        assert "largest" not in METRICS[name].lower()

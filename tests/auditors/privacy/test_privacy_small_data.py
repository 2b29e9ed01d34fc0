"""Small and awkward data: intervals of the cost of DP, and no pass the rows cannot support.

References outside the project: the paired-proportion interval against the worked example
of Fagerland, Lydersen and Laake (2017), and against a paired bootstrap computed here; the
attack AUC against sklearn's ``roc_auc_score``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from audit.auditors.privacy import PrivacyConfig
from audit.auditors.privacy.describe import LIMITATIONS, METRICS
from audit.auditors.privacy.measure import _Retraining
from audit.auditors.privacy.split import split_rows
from audit.core.findings import Verdict
from audit.core.measurements import GroupStatus
from audit.policy.evaluate import evaluate_requirement
from audit.policy.schema import Requirement
from audit.stats.paired import paired_difference_interval
from tests.auditors.privacy.conftest import fast_settings, make_context, metric, run, table


def _requirement(metric_name: str, threshold: float) -> Requirement:
    return Requirement(
        id="r",
        title="t",
        citation="c",
        auditor="privacy",
        metric=metric_name,
        compare="at_most",
        threshold=threshold,
        group_by="each",
    )


def _small(adult: pd.DataFrame, rows: int) -> pd.DataFrame:
    return adult.head(rows).reset_index(drop=True)


def _learning(tmp: Path, **overrides: Any) -> PrivacyConfig:
    """Enough steps for the reference to learn on a few hundred rows."""
    return fast_settings(tmp, epochs=8, batch_size=32, learning_rate=0.1, **overrides)


def test_paired_interval_matches_the_published_example() -> None:
    # Fagerland, Lydersen and Laake (2017), the paired table 59, 6 / 16, 80
    first = np.repeat([True, True, False, False], [59, 6, 16, 80])
    second = np.repeat([True, False, True, False], [59, 6, 16, 80])
    low, high = paired_difference_interval(first, second, 0.95)
    assert (round(low, 4), round(high, 4)) == (-0.1186, -0.0046)


def test_paired_interval_agrees_with_a_paired_bootstrap_on_many_rows() -> None:
    rng = np.random.default_rng(3)
    first = rng.random(4000) < 0.8
    second = np.where(rng.random(4000) < 0.1, ~first, first)
    low, high = paired_difference_interval(first, second, 0.95)
    diff = first.astype(float) - second
    draws = [diff[rng.integers(0, 4000, 4000)].mean() for _ in range(2000)]
    boot_low, boot_high = np.percentile(draws, [2.5, 97.5])
    assert low == pytest.approx(boot_low, abs=0.003)
    assert high == pytest.approx(boot_high, abs=0.003)


def test_group_drops_carry_intervals_and_a_wide_one_never_passes(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    data = _small(adult, 300)
    output = run(make_context(data, sklearn_model), _learning(tmp_path))
    found = metric(output, "accuracy_drop_by_group", ("sex",))
    assert found.confidence_level == 0.95
    wide = [g for g in found.groups if g.ci_high - g.ci_low > 0.1]
    assert wide, "a 90-row holdout gives wide intervals"
    for group in found.groups:
        assert group.ci_low <= group.value <= group.ci_high
    for group in wide:
        assert group.status is not GroupStatus.OK
    # a threshold far above every drop would pass on the point values alone
    (finding,) = evaluate_requirement(
        _requirement("accuracy_drop_by_group", 0.5), [found], sensitive=("sex",)
    )
    assert finding.verdict is Verdict.INCONCLUSIVE


def test_a_wide_whole_holdout_figure_may_fail_but_never_pass(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    output = run(make_context(_small(adult, 300), sklearn_model), _learning(tmp_path))
    attack = metric(output, "dp_attack_auc")
    assert attack.value is not None and attack.reason is not None
    assert "max_interval_width" in attack.reason
    (finding,) = evaluate_requirement(
        _requirement("dp_attack_auc", 0.99), [attack], sensitive=("sex",)
    )
    assert finding.verdict is Verdict.INCONCLUSIVE


def test_attack_auc_is_sklearns_on_the_per_row_losses(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    context = make_context(_small(adult, 300), sklearn_model)
    retraining = _Retraining(context, _learning(tmp_path))
    found = retraining.measurement()
    members = retraining.losses(
        retraining.split.train, retraining.predict(retraining.main, retraining.x_train)
    )
    others = retraining.losses(retraining.split.holdout, retraining.main_hold)
    truth = np.r_[np.ones(len(members)), np.zeros(len(others))]
    assert found.dp_attack.auc == pytest.approx(roc_auc_score(truth, -np.r_[members, others]))


def test_an_untrained_reference_gives_no_drop(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    # one full-batch step: the reference still decides the majority class for every row
    settings = fast_settings(tmp_path, epochs=1, batch_size=1000, learning_rate=0.001)
    output = run(make_context(_small(adult, 300), sklearn_model), settings)
    drop = metric(output, "accuracy_drop")
    assert drop.value is None
    assert "learned nothing" in (drop.reason or "")
    grouped = metric(output, "accuracy_drop_by_group", ("sex",))
    assert grouped.value is None and not grouped.groups


def test_a_training_split_of_one_class_is_a_reason_not_a_pass(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    settings = fast_settings(tmp_path)
    data = _small(adult, 200).copy()
    data["y"] = 0
    split = split_rows(200, holdout_fraction=0.3, max_rows=settings.max_rows, seed=0)
    data.loc[split.holdout[:3], "y"] = 1  # every positive lands in the holdout
    output = run(make_context(data, sklearn_model), settings)
    epsilon = metric(output, "epsilon")
    assert epsilon.value is None
    assert "holds only class 0" in (epsilon.reason or "")


def test_an_unreachable_epsilon_names_the_target(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    settings = fast_settings(tmp_path, target_epsilon=1e-4, target_delta=1e-10)
    output = run(make_context(_small(adult, 200), sklearn_model), settings)
    reason = metric(output, "epsilon").reason or ""
    assert reason.startswith("target_epsilon 0.0001 with delta 1e-10 cannot be reached")
    assert "\n" not in reason


def test_a_sweep_point_out_of_reach_leaves_the_audit_and_the_other_points(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    settings = fast_settings(tmp_path, target_delta=1e-10, sweep_epsilons=(1e-4, 3.0))
    output = run(make_context(_small(adult, 200), sklearn_model), settings)
    assert metric(output, "epsilon").value == pytest.approx(3.0, abs=0.05)
    (skipped,) = [w for w in output.warnings if "sweep" in w]
    assert skipped.startswith("the sweep's \u03b5=0.0001 was not trained: target_epsilon 0.0001")


def test_the_training_table_states_one_over_the_training_rows(
    adult: pd.DataFrame, sklearn_model: Any, tmp_path: Path
) -> None:
    output = run(make_context(_small(adult, 200), sklearn_model), fast_settings(tmp_path))
    rows = dict(table(output, "DP training").rows)
    assert float(rows["1 / training rows (delta should be well below it)"]) == pytest.approx(
        1 / 140
    )


def test_the_words_state_the_threat_model_and_claim_no_absence_of_leakage() -> None:
    words = " ".join(LIMITATIONS)
    assert "Poisson sample" in words and "record-level" in words
    assert "does not make the model fair" in words
    assert "not that there is no leakage" in words
    assert not any("= no leakage" in text for text in METRICS.values())

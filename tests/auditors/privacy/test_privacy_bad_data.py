"""Bad data, a missing Opacus and impossible settings give reasons, never exceptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from audit.auditors.privacy import PrivacyConfig
from audit.auditors.privacy import auditor as auditor_module
from audit.auditors.privacy.dp_training import ERR_NO_OPACUS
from audit.core.context import AuditContext, Outcomes, Task
from audit.core.protocols import ModelAdapter
from tests.auditors.privacy.conftest import fast_settings, make_context, run


def _all_unmeasured(output: object, fragment: str) -> None:
    metrics = output.metrics  # type: ignore[attr-defined]
    assert metrics
    for result in metrics:
        assert result.value is None
        assert result.reason is not None and fragment in result.reason


def test_missing_opacus_names_the_extra(
    adult: pd.DataFrame,
    sklearn_model: ModelAdapter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing() -> None:
        raise ImportError(ERR_NO_OPACUS)

    monkeypatch.setattr(auditor_module, "import_opacus", missing)
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path))
    _all_unmeasured(output, "pip install 'maas-audit[privacy]'")


def test_missing_sensitive_column_is_named(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    context = make_context(adult, sklearn_model, sensitive=("gender",))
    _all_unmeasured(run(context, fast_settings(tmp_path)), "gender")


def test_too_few_rows_and_one_class(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    _all_unmeasured(
        run(make_context(adult.head(10), sklearn_model), fast_settings(tmp_path)), "10 rows"
    )
    one_class = adult[adult["y"] == 0].head(200)
    _all_unmeasured(
        run(make_context(one_class, sklearn_model), fast_settings(tmp_path)), "single class"
    )


def _regression(context: AuditContext, y_true: np.ndarray) -> AuditContext:
    return AuditContext(
        data=context.data,
        roles=context.roles,
        outcomes=Outcomes(task=Task.REGRESSION, y_true=y_true, y_pred=np.zeros(len(y_true))),
        model=context.model,
    )


def test_constant_or_missing_regression_target_is_a_reason(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    context = make_context(adult, sklearn_model)
    constant = _regression(context, np.full(len(adult), 40.0))
    _all_unmeasured(run(constant, fast_settings(tmp_path)), "target is constant")
    missing = np.asarray(adult["age"], dtype=np.float64)
    missing[:3] = np.nan
    _all_unmeasured(run(_regression(context, missing), fast_settings(tmp_path)), "3 missing")


def test_cuda_asked_for_without_cuda_is_a_reason(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path, device="cuda"))
    _all_unmeasured(output, "CUDA is not available")


def test_config_validates_its_arguments() -> None:
    with pytest.raises(ValidationError):
        PrivacyConfig(target_epsilon=0)
    with pytest.raises(ValidationError):
        PrivacyConfig(sweep_epsilons=(1.0, -2.0))
    with pytest.raises(ValidationError):
        PrivacyConfig(unknown=1)  # type: ignore[call-arg]
    assert PrivacyConfig().output_dir == "reports/privacy-model"


def test_roles_without_sensitive_columns_still_measure_overall(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    context = make_context(adult, sklearn_model, sensitive=())
    output = run(context, fast_settings(tmp_path))
    assert next(m for m in output.metrics if m.metric == "accuracy_drop").value is not None
    assert not [m for m in output.metrics if m.grouping]


def test_a_membership_column_that_is_not_true_or_false_is_a_reason(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    # "no" is a non-empty string, which bool() would read as a member
    data = adult.assign(member=np.where(np.arange(len(adult)) < 1000, "yes", "no"))
    settings = fast_settings(tmp_path, membership_column="member")
    _all_unmeasured(
        run(make_context(data, sklearn_model), settings),
        "membership column 'member' must hold true/false (or 1/0) values; it holds 'yes', 'no'",
    )

"""The device: chosen automatically, CUDA when present; the CUDA path runs only with a GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from opacus.accountants import RDPAccountant

from audit.auditors.privacy import train_module
from audit.auditors.privacy.dp_training import choose_device
from audit.auditors.privacy.models import stand_in_module
from audit.core.context import AuditContext, Outcomes, Task
from audit.core.protocols import ModelAdapter
from tests.auditors.privacy.conftest import (
    fast_settings,
    make_context,
    metric,
    run,
    table,
    training_settings,
)

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="CUDA is not available on this machine")


def test_auto_picks_cuda_exactly_when_it_is_available() -> None:
    assert choose_device("auto") == ("cuda" if CUDA else "cpu")
    assert choose_device("cpu") == "cpu"


@needs_cuda
@pytest.mark.parametrize("mode", ["hooks", "ghost", "bookkeeping"])
def test_cuda_training_accounts_like_opacus_and_returns_a_cpu_model(mode: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 12)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=3000) > 0).astype(np.int64)
    settings = training_settings(batch_size=256, grad_sample_mode=mode, device="cuda")
    trained = train_module(
        stand_in_module(12, 32), x, y, head="logit", settings=settings, target_epsilon=2.0
    )
    report = trained.report
    assert report.device.startswith("cuda") and report.grad_sample_mode == mode
    assert all(p.device.type == "cpu" for p in trained.module.parameters())
    by_hand = RDPAccountant()
    for _ in range(report.steps):
        by_hand.step(noise_multiplier=report.noise_multiplier, sample_rate=report.sample_rate)
    assert by_hand.get_epsilon(1e-5) == pytest.approx(report.epsilon, rel=1e-9)
    with torch.no_grad():
        logits = trained.module(torch.from_numpy(x))[:, 0].numpy()
    assert float(np.mean((logits > 0) == (y == 1))) > 0.75


@needs_cuda
def test_cuda_regression_audit(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    context = make_context(adult, sklearn_model)
    hours = np.asarray(adult["hours-per-week"], dtype=np.float64)
    regression = AuditContext(
        data=context.data,
        roles=context.roles,
        outcomes=Outcomes(
            task=Task.REGRESSION, y_true=hours, y_pred=np.full(len(hours), hours.mean())
        ),
        model=context.model,
    )
    output = run(regression, fast_settings(tmp_path, device="auto"))
    assert str(dict(table(output, "DP training").rows)["device"]).startswith("cuda")
    assert metric(output, "mae_increase").value is not None

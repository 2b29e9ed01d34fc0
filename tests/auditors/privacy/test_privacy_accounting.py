"""The DP training's epsilon: Opacus's accountant recomputed independently, and the target met."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from opacus.accountants import PRVAccountant, RDPAccountant
from opacus.accountants.analysis import rdp as rdp_analysis

from audit.auditors.privacy import TrainingSettings, train_module
from audit.auditors.privacy.dp_training import resolve_mode
from audit.auditors.privacy.models import stand_in_module
from tests.auditors.privacy.conftest import training_settings


def _data(n: int = 1500, width: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, width)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(np.int64)
    return x, y


def _settings(**overrides: Any) -> TrainingSettings:
    """Opacus's hooks, batches of 100, unless told otherwise."""
    return training_settings(**{"grad_sample_mode": "hooks", **overrides})


def test_rdp_epsilon_equals_a_hand_stepped_accountant() -> None:
    x, y = _data()
    trained = train_module(
        stand_in_module(x.shape[1], 0), x, y, head="logit", settings=_settings(), target_epsilon=2.0
    )
    report = trained.report
    assert report.private and report.noise_multiplier is not None and report.epsilon is not None
    assert report.sample_rate == pytest.approx(100 / 1500)
    assert report.steps == sum(k for _, _, k in report.history)

    by_hand = RDPAccountant()
    for _ in range(report.steps):
        by_hand.step(noise_multiplier=report.noise_multiplier, sample_rate=report.sample_rate)
    assert by_hand.get_epsilon(1e-5) == pytest.approx(report.epsilon, rel=1e-9)

    # and from the RDP analysis functions directly, without an accountant object
    orders = RDPAccountant.DEFAULT_ALPHAS
    rdp = rdp_analysis.compute_rdp(
        q=report.sample_rate,
        noise_multiplier=report.noise_multiplier,
        steps=report.steps,
        orders=orders,
    )
    epsilon, _ = rdp_analysis.get_privacy_spent(orders=orders, rdp=rdp, delta=1e-5)
    assert float(epsilon) == pytest.approx(report.epsilon, rel=1e-9)


@pytest.mark.parametrize(("accountant", "target"), [("rdp", 1.0), ("prv", 3.0)])
def test_dp_model_respects_the_target_epsilon(accountant: str, target: float) -> None:
    x, y = _data()
    trained = train_module(
        stand_in_module(x.shape[1], 0),
        x,
        y,
        head="logit",
        settings=_settings(accountant=accountant, epochs=2),
        target_epsilon=target,
    )
    epsilon = trained.report.epsilon
    assert epsilon is not None
    # make_private_with_epsilon searches the noise to within Opacus's tolerance (0.01)
    assert target * 0.9 <= epsilon <= target + 0.01
    if accountant == "prv":
        check = PRVAccountant()
        for _ in range(trained.report.steps):
            check.step(
                noise_multiplier=trained.report.noise_multiplier,
                sample_rate=trained.report.sample_rate,
            )
        assert check.get_epsilon(1e-5) == pytest.approx(epsilon, rel=1e-6)


def test_non_private_training_reports_no_guarantee() -> None:
    x, y = _data(400)
    trained = train_module(
        stand_in_module(x.shape[1], 0),
        x,
        y,
        head="logit",
        settings=_settings(epochs=1),
        target_epsilon=None,
    )
    assert not trained.report.private
    assert trained.report.epsilon is None and trained.report.noise_multiplier is None
    assert trained.report.samples_seen == 400


def test_reported_sample_rate_is_the_one_opacus_accounted() -> None:
    # 1500 rows in batches of 128: Opacus samples at 1 / 12 batches, not 128 / 1500
    x, y = _data()
    settings = _settings(epochs=1, batch_size=128)
    trained = train_module(
        stand_in_module(x.shape[1], 0), x, y, head="logit", settings=settings, target_epsilon=2.0
    )
    report = trained.report
    assert report.sample_rate == pytest.approx(1 / 12)
    assert {r for _, r, _ in report.history} == {report.sample_rate}
    by_hand = RDPAccountant()
    for _ in range(report.steps):
        by_hand.step(noise_multiplier=report.noise_multiplier, sample_rate=report.sample_rate)
    assert by_hand.get_epsilon(1e-5) == pytest.approx(report.epsilon, rel=1e-9)


@pytest.mark.parametrize("hidden", [0, 16])
def test_every_clipping_engine_trains_the_same_model_as_per_sample_gradients(
    hidden: int,
) -> None:
    # Ghost clipping (Opacus) and book-keeping (one backward pass) compute each row's
    # gradient norm without the row's gradient.  Every engine draws the same Poisson
    # batches (their distribution is checked against Opacus's sampler in
    # test_privacy_batches.py); with the same seed they must clip, noise (one draw per
    # parameter, in order, as Opacus's DPOptimizer) and step exactly as Opacus's
    # per-sample-gradient hooks.
    x, y = _data()
    modes = ("hooks", "ghost", "bookkeeping") if hidden else ("hooks", "bookkeeping")
    trained = {}
    for mode in modes:
        settings = _settings(epochs=2, grad_sample_mode=mode)
        torch.manual_seed(3)
        module = stand_in_module(x.shape[1], hidden)
        trained[mode] = train_module(
            module, x, y, head="logit", settings=settings, target_epsilon=2.0
        )
    hooks = trained["hooks"]
    for mode in modes[1:]:
        other = trained[mode]
        assert other.report.grad_sample_mode == mode
        assert other.report.epsilon == hooks.report.epsilon
        assert other.report.noise_multiplier == hooks.report.noise_multiplier
        assert other.report.sample_rate == hooks.report.sample_rate
        assert other.report.steps == hooks.report.steps
        assert other.report.samples_seen == hooks.report.samples_seen
        assert other.report.history == hooks.report.history
        for name, value in hooks.module.state_dict().items():
            torch.testing.assert_close(other.module.state_dict()[name], value, rtol=0, atol=1e-5)


def test_auto_mode_picks_the_fastest_engine_the_layers_allow() -> None:
    assert resolve_mode("auto", stand_in_module(8, 0)) == "bookkeeping"
    assert resolve_mode("auto", stand_in_module(8, 16)) == "bookkeeping"
    # linear layers, but not a flat stack: Opacus's ghost clipping
    nested = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(8, 4)), torch.nn.Linear(4, 1))
    assert resolve_mode("auto", nested) == "ghost"
    assert resolve_mode("auto", stand_in_module(8, 16), input_ndim=3) == "ghost"
    with_norm = torch.nn.Sequential(
        torch.nn.Linear(8, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)
    )
    assert resolve_mode("auto", with_norm) == "hooks"
    assert resolve_mode("ew", stand_in_module(8, 16)) == "ew"
    with pytest.raises(ValueError, match="it has a BatchNorm1d layer"):
        resolve_mode("bookkeeping", with_norm)


def test_empty_poisson_batches_take_the_same_noise_steps_in_every_engine() -> None:
    # 20 rows sampled at 1/20: a batch is empty with probability (19/20)^20 = 0.36, so
    # some of the 60 are (all 60 non-empty has probability 3e-12)
    x, y = _data(20, 5)
    trained = {}
    for mode in ("hooks", "ghost", "bookkeeping"):
        settings = _settings(epochs=3, batch_size=1, grad_sample_mode=mode)
        torch.manual_seed(0)
        trained[mode] = train_module(
            stand_in_module(5, 4), x, y, head="logit", settings=settings, target_epsilon=8.0
        )
    hooks = trained["hooks"]
    assert hooks.report.steps == 60
    for mode in ("ghost", "bookkeeping"):
        assert trained[mode].report.steps == 60
        assert trained[mode].report.samples_seen == hooks.report.samples_seen
        for name, value in hooks.module.state_dict().items():
            torch.testing.assert_close(
                trained[mode].module.state_dict()[name], value, rtol=0, atol=1e-5
            )


@pytest.mark.parametrize("mode", ["hooks", "bookkeeping"])
def test_notices_that_are_not_about_the_training_do_not_reach_the_report(mode: str) -> None:
    # The search tries noise levels far from the answer, for which the RDP accountant
    # says its best order is the largest; the training's own accounting does not.
    from opacus.accountants.utils import get_noise_multiplier

    with pytest.warns(UserWarning, match="Optimal order is the largest alpha"):
        get_noise_multiplier(target_epsilon=2.0, target_delta=1e-5, sample_rate=1 / 15, epochs=3)
    x, y = _data()
    settings = _settings(grad_sample_mode=mode)
    report = train_module(
        stand_in_module(x.shape[1], 0), x, y, head="logit", settings=settings, target_epsilon=2.0
    ).report
    assert report.sample_rate == pytest.approx(1 / 15)
    # nor do Opacus's notice of its pseudo-random noise (the limitations say so) or
    # torch's per-step notice about the hooks
    assert report.warnings == ()
    by_hand = RDPAccountant()
    by_hand.history = [(report.noise_multiplier, report.sample_rate, report.steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert by_hand.get_epsilon(1e-5) == pytest.approx(report.epsilon, rel=1e-9)

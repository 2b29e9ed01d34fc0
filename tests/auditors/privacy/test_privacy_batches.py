"""The training batches: shuffled as a ``DataLoader`` shuffles, Poisson as Opacus samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opacus.accountants import PRVAccountant, RDPAccountant
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from scipy import stats
from torch.utils.data import DataLoader

from audit.auditors.privacy import train_module
from audit.auditors.privacy.dp_training import (
    _Batches,
    _whole_batch,
    poisson_gaps,
    poisson_schedule,
)
from audit.auditors.privacy.models import stand_in_module
from tests.auditors.privacy.conftest import training_settings


def _numbered(n: int) -> _Batches:
    """Rows whose label is their row number, so a batch shows which rows it took."""
    return _Batches(torch.zeros(n, 2), torch.arange(n))


def test_shuffled_batches_are_those_of_a_shuffling_data_loader() -> None:
    rows = _numbered(1003)
    ours, theirs = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    loader: DataLoader[tuple[torch.Tensor, torch.Tensor]] = DataLoader(
        rows,  # type: ignore[arg-type]
        batch_size=100,
        shuffle=True,
        generator=theirs,
        collate_fn=_whole_batch,
    )
    for _ in range(3):  # the epochs after the first show the generator is left where it was
        got = [labels.tolist() for _, labels in rows.shuffled(100, ours)]
        want = [labels.tolist() for _, labels in loader]
        assert got == want
        assert [len(b) for b in got] == [100] * 10 + [3]


@pytest.mark.parametrize(
    ("rows", "batch"), [(1400, 128), (1500, 100), (20, 1), (1000, 7), (50, 50)]
)
def test_sample_rate_and_steps_are_those_of_opacus_poisson_loader(rows: int, batch: int) -> None:
    from opacus.data_loader import DPDataLoader

    loader = DPDataLoader.from_data_loader(
        DataLoader(_numbered(rows), batch_size=batch, collate_fn=_whole_batch)  # type: ignore[arg-type]
    )
    assert poisson_schedule(rows, batch) == (loader.sample_rate, len(loader))


def _poisson_batches(rows: int, batch: int, epochs: int, seed: int) -> list[np.ndarray]:
    data, generator = _numbered(rows), torch.Generator().manual_seed(seed)
    rate, steps = poisson_schedule(rows, batch)
    return [
        labels.numpy() for _ in range(epochs) for _, labels in data.poisson(rate, steps, generator)
    ]


def _opacus_batches(rows: int, rate: float, count: int, seed: int) -> list[np.ndarray]:
    sampler = UniformWithReplacementSampler(
        num_samples=rows,
        sample_rate=rate,
        generator=torch.Generator().manual_seed(seed),
        steps=count,
    )
    return [np.asarray(b, dtype=np.int64) for b in sampler]


def test_poisson_batches_take_each_row_independently_at_the_rate() -> None:
    # 500 rows, expected batch 25: q = 1 / 20, 20 steps per epoch; 200 epochs, 4,000 batches
    rows, rate = 500, 1 / 20
    batches = _poisson_batches(rows, 25, epochs=200, seed=0)
    assert len(batches) == 4000
    assert all(
        np.all(np.diff(b) > 0) and (len(b) == 0 or 0 <= b[0] <= b[-1] < rows) for b in batches
    )
    taken = np.zeros((len(batches), rows), dtype=bool)
    for i, b in enumerate(batches):
        taken[i, b] = True

    # batch sizes: Binomial(500, 1/20), by a chi-square test on bins of >= 5 expected
    sizes = taken.sum(axis=1)
    edges = np.arange(14, 38)  # sizes 0..13 and 37.. pooled into the end bins
    expected = np.diff(np.concatenate([[0.0], stats.binom.cdf(edges - 1, rows, rate), [1.0]]))
    observed = np.bincount(np.searchsorted(edges, sizes, side="right"), minlength=len(expected))
    assert stats.chisquare(observed, expected * len(sizes)).pvalue > 1e-3

    # each row: taken in Binomial(4000, 1/20) batches; the dispersion over 500 rows is chi2(499)
    counts = taken.sum(axis=0)
    m = len(batches)
    dispersion = float(((counts - m * rate) ** 2).sum() / (m * rate * (1 - rate)))
    assert (
        stats.chi2.sf(dispersion, rows - 1) > 1e-3 and stats.chi2.cdf(dispersion, rows - 1) > 1e-3
    )

    # independence: disjoint neighbouring pairs (0, 1), (2, 3)... are both taken at rate q²,
    # including the pair that straddles two batches (last row, then first row of the next)
    both = int((taken[:, 0::2] & taken[:, 1::2]).sum())
    assert stats.binomtest(both, m * rows // 2, rate**2).pvalue > 1e-3
    straddling = int((taken[:-1, -1] & taken[1:, 0]).sum())
    assert stats.binomtest(straddling, m - 1, rate**2).pvalue > 1e-3


def test_the_first_and_last_rows_of_an_epoch_are_taken_at_the_rate_too() -> None:
    # 20 rows at q = 1 / 10 over 2,000 epochs: row 0 of the first batch and row 19 of the
    # last batch of each epoch (the ends of the epoch's sequence of trials)
    batches = _poisson_batches(20, 2, epochs=2000, seed=2)
    first = sum(int(0 in b) for b in batches[0::10])
    last = sum(int(19 in b) for b in batches[9::10])
    assert stats.binomtest(first, 2000, 0.1).pvalue > 1e-3
    assert stats.binomtest(last, 2000, 0.1).pvalue > 1e-3


def test_poisson_batch_sizes_match_opacus_sampler() -> None:
    # the same number of batches from Opacus's own sampler: a two-sample test of sizes
    ours = [len(b) for b in _poisson_batches(500, 25, epochs=200, seed=1)]
    theirs = [len(b) for b in _opacus_batches(500, 1 / 20, len(ours), seed=1)]
    assert stats.ks_2samp(ours, theirs, method="asymp").pvalue > 1e-3
    assert np.mean(ours) == pytest.approx(np.mean(theirs), abs=0.3)  # both near 25


def test_the_gaps_drawn_at_a_time_do_not_change_the_batches() -> None:
    # drawn one at a time the geometric numbers are the same stream, so the same successes
    at_once = poisson_gaps(0.03, 20_000, torch.Generator().manual_seed(5))
    one_by_one = poisson_gaps(0.03, 20_000, torch.Generator().manual_seed(5), chunk=1)
    few = poisson_gaps(0.03, 20_000, torch.Generator().manual_seed(5), chunk=7)
    np.testing.assert_array_equal(at_once, one_by_one)
    np.testing.assert_array_equal(at_once, few)
    assert at_once.dtype == np.int64 and at_once[-1] < 20_000


def test_at_rate_one_every_row_is_in_every_batch() -> None:
    # fewer rows than the batch size: one batch per epoch, as Opacus's sampler (q = 1)
    rows = _numbered(30)
    batches = list(rows.poisson(1.0, 1, torch.Generator().manual_seed(0)))
    assert [labels.tolist() for _, labels in batches] == [list(range(30))]
    opacus = _opacus_batches(30, 1.0, 1, seed=0)
    assert [b.tolist() for b in opacus] == [list(range(30))]


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_bookkeeping_epsilon_equals_stepping_the_accountant_every_step(accountant: str) -> None:
    # the book-keeping engine accounts once after training; Opacus's engines step the
    # accountant after every optimiser step
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    settings = training_settings(
        epochs=2, batch_size=50, accountant=accountant, grad_sample_mode="bookkeeping"
    )
    report = train_module(
        stand_in_module(5, 0), x, y, head="logit", settings=settings, target_epsilon=2.0
    ).report
    assert report.steps == 24 and report.noise_multiplier is not None
    by_hand = RDPAccountant() if accountant == "rdp" else PRVAccountant()
    for _ in range(report.steps):
        by_hand.step(noise_multiplier=report.noise_multiplier, sample_rate=report.sample_rate)
    assert report.history == tuple(by_hand.history)
    assert report.epsilon == pytest.approx(by_hand.get_epsilon(1e-5), rel=1e-9)

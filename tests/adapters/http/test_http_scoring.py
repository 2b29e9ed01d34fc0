"""Scoring a served model with several requests in flight: bounded, in order, fail-fast."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit.adapters import CallableAdapter
from audit.adapters.http import DEFAULT_CONCURRENCY, HttpAdapter, http_adapter
from audit.core.context import ColumnRoles
from audit.core.protocols import Predictions
from audit.errors import EndpointError, UsageError
from audit.scoring import score_batches, scoring_concurrency
from audit.testing import Fault, serve_model, sklearn_predict_fn

AdapterFactory = Callable[..., HttpAdapter]
BATCH = 50  # 600 held-out rows: 12 batches


def roles_of(rows: pd.DataFrame) -> ColumnRoles:
    return ColumnRoles(target="income", sensitive=("sex",), features=tuple(rows.columns))


def url_of(served: object, protocol: str) -> str:
    return served.mlflow_url if protocol == "mlflow" else served.oip_url  # type: ignore[attr-defined]


@pytest.mark.parametrize("protocol", ["mlflow", "oip-v2"])
def test_concurrent_scoring_is_bounded_and_equals_sequential_scoring(
    http_pipeline: Pipeline,
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
    protocol: str,
) -> None:
    fn = sklearn_predict_fn(http_pipeline)
    roles = roles_of(http_rows)
    with serve_model(fn, latency=0.03, respond="records") as served:
        adapter = adapter_factory(url_of(served, protocol), batch_size=BATCH)
        sequential, _ = score_batches(adapter, http_rows, roles, concurrency=1)
        assert served.max_in_flight == 1
        assert served.requests == 12
    with serve_model(fn, latency=0.03, respond="records") as served:
        adapter = adapter_factory(url_of(served, protocol), batch_size=BATCH)
        concurrent, report = score_batches(adapter, http_rows, roles, concurrency=3)
        # Several requests were in flight at once, never more than the bound.
        assert 1 < served.max_in_flight <= 3
        assert served.requests == 12
        assert served.rows == len(http_rows)
    assert report.concurrency == 3
    assert (report.batches, report.batches_scored, report.batches_cached) == (12, 12, 0)
    # Row order survives: both equal the model itself, row for row.
    assert concurrent.labels is not None and sequential.labels is not None
    assert concurrent.labels.tolist() == sequential.labels.tolist()
    assert concurrent.labels.tolist() == http_pipeline.predict(http_rows).tolist()
    np.testing.assert_array_equal(concurrent.scores, sequential.scores)
    np.testing.assert_array_equal(concurrent.scores, http_pipeline.predict_proba(http_rows)[:, 1])


def test_http_adapters_default_to_four_in_flight(
    constant_fn: Callable[[pd.DataFrame], Predictions], http_rows: pd.DataFrame
) -> None:
    with serve_model(constant_fn, latency=0.03) as served:
        with http_adapter(served.mlflow_url, batch_size=BATCH) as adapter:
            _, report = score_batches(adapter, http_rows, roles_of(http_rows))
        assert DEFAULT_CONCURRENCY == 4
        assert report.concurrency == 4
        assert 1 < served.max_in_flight <= 4
        with http_adapter(served.mlflow_url, batch_size=BATCH, concurrency=2) as adapter:
            assert scoring_concurrency(adapter) == 2
            assert scoring_concurrency(adapter, 7) == 7


def test_a_batch_that_fails_twice_is_retried_and_the_rest_are_unaffected(
    http_pipeline: Pipeline, http_rows: pd.DataFrame, adapter_factory: AdapterFactory
) -> None:
    faults = [Fault("status", times=2, status=503, retry_after="0")]
    with serve_model(sklearn_predict_fn(http_pipeline), faults=faults, latency=0.01) as served:
        adapter = adapter_factory(served.mlflow_url, batch_size=BATCH, max_retries=3)
        predictions, _ = score_batches(adapter, http_rows, roles_of(http_rows), concurrency=4)
        assert served.requests == 12 + 2
    assert adapter.transport.retries == 2
    assert adapter.requests_sent == 14
    assert adapter.rows_sent == len(http_rows) + 2 * BATCH
    assert predictions.labels is not None
    assert predictions.labels.tolist() == http_pipeline.predict(http_rows).tolist()


def test_the_first_hard_failure_stops_sending_new_batches(
    constant_fn: Callable[[pd.DataFrame], Predictions],
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
) -> None:
    faults = [Fault("status", times=1000, status=500)]
    with serve_model(constant_fn, faults=faults, latency=0.01) as served:
        adapter = adapter_factory(served.mlflow_url, batch_size=BATCH, max_retries=0)
        with pytest.raises(EndpointError, match="no answer after 1 attempts") as caught:
            score_batches(adapter, http_rows, roles_of(http_rows), concurrency=3)
        # At most the three batches in flight were sent, none of the other nine (on a
        # loaded machine the first failure can come back before the other two workers
        # have taken a batch, and then they take none).
        assert 1 <= served.requests <= 3
    assert "\n" not in str(caught.value)
    assert not [t for t in threading.enumerate() if t.name.startswith("maas-audit-score")]


def test_in_process_models_are_scored_from_one_thread(http_rows: pd.DataFrame) -> None:
    threads: set[int] = set()

    def model(rows: pd.DataFrame) -> np.ndarray:
        threads.add(threading.get_ident())
        return np.arange(len(rows)) % 2

    adapter = CallableAdapter(model, batch_size=BATCH)
    predictions, report = score_batches(adapter, http_rows, roles_of(http_rows), concurrency=8)
    assert threads == {threading.get_ident()}
    assert report.concurrency == 1
    assert scoring_concurrency(adapter, 8) == 1
    assert predictions.labels is not None
    expected = np.concatenate([np.arange(n) % 2 for n in [BATCH] * 12])
    np.testing.assert_array_equal(predictions.labels, expected)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_concurrency_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(UsageError, match="concurrency"):
        http_adapter("http://127.0.0.1:9/invocations", concurrency=bad)  # type: ignore[arg-type]
    adapter = http_adapter("http://127.0.0.1:9/invocations")
    with adapter, pytest.raises(UsageError, match="concurrency must be an int >= 1"):
        scoring_concurrency(adapter, bad)  # type: ignore[arg-type]


def test_each_request_in_flight_keeps_the_adapters_time_out_and_batch_size(
    constant_fn: Callable[[pd.DataFrame], Predictions],
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
) -> None:
    faults = [Fault("delay", times=1000, seconds=1.0)]
    with serve_model(constant_fn, faults=faults) as served:
        adapter = adapter_factory(served.mlflow_url, batch_size=40, max_retries=0, timeout=0.2)
        with pytest.raises(EndpointError, match=r"timed out after 0\.2 s"):
            score_batches(adapter, http_rows, roles_of(http_rows), concurrency=3)
        assert served.requests == 3
        assert served.rows == 3 * 40


class _SlowBar:
    """A progress bar that takes 40 ms per update: a busy main thread."""

    def update(self, n: int = 1) -> None:
        time.sleep(0.04)

    def close(self) -> None:
        pass


class _InFlight:
    """A stand-in adapter of batches of 10 rows that declares ``concurrency`` in flight."""

    kind = "in flight"
    batch_size = 10
    concurrency = 2
    input_columns = None

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind}

    def fingerprint(self) -> str:
        return self.kind


class _Timed(_InFlight):
    """Declares 4 in flight; records when each batch's prediction starts."""

    kind = "timed"
    concurrency = 4

    def __init__(self) -> None:
        self.started: list[float] = []
        self.lock = threading.Lock()

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        with self.lock:
            self.started.append(time.perf_counter())
        time.sleep(0.01)
        return Predictions(labels=np.zeros(len(rows), dtype=np.int64))


def test_workers_take_their_next_batch_without_waiting_for_the_main_thread() -> None:
    # 12 batches of 10 ms, 4 workers: about 30 ms of predicting.  When a worker had to
    # wait for the main thread (here slowed to 40 ms per batch) to hand it the next
    # batch, the last batch started only after 8 of those hand-offs, 320 ms or more.
    adapter = _Timed()
    rows = pd.DataFrame({"x": np.arange(120.0)})
    roles = ColumnRoles(target="y", sensitive=(), features=("x",))

    predictions, report = score_batches(adapter, rows, roles, progress=lambda *_: _SlowBar())

    assert len(predictions) == 120 and report.concurrency == 4
    assert len(adapter.started) == 12
    assert max(adapter.started) - min(adapter.started) < 0.2


class _HeapWatcher(_InFlight):
    """Declares 2 in flight; records the frozen-object count while it predicts."""

    kind = "heap watcher"

    def __init__(self) -> None:
        self.frozen: list[int] = []
        self.cycles_collected: list[bool] = []

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        self.frozen.append(gc.get_freeze_count())
        cycle = _Node()
        cycle.partner = cycle
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()  # what the pass makes is still collected
        self.cycles_collected.append(alive() is None)
        return Predictions(labels=np.zeros(len(rows), dtype=np.int64))


class _Node:
    partner: object = None


def test_the_heap_alive_before_the_pass_is_left_out_of_collections_until_it_ends() -> None:
    rows = pd.DataFrame({"x": np.arange(40.0)})
    roles = ColumnRoles(target="y", sensitive=(), features=("x",))
    adapter = _HeapWatcher()
    assert gc.get_freeze_count() == 0

    score_batches(adapter, rows, roles)

    assert len(adapter.frozen) == 4 and min(adapter.frozen) > 1000  # pandas and more
    assert adapter.cycles_collected == [True] * 4
    assert gc.get_freeze_count() == 0  # put back


def test_a_heap_the_process_froze_itself_stays_frozen() -> None:
    rows = pd.DataFrame({"x": np.arange(20.0)})
    roles = ColumnRoles(target="y", sensitive=(), features=("x",))
    adapter = _HeapWatcher()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        score_batches(adapter, rows, roles)
        # frozen objects that die leave the count, so it can only fall: neither frozen
        # again (what the pass made would join) nor unfrozen (it would drop to 0)
        assert len(adapter.frozen) == 2
        assert all(0 < count <= frozen for count in adapter.frozen)
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()

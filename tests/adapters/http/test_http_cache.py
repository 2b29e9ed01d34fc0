"""The prediction cache: a rerun sends nothing, a resume sends only what is missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from audit import run_audit
from audit.adapters import CallableAdapter
from audit.adapters.http import HttpAdapter
from audit.cache import PredictionCache
from audit.core.context import ColumnRoles
from audit.core.protocols import Predictions
from audit.errors import EndpointError, UsageError
from audit.scoring import score_batches
from audit.testing import Fault, serve_model, sklearn_predict_fn, start_server

AdapterFactory = Callable[..., HttpAdapter]
BATCH = 50  # 600 audited rows: 12 batches


@pytest.fixture(scope="module")
def audited(http_adult: pd.DataFrame) -> pd.DataFrame:
    """The 600 rows the model never saw, with their ground truth."""
    return http_adult.iloc[400:].reset_index(drop=True)


def roles_of(rows: pd.DataFrame) -> ColumnRoles:
    return ColumnRoles(target="income", sensitive=("sex",), features=tuple(rows.columns))


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/batch-*.npz"))


def audit(url: str, data: pd.DataFrame, cache: Path | None, **options: Any) -> Any:
    return run_audit(
        model=url,
        data=data,
        policy="four-fifths",
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        model_options={"batch_size": BATCH, **options},
        cache_dir=cache,
    )


def measurements(result: Any) -> tuple[Any, Any]:
    report = result.to_dict()
    return report["findings"], report["auditors"]


def test_a_rerun_sends_no_request_and_gives_identical_findings(
    http_pipeline: Pipeline, audited: pd.DataFrame, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with serve_model(sklearn_predict_fn(http_pipeline)) as served:
        reference = audit(served.mlflow_url, audited, None)
        assert served.requests == 12
        first = audit(served.mlflow_url, audited, cache)
        assert served.requests == 24
        second = audit(served.mlflow_url, audited, cache)
        assert served.requests == 24  # nothing was sent
    assert len(entries(cache)) == 12
    assert measurements(first) == measurements(reference)
    assert measurements(second) == measurements(reference)
    assert reference.model["scoring"]["cache"] == "off"
    assert first.model["scoring"]["batches_scored"] == 12
    scoring = second.model["scoring"]
    assert (scoring["batches"], scoring["batches_scored"], scoring["batches_from_cache"]) == (
        12,
        0,
        12,
    )
    assert scoring["cache"]["entries_rejected"] == 0
    assert scoring["cache"]["key"] == entries(cache)[0].parent.name
    # The JSON report tells the reader where the predictions came from.
    assert json.loads(json.dumps(second.to_dict()))["model"]["scoring"] == scoring


def test_a_crash_mid_run_resumes_with_only_the_missing_batches(
    http_pipeline: Pipeline, audited: pd.DataFrame, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    fn = sklearn_predict_fn(http_pipeline)
    with serve_model(fn) as healthy:
        reference = audit(healthy.mlflow_url, audited, None)
    # The endpoint answers five batches, then fails for good.
    failing = start_server(fn, faults=[Fault("ok", times=5), Fault("status", times=10_000)])
    port = failing.port
    try:
        with pytest.raises(EndpointError, match="HTTP 503"):
            audit(failing.mlflow_url, audited, cache, max_retries=0)
    finally:
        failing.close()
    assert len(entries(cache)) == 5
    # The same endpoint back up: only the seven missing batches are sent.
    with serve_model(fn, port=port) as restarted:
        resumed = audit(restarted.mlflow_url, audited, cache)
        assert restarted.requests == 7
        assert restarted.rows == 7 * BATCH
    assert measurements(resumed) == measurements(reference)
    assert resumed.model["scoring"]["batches_from_cache"] == 5
    assert resumed.model["scoring"]["batches_scored"] == 7
    assert len(entries(cache)) == 12


def _rewrite_scores(path: Path) -> None:
    """Change one score but keep the entry's own checksum: a valid archive, wrong content."""
    with np.load(path, allow_pickle=False) as entry:
        members = {name: entry[name] for name in entry.files}
    members["scores"] = members["scores"].copy()
    members["scores"][0] = 1.0 - members["scores"][0]
    np.savez(path, allow_pickle=False, **members)


def test_corrupt_or_foreign_entries_are_rescored_not_trusted(
    http_pipeline: Pipeline,
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
    tmp_path: Path,
) -> None:
    cache = PredictionCache(tmp_path / "cache")
    roles = roles_of(http_rows)
    with serve_model(sklearn_predict_fn(http_pipeline), respond="records") as served:
        adapter = adapter_factory(served.mlflow_url, batch_size=BATCH)
        first, _ = score_batches(adapter, http_rows, roles, cache=cache)
        files = entries(cache.folder)
        files[1].write_bytes(files[1].read_bytes()[:100])  # truncated
        raw = bytearray(files[2].read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # one flipped byte
        files[2].write_bytes(bytes(raw))
        files[3].write_bytes(files[4].read_bytes())  # another batch's entry
        _rewrite_scores(files[5])  # content that fails the checksum
        files[6].write_bytes(b"")  # empty
        before = served.requests
        second, report = score_batches(adapter, http_rows, roles, cache=cache)
        assert served.requests - before == 5
        assert (report.batches_scored, report.batches_cached, report.cache_rejected) == (5, 7, 5)
        third, report = score_batches(adapter, http_rows, roles, cache=cache)
        assert served.requests - before == 5  # the rescored entries were written again
        assert report.cache_rejected == 0
    for predictions in (second, third):
        assert predictions.labels is not None and first.labels is not None
        assert predictions.labels.tolist() == first.labels.tolist()
        np.testing.assert_array_equal(predictions.scores, first.scores)
    np.testing.assert_array_equal(first.scores, http_pipeline.predict_proba(http_rows)[:, 1])


class _Trap:
    """Unpickling this touches ``marker``: proof that an entry was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_an_entry_holding_a_pickle_is_rescored_never_unpickled(
    http_rows: pd.DataFrame, tmp_path: Path
) -> None:
    adapter = CallableAdapter(lambda rows: (rows["age"] > 40).astype(int), batch_size=300)
    roles = roles_of(http_rows)
    first, _ = score_batches(adapter, http_rows, roles, cache=tmp_path / "cache")
    marker = tmp_path / "unpickled"
    path = entries(tmp_path / "cache")[0]
    trap = np.empty(300, dtype=object)
    trap[:] = [_Trap(marker)] * 300
    np.savez(path, allow_pickle=True, meta=np.asarray("{}"), labels=trap)
    second, report = score_batches(adapter, http_rows, roles, cache=tmp_path / "cache")
    assert not marker.exists()
    assert (report.cache_rejected, report.batches_scored, report.batches_cached) == (1, 1, 1)
    assert second.labels is not None
    np.testing.assert_array_equal(second.labels, first.labels)  # type: ignore[arg-type]


def test_the_key_follows_the_inputs_and_the_settings_that_change_predictions(
    constant_fn: Callable[[pd.DataFrame], Predictions],
    http_rows: pd.DataFrame,
    adapter_factory: AdapterFactory,
    tmp_path: Path,
) -> None:
    cache = PredictionCache(tmp_path / "cache")
    with serve_model(constant_fn, respond="records") as served:

        def sent(rows: pd.DataFrame = http_rows, **settings: Any) -> int:
            before = served.requests
            adapter = adapter_factory(served.mlflow_url, **{"batch_size": BATCH, **settings})
            score_batches(adapter, rows, roles_of(rows), cache=cache)
            return served.requests - before

        assert sent() == 12
        # Time-out, retries and concurrency cannot change predictions: still cached.
        assert sent(timeout=9.0, max_retries=0) == 0
        changed = http_rows.copy()
        changed.loc[599, "age"] = changed.loc[599, "age"] + 1
        assert sent(changed) == 12  # one value differs: a new key, everything is sent
        assert sent(http_rows[list(reversed(http_rows.columns))]) == 12  # column order
        assert sent(batch_size=60) == 10
    assert len(list(cache.folder.iterdir())) == 4


def test_predictions_that_json_cannot_give_back_exactly_are_not_stored(
    http_rows: pd.DataFrame, tmp_path: Path
) -> None:
    calls: list[int] = []

    def model(rows: pd.DataFrame) -> np.ndarray:
        calls.append(len(rows))
        labels = np.empty(len(rows), dtype=object)
        labels[:] = [np.float64(v) for v in rows["age"]]  # NumPy scalars in an object array
        return labels

    adapter = CallableAdapter(model, batch_size=200)
    roles = roles_of(http_rows)
    for _ in range(2):
        predictions, report = score_batches(adapter, http_rows, roles, cache=tmp_path)
        assert predictions.labels is not None
        assert predictions.labels.tolist() == http_rows["age"].tolist()
        assert report.cache_not_stored == 3
        assert report.batches_scored == 3
    assert calls == [200, 200, 200, 200, 200, 200]


def test_string_labels_come_back_with_their_dtype(http_rows: pd.DataFrame, tmp_path: Path) -> None:
    def model(rows: pd.DataFrame) -> Predictions:
        labels = np.where(rows["age"] > 40, ">50K", "<=50K").astype(object)
        scores = rows["age"].to_numpy() / 100
        return Predictions(labels=labels, scores=scores)

    adapter = CallableAdapter(model, batch_size=256)
    roles = roles_of(http_rows)
    first, _ = score_batches(adapter, http_rows, roles, cache=tmp_path)
    second, report = score_batches(adapter, http_rows, roles, cache=tmp_path)
    assert report.batches_cached == 3
    assert second.labels is not None and second.scores is not None
    assert second.labels.dtype == object
    assert second.labels.tolist() == first.labels.tolist()  # type: ignore[union-attr]
    assert second.scores.dtype == np.float64
    np.testing.assert_array_equal(second.scores, first.scores)  # type: ignore[arg-type]


def test_a_cache_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match=r"cannot use .* as the prediction cache folder"):
        PredictionCache(blocker / "cache")

"""The DP model: a stated stand-in, or the torch architecture itself; saved and reloaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.torch import TorchAdapter
from audit.auditors.privacy import load_dp_model, read_metadata, read_state_dict
from audit.auditors.privacy.persistence import METADATA_FILE, STATE_FILE
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


def test_sklearn_model_gets_a_stated_stand_in_that_reloads_identically(
    adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path
) -> None:
    settings = fast_settings(tmp_path)
    output = run(make_context(adult, sklearn_model), settings)
    assert any("STAND-IN" in w for w in output.warnings)
    assert "stand-in" in output.method
    rows = dict(table(output, "DP training").rows)
    assert rows["DP model"] == "stand-in logistic regression"
    assert rows["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert rows["per-sample gradients (grad_sample_mode)"] == "bookkeeping"
    assert "book-keeping, Bu et al., 2023" in output.method

    folder = tmp_path / "dp-model"
    assert (folder / STATE_FILE).is_file() and (folder / METADATA_FILE).is_file()
    assert dict(table(output, "Saved DP model").rows)["folder"] == str(folder.resolve())
    meta = read_metadata(folder)
    assert meta["epsilon"] == metric(output, "epsilon").value
    assert meta["delta"] == 1e-5 and meta["accountant"] == "rdp" and meta["stand_in"] is True
    assert len(meta["data_sha256"]) == 64 and meta["columns"] == FEATURES
    json.dumps(meta)

    adapter = load_dp_model(folder)
    assert isinstance(adapter, TorchAdapter)
    first = adapter.predict_batch(adult[FEATURES])
    again = load_dp_model(folder).predict_batch(adult[FEATURES])
    assert first.scores is not None and again.scores is not None
    np.testing.assert_array_equal(first.scores, again.scores)
    # the reloaded model is the trained one: its holdout accuracy is the reported DP accuracy
    assert 0.6 < float(np.mean(first.labels == adult["y"].to_numpy())) <= 1.0


def _torch_adapter(adult: pd.DataFrame) -> TorchAdapter:
    encode = ColumnTransformer(
        [
            ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("n", StandardScaler(), NUMERIC),
        ],
        sparse_threshold=0.0,
    ).fit(adult[FEATURES])
    width = encode.transform(adult[FEATURES].head(2)).shape[1]
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(width, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
    )
    return TorchAdapter(module, encode=encode, output="logits", device="cpu")


def test_torch_model_is_retrained_in_its_own_architecture(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    adapter = _torch_adapter(adult)
    before = {k: v.clone() for k, v in adapter.module.state_dict().items()}
    output = run(make_context(adult, adapter), fast_settings(tmp_path))
    assert not any("STAND-IN" in w for w in output.warnings)
    assert "audited network" in str(dict(table(output, "DP training").rows)["DP model"])
    assert metric(output, "epsilon").value is not None
    # the audited module is untouched
    for key, value in adapter.module.state_dict().items():
        assert torch.equal(value, before[key])

    folder = tmp_path / "dp-model"
    with pytest.raises(ValueError, match="module and encode"):
        load_dp_model(folder)
    template = torch.nn.Sequential(
        torch.nn.Linear(adapter.module[0].in_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
    )
    reloaded = load_dp_model(folder, module=template, encode=adapter.encode)
    state = read_state_dict(folder)
    direct = torch.nn.Sequential(
        torch.nn.Linear(adapter.module[0].in_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
    )
    direct.load_state_dict(state)
    expected = TorchAdapter(direct, encode=adapter.encode, device="cpu")
    rows = adult[FEATURES].head(200)
    got, want = reloaded.predict_batch(rows), expected.predict_batch(rows)
    assert got.scores is not None and want.scores is not None
    np.testing.assert_array_equal(got.scores, want.scores)
    assert not torch.equal(state["0.weight"], before["0.weight"])


def test_gpu_path(adult: pd.DataFrame, sklearn_model: ModelAdapter, tmp_path: Path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available on this machine")
    output = run(make_context(adult, sklearn_model), fast_settings(tmp_path, device="cuda"))
    assert str(dict(table(output, "DP training").rows)["device"]).startswith("cuda")
    assert metric(output, "epsilon").value is not None

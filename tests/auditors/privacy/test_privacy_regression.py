"""Regression tasks on UCI Adult (``hours-per-week``): error cost of DP, the sweep, the attack.

Every figure is recomputed independently: MAE and RMSE with scikit-learn on the saved DP
model's predictions, epsilon with Opacus's RDP accountant stepped by hand, the attack AUC
with scikit-learn's ``roc_auc_score`` on the audited model's squared errors, the reloaded
DP regressor's values from its saved weights and target scaling with numpy.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from opacus.accountants import RDPAccountant
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, roc_auc_score, root_mean_squared_error
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit import run_audit
from audit.adapters.sklearn import SklearnAdapter
from audit.adapters.torch import TorchAdapter
from audit.auditors.privacy import (
    TabularEncoding,
    load_dp_model,
    read_metadata,
    read_state_dict,
    train_module,
)
from audit.auditors.privacy.models import stand_in_module, torch_retrainable
from audit.auditors.privacy.persistence import METADATA_FILE
from audit.auditors.privacy.split import split_rows
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.findings import Verdict
from audit.core.measurements import AuditorOutput, LineChart
from tests.auditors.privacy.conftest import (
    CATEGORICAL,
    fast_settings,
    metric,
    run,
    table,
    training_settings,
)

TARGET = "hours-per-week"
NUMERIC = ["age", "education-num", "capital-gain"]
FEATURES = CATEGORICAL + NUMERIC
POLICY = Path(__file__).resolve().parents[3] / "examples" / "privacy-policy.yaml"


def _encoder() -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("c", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("n", StandardScaler(), NUMERIC),
        ],
        sparse_threshold=0.0,
    )


def _context(data: pd.DataFrame, model: Any, y_pred: np.ndarray) -> AuditContext:
    return AuditContext(
        data=data,
        roles=ColumnRoles(
            target=TARGET,
            sensitive=("sex",),
            features=tuple(FEATURES),
            task=Task.REGRESSION,
        ),
        outcomes=Outcomes(
            task=Task.REGRESSION,
            y_true=data[TARGET].to_numpy(dtype=np.float64),
            y_pred=np.asarray(y_pred, dtype=np.float64),
        ),
        model=model,
        seed=0,
    )


def _sklearn_context(adult: pd.DataFrame, estimator: Any) -> AuditContext:
    fitted = make_pipeline(_encoder(), estimator).fit(adult[FEATURES], adult[TARGET])
    adapter = SklearnAdapter(fitted)
    predicted = adapter.predict_batch(adult[FEATURES]).labels
    assert predicted is not None
    return _context(adult, adapter, predicted)


@pytest.fixture(scope="module")
def ridge_run(
    adult: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AuditContext, AuditorOutput, Path]:
    """The auditor on a ridge regression of hours-per-week, with a one-point sweep."""
    folder = tmp_path_factory.mktemp("ridge")
    context = _sklearn_context(adult, Ridge())
    settings = fast_settings(folder, epochs=3, sweep_epsilons=(1.0,), sweep_non_private=True)
    return context, run(context, settings), folder / "dp-model"


def test_error_cost_matches_sklearn_on_the_saved_dp_model(
    adult: pd.DataFrame, ridge_run: tuple[AuditContext, AuditorOutput, Path]
) -> None:
    context, output, folder = ridge_run
    assert any("linear regression" in w and "STAND-IN" in w for w in output.warnings)
    holdout = split_rows(len(adult), holdout_fraction=0.3, max_rows=50_000, seed=0).holdout
    rows = adult.iloc[holdout]
    truth = rows[TARGET].to_numpy(dtype=np.float64)
    audited = context.outcomes.y_pred[holdout]
    dp_model = load_dp_model(folder)
    assert isinstance(dp_model, TorchAdapter) and dp_model.output == "values"
    dp = dp_model.predict_batch(rows[FEATURES]).labels
    assert dp is not None

    mae = metric(output, "mae_increase").value
    rmse = metric(output, "rmse_increase").value
    assert mae is not None and rmse is not None
    # the cost of DP (DP - non-private) plus the change of model (non-private - audited)
    # is the whole difference, which sklearn measures on the saved DP model
    expected_mae = mean_absolute_error(truth, dp) - mean_absolute_error(truth, audited)
    expected_rmse = root_mean_squared_error(truth, dp) - root_mean_squared_error(truth, audited)
    retrain_mae = metric(output, "retrain_mae_increase").value
    retrain_rmse = metric(output, "retrain_rmse_increase").value
    assert retrain_mae is not None and retrain_rmse is not None
    assert mae + retrain_mae == pytest.approx(expected_mae, abs=1e-9)
    assert rmse + retrain_rmse == pytest.approx(expected_rmse, abs=1e-9)
    utility = table(output, "Utility on the holdout")
    overall = next(r for r in utility.rows if r[0] == "overall")
    reference_mae = overall[utility.columns.index("MAE (non-private)")]
    assert mae == pytest.approx(mean_absolute_error(truth, dp) - reference_mae, abs=1e-4)
    # predictions are in hours, not on the standardised scale the network was trained on
    assert abs(float(np.mean(dp)) - float(truth.mean())) < 3.0
    assert mean_absolute_error(truth, dp) < 2 * mean_absolute_error(truth, np.full_like(truth, 40))

    by_group = metric(output, "mae_increase_by_group", ("sex",))
    assert by_group.value == pytest.approx(mae, abs=1e-12)
    sex = rows["sex"].astype(str).str.strip().to_numpy()
    change = utility.columns.index("MAE increase: audited to non-private")
    for group in by_group.groups:
        mask = sex == group.group.split("=", 1)[1]
        assert group.count == int(mask.sum())
        want = mean_absolute_error(truth[mask], dp[mask]) - mean_absolute_error(
            truth[mask], audited[mask]
        )
        (row,) = [r for r in utility.rows if r[1] == group.group]
        assert group.value is not None
        assert group.value + row[change] == pytest.approx(want, abs=2e-4)

    assert "MAE increase: cost of DP" in utility.columns
    assert not any("accuracy" in c for c in utility.columns)


def test_reloaded_stand_in_is_its_saved_linear_map_times_scale_plus_mean(
    adult: pd.DataFrame, ridge_run: tuple[AuditContext, AuditorOutput, Path]
) -> None:
    _, _, folder = ridge_run
    meta = read_metadata(folder)
    state = read_state_dict(folder)
    encoded = TabularEncoding.from_json(meta["encoding"])(adult[FEATURES]).astype(np.float64)
    weight = state["0.weight"].numpy().astype(np.float64)[0]
    bias = float(state["0.bias"].numpy()[0])
    scaling = meta["target_scaling"]
    by_hand = (encoded @ weight + bias) * scaling["scale"] + scaling["mean"]

    loaded = load_dp_model(folder)
    predictions = loaded.predict_batch(adult[FEATURES])
    assert predictions.scores is None and predictions.labels is not None
    np.testing.assert_allclose(predictions.labels, by_hand, rtol=1e-5)
    # the scaling is part of the module, so of the adapter's fingerprint
    assert {"mean", "scale"} <= set(loaded.module.state_dict())
    copy = pickle.loads(pickle.dumps(loaded.module))
    with torch.no_grad():
        inputs = torch.as_tensor(encoded[:20], dtype=torch.float32)
        torch.testing.assert_close(copy(inputs), loaded.module(inputs), rtol=0, atol=0)


def test_regression_model_without_its_target_scaling_is_refused(
    ridge_run: tuple[AuditContext, AuditorOutput, Path], tmp_path: Path
) -> None:
    _, _, folder = ridge_run
    broken = Path(shutil.copytree(folder, tmp_path / "broken"))
    meta = json.loads((broken / METADATA_FILE).read_text(encoding="utf-8"))
    meta["target_scaling"] = None
    (broken / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="has no target_scaling metadata") as caught:
        load_dp_model(broken)
    assert "\n" not in str(caught.value)


def test_a_regressor_network_is_not_retrained_for_a_binary_task(adult: pd.DataFrame) -> None:
    module, encode, _ = _ridge_network(adult)
    adapter = TorchAdapter(module, encode=encode, output="values", device="cpu")
    found = torch_retrainable(adapter, adult[FEATURES].head(8), regression=False)
    assert found == "the network predicts values (output='values'), not scores of a binary task"


def test_epsilon_of_the_regression_model_is_opacus_accountants(
    ridge_run: tuple[AuditContext, AuditorOutput, Path],
) -> None:
    _, output, folder = ridge_run
    meta = read_metadata(folder)
    assert meta["task"] == "regression" and meta["target_scaling"]["scale"] > 0
    by_hand = RDPAccountant()
    for _ in range(meta["steps"]):
        by_hand.step(noise_multiplier=meta["noise_multiplier"], sample_rate=meta["sample_rate"])
    epsilon = metric(output, "epsilon").value
    assert epsilon is not None and epsilon <= 3.0 + 0.01
    assert by_hand.get_epsilon(1e-5) == pytest.approx(epsilon, rel=1e-9)


def test_classification_metrics_are_not_judged_on_regression(
    ridge_run: tuple[AuditContext, AuditorOutput, Path],
) -> None:
    _, output, _ = ridge_run
    for name, grouping in (("accuracy_drop", ()), ("auc_drop_by_group", ("sex",))):
        result = metric(output, name, grouping)
        assert result.value is None
        assert result.reason == f"{name} is measured for binary tasks; this task is regression"


def test_sweep_draws_mae_against_epsilon_per_group(
    ridge_run: tuple[AuditContext, AuditorOutput, Path],
) -> None:
    _, output, _ = ridge_run
    curves = {c.title: c for c in output.charts if isinstance(c, LineChart)}
    curve = curves["MAE against epsilon (sex)"]
    assert curve.x_labels == ("\u03b5=1", "non-private")
    assert {s.name for s in curve.series} == {"sex=Female", "sex=Male"}
    sweep = table(output, "Epsilon sweep")
    mae_column = sweep.columns.index("MAE")
    rows = {(r[0], r[4]): r[mae_column] for r in sweep.rows}
    for series in curve.series:
        for label, value in zip(curve.x_labels, series.values, strict=True):
            assert value is not None and round(value, 4) == rows[(label, series.name)]


def test_squared_error_attack_matches_roc_auc_on_an_overfit_regressor(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    data = adult.copy()
    data["trained_on"] = np.arange(len(data)) < 1000
    members = data[data["trained_on"]]
    fitted = make_pipeline(_encoder(), KNeighborsRegressor(n_neighbors=1)).fit(
        members[FEATURES], members[TARGET]
    )
    predicted = fitted.predict(data[FEATURES])
    context = _context(data, SklearnAdapter(fitted), predicted)
    output = run(context, fast_settings(tmp_path, membership_column="trained_on"))

    errors = (predicted - data[TARGET].to_numpy(dtype=np.float64)) ** 2
    expected = roc_auc_score(data["trained_on"], -errors)
    assert metric(output, "attack_auc").value == pytest.approx(expected, abs=1e-12)
    advantage = metric(output, "attack_advantage").value
    assert advantage is not None and advantage > 0.1
    dp = metric(output, "dp_attack_advantage").value
    assert dp is not None and dp < 0.1


def test_torch_regressor_is_retrained_in_its_own_architecture(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    encode = _encoder().fit(adult[FEATURES])
    width = encode.transform(adult[FEATURES].head(2)).shape[1]
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(width, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    with torch.no_grad():
        raw = module(torch.as_tensor(encode.transform(adult[FEATURES]), dtype=torch.float32))
    output = run(_context(adult, adapter, raw[:, 0].numpy()), fast_settings(tmp_path))

    training = dict(table(output, "DP training").rows)
    assert str(training["DP model"]).startswith("audited network")
    assert training["per-sample gradients (grad_sample_mode)"] == "bookkeeping"
    assert any("classifier scores (output='logits')" in w for w in output.warnings)
    folder = tmp_path / "dp-model"
    template = torch.nn.Sequential(
        torch.nn.Linear(width, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    )
    loaded = load_dp_model(folder, module=template, encode=encode)
    assert isinstance(loaded, TorchAdapter) and loaded.output == "values"
    scaling = read_metadata(folder)["target_scaling"]
    rows = adult[FEATURES].head(50)
    with torch.no_grad():
        direct = template(torch.as_tensor(encode.transform(rows), dtype=torch.float32))[:, 0]
    got = loaded.predict_batch(rows).labels
    assert got is not None
    want = direct.numpy().astype(np.float64) * scaling["scale"] + scaling["mean"]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _ridge_network(adult: pd.DataFrame) -> tuple[torch.nn.Module, ColumnTransformer, Ridge]:
    """A ``Linear`` network holding a ridge regression's weights, its encoding, and the ridge."""
    encode = _encoder().fit(adult[FEATURES])
    ridge = Ridge().fit(encode.transform(adult[FEATURES]), adult[TARGET])
    linear = torch.nn.Linear(len(ridge.coef_), 1)
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(ridge.coef_[None, :], dtype=torch.float32))
        linear.bias.fill_(float(ridge.intercept_))
    return torch.nn.Sequential(linear), encode, ridge


def _policy(tmp_path: Path, **privacy: Any) -> Path:
    """The example privacy policy, fast, bounding the MAE added overall by 1 hour."""
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    policy["auditors"]["privacy"].update(
        {"output_dir": str(tmp_path / "dp"), "epochs": 2, "sweep_epsilons": [], **privacy}
    )
    policy["requirements"] = [
        {
            "id": "dp-mae-cost",
            "title": "At most 1 hour of MAE added",
            "citation": "Internal standard for DP regression models",
            "auditor": "privacy",
            "metric": "mae_increase",
            "compare": "at_most",
            "threshold": 1.0,
        }
    ]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


def test_torch_regressor_declared_as_values_is_audited_on_its_values(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    module, encode, ridge = _ridge_network(adult)
    adapter = TorchAdapter(module, encode=encode, output="values", device="cpu")
    values = adapter.predict_batch(adult[FEATURES]).labels
    assert values is not None
    np.testing.assert_allclose(values, ridge.predict(encode.transform(adult[FEATURES])), rtol=1e-5)

    result = run_audit(
        model=adapter,
        data=adult,
        policy=_policy(tmp_path, bootstrap=20),
        target=TARGET,
        sensitive=["sex"],
        features=FEATURES,
        task="regression",
    )
    output = next(o for o in result.outputs if o.auditor == "privacy")
    assert not any("classifier scores" in w or "STAND-IN" in w for w in output.warnings)
    training = dict(table(output, "DP training").rows)
    assert str(training["DP model"]).startswith("audited network")

    holdout = split_rows(len(adult), holdout_fraction=0.3, max_rows=50_000, seed=0).holdout
    truth = adult[TARGET].to_numpy(dtype=np.float64)[holdout]
    audited_mae = mean_absolute_error(truth, values[holdout])
    utility = table(output, "Utility on the holdout")
    overall = next(r for r in utility.rows if r[0] == "overall")
    assert overall[utility.columns.index("MAE (audited)")] == pytest.approx(audited_mae, abs=1e-4)

    folder = tmp_path / "dp"
    template = torch.nn.Sequential(torch.nn.Linear(len(ridge.coef_), 1))
    loaded = load_dp_model(folder, module=template, encode=encode)
    assert isinstance(loaded, TorchAdapter) and loaded.output == "values"
    dp = loaded.predict_batch(adult[FEATURES].iloc[holdout]).labels
    assert dp is not None
    scaling = read_metadata(folder)["target_scaling"]
    inputs = encode.transform(adult[FEATURES].iloc[holdout])
    with torch.no_grad():
        raw = template(torch.as_tensor(inputs, dtype=torch.float32))
    by_hand = raw[:, 0].numpy().astype(np.float64)
    np.testing.assert_allclose(dp, by_hand * scaling["scale"] + scaling["mean"], rtol=1e-12)
    expected = mean_absolute_error(truth, dp) - audited_mae
    cost = metric(output, "mae_increase").value
    retrain = metric(output, "retrain_mae_increase").value
    assert cost is not None and retrain is not None
    assert cost + retrain == pytest.approx(expected, abs=1e-9)
    (finding,) = result.findings
    assert finding.measured == pytest.approx(cost, abs=1e-12)


def test_policy_bounds_the_mae_added_in_any_group(adult: pd.DataFrame, tmp_path: Path) -> None:
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    policy["auditors"]["privacy"].update(
        {"output_dir": str(tmp_path / "dp"), "epochs": 3, "sweep_epsilons": [], "bootstrap": 20}
    )
    policy["requirements"] = [
        {
            "id": "dp-mae-cost-any-group",
            "title": "At most 1 hour of MAE added in any group",
            "citation": "Internal standard for DP regression models",
            "auditor": "privacy",
            "metric": "mae_increase_by_group",
            "compare": "at_most",
            "threshold": 1.0,
            "group_by": "each",
        }
    ]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    model = make_pipeline(_encoder(), Ridge()).fit(adult[FEATURES], adult[TARGET])

    result = run_audit(
        model=model,
        data=adult,
        policy=path,
        target=TARGET,
        sensitive=["sex"],
        features=FEATURES,
    )
    (finding,) = result.findings
    output = next(o for o in result.outputs if o.auditor == "privacy")
    (by_group,) = [m for m in output.metrics if m.metric == "mae_increase_by_group"]
    worst = max(g.value for g in by_group.groups if g.value is not None)
    assert finding.measured == worst
    assert finding.verdict is (Verdict.PASS if worst <= 1.0 else Verdict.FAIL)


def test_value_head_trains_least_squares_without_dp() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 5)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.normal(size=2000)).astype(np.float32)
    settings = training_settings(epochs=30, batch_size=200)
    trained = train_module(
        stand_in_module(5, 0), x, y, head="value", settings=settings, target_epsilon=None
    )
    weights = trained.module[0].weight.detach().numpy()[0]
    least_squares, *_ = np.linalg.lstsq(
        np.c_[x, np.ones(len(x))].astype(np.float64), y.astype(np.float64), rcond=None
    )
    np.testing.assert_allclose(weights, least_squares[:5], atol=0.05)


def test_destandardised_network_predicts_in_the_target_units() -> None:
    from audit.auditors.privacy.scaling import Destandardised

    network = torch.nn.Linear(2, 1)
    with torch.no_grad():
        network.weight.copy_(torch.tensor([[0.5, -2.0]]))
        network.bias.fill_(0.25)
    wrapped = Destandardised(network, mean=10.0, scale=4.0)
    rows = torch.tensor([[1.0, 1.0], [4.0, 0.0]])
    # (0.5 - 2 + 0.25) * 4 + 10 = 5; (2 + 0.25) * 4 + 10 = 19
    torch.testing.assert_close(wrapped(rows)[:, 0], torch.tensor([5.0, 19.0], dtype=torch.float64))
    for mean, scale in ((0.0, 0.0), (float("nan"), 1.0), (0.0, float("inf"))):
        with pytest.raises(ValueError, match="finite mean and a positive scale"):
            Destandardised(network, mean=mean, scale=scale)

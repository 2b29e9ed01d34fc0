"""PyTorch models on German Credit, checked against Captum called directly and closed forms.

The encoding is a one-hot / standard-scaling ``ColumnTransformer``; which encoded input
belongs to which column is read here from the fitted encoder (its categories), never from
the auditor.  The baseline of ``baseline: median`` is NumPy's median of the encoded inputs
of every row (German Credit has 1,000, under the auditor's 5,000-row sample).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.torch import TorchAdapter
from audit.auditors.explanations import ExplanationsConfig, gradients
from audit.auditors.explanations.engine import Explained, explain
from audit.auditors.explanations.gradients import column_of_inputs
from audit.auditors.explanations.measure import measure
from audit.core.context import Task
from audit.core.protocols import ModelAdapter

from .conftest import make_context

captum_attr = pytest.importorskip("captum.attr")

GERMAN = Path(__file__).resolve().parents[3] / "examples" / "data" / "german.data"
NAMES = [
    "status", "duration", "credit_history", "purpose", "credit_amount", "savings",
    "present_employment", "installment_rate", "personal_status_sex", "other_debtors",
    "present_residence", "property", "age", "other_installment_plans", "housing",
    "existing_credits", "job", "num_people_liable", "telephone", "foreign_worker", "class",
]  # fmt: skip
CATEGORICAL = ["status", "credit_history", "purpose", "savings", "housing", "foreign_worker"]
NUMERIC = ["duration", "credit_amount", "installment_rate", "age", "existing_credits"]
FEATURES = CATEGORICAL + NUMERIC
RARE = "A48"
"""purpose 'retraining': 9 of 1,000 applicants, too few to be sure of a 256-row sample."""


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    frame = pd.read_csv(GERMAN, sep=" ", header=None, names=NAMES)
    frame["y"] = (frame["class"] == 1).astype(int)
    return frame


def _encoding(data: pd.DataFrame) -> ColumnTransformer:
    return ColumnTransformer(
        [
            ("one_hot", OneHotEncoder(sparse_output=False), CATEGORICAL),
            ("scaled", StandardScaler(), NUMERIC),
        ]
    ).fit(data[FEATURES])


def _owners(encode: ColumnTransformer) -> list[int]:
    """The column of each encoded input, from the fitted encoder's categories."""
    categories = encode.named_transformers_["one_hot"].categories_
    owners = [
        FEATURES.index(c) for c, cats in zip(CATEGORICAL, categories, strict=True) for _ in cats
    ]
    return owners + [FEATURES.index(c) for c in NUMERIC]


def _trained(data: pd.DataFrame, hidden: int) -> tuple[torch.nn.Module, ColumnTransformer]:
    """A logistic regression (``hidden`` 0) or a one-hidden-layer MLP, seeded."""
    encode = _encoding(data)
    x = torch.tensor(encode.transform(data[FEATURES]), dtype=torch.float32)
    y = torch.tensor(data["y"].to_numpy(), dtype=torch.float32)[:, None]
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = [torch.nn.Linear(x.shape[1], hidden or 1)]
    if hidden:
        layers += [torch.nn.ReLU(), torch.nn.Linear(hidden, 1)]
    module = torch.nn.Sequential(*layers)
    optimiser = torch.optim.Adam(module.parameters(), lr=0.01)
    loss = torch.nn.BCEWithLogitsLoss()
    for _ in range(200):
        optimiser.zero_grad()
        loss(module(x), y).backward()
        optimiser.step()
    return module.eval(), encode


def _explain(model: ModelAdapter, data: pd.DataFrame, rows: pd.DataFrame, **settings) -> Explained:
    return explain(
        model=model,
        data=data,
        rows=rows,
        columns=FEATURES,
        settings=ExplanationsConfig(**settings),
        task=Task.BINARY,
        positive_label=1,
        seed=0,
    )


def _rows(data: pd.DataFrame) -> pd.DataFrame:
    """Every applicant of the rare purpose, and 40 others."""
    rare = data.index[data["purpose"] == RARE]
    return data.loc[sorted({*rare, *range(40)}), FEATURES]


def _per_column(values: npt.NDArray[np.float64], owners: list[int]) -> npt.NDArray[np.float64]:
    out = np.zeros((values.shape[0], len(FEATURES)))
    for i, column in enumerate(owners):
        out[:, column] += values[:, i]
    return out


def _encoded(encode: ColumnTransformer, frame: pd.DataFrame) -> torch.Tensor:
    return torch.tensor(encode.transform(frame[FEATURES]), dtype=torch.float32)


def _median(encode: ColumnTransformer, data: pd.DataFrame) -> torch.Tensor:
    middle = np.median(encode.transform(data[FEATURES]), axis=0, keepdims=True)
    return torch.tensor(middle, dtype=torch.float32)


def test_a_rare_categorys_one_hot_input_is_credited_to_its_column(german):
    module, encode = _trained(german, hidden=0)
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    owner, found = column_of_inputs(adapter, german, FEATURES, seed=0)
    assert owner.tolist() == _owners(encode)
    assert found == []


def test_integrated_gradients_of_a_logistic_model_are_the_closed_form(german):
    # along the straight path the logit z is linear, so IG_i of sigmoid(z) is exactly
    # w_i (x_i - b_i) * (sigmoid(z_x) - sigmoid(z_b)) / (z_x - z_b)
    module, encode = _trained(german, hidden=0)
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    rows = _rows(german)
    explained = _explain(adapter, german, rows, compare_with="none")
    x = encode.transform(rows).astype(np.float64)
    b = np.median(encode.transform(german[FEATURES]), axis=0)
    w = module[0].weight.detach().double().numpy()[0]
    bias = float(module[0].bias.detach()[0])
    z_x, z_b = x @ w + bias, b @ w + bias
    ratio = (1 / (1 + np.exp(-z_x)) - 1 / (1 + np.exp(-z_b))) / (z_x - z_b)
    expected = _per_column(w * (x - b) * ratio[:, None], _owners(encode))
    np.testing.assert_allclose(explained.primary, expected, rtol=0, atol=1e-6)
    assert explained.warnings == []


def test_integrated_gradients_of_an_mlp_are_captums_own(german):
    module, encode = _trained(german, hidden=16)
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    rows = _rows(german)
    explained = _explain(adapter, german, rows, ig_steps=50)
    x, b = _encoded(encode, rows), _median(encode, german)

    def score(inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(module(inputs))[:, 0]

    ig, delta = captum_attr.IntegratedGradients(score).attribute(
        x, baselines=b, n_steps=50, return_convergence_delta=True
    )
    owners = _owners(encode)
    np.testing.assert_allclose(
        explained.primary, _per_column(ig.detach().double().numpy(), owners), atol=1e-6
    )
    # complete up to the path integral's error, which is reported
    with torch.no_grad():
        gap = (score(x) - score(b)).double().numpy() - explained.primary.sum(axis=1)
    assert explained.completeness_error == pytest.approx(float(delta.abs().max()), abs=1e-6)
    assert np.abs(gap).max() <= explained.completeness_error + 1e-6
    # the comparison run: each column's encoded inputs set to the baseline's
    (ablation,) = [r.values for r in explained.runs if r.method == "feature_ablation"]
    with torch.no_grad():
        for column in range(len(FEATURES)):
            mine = [i for i, c in enumerate(owners) if c == column]
            ablated = x.clone()
            ablated[:, mine] = b[:, mine]
            expected = (score(x) - score(ablated)).double().numpy()
            np.testing.assert_allclose(ablation[:, column], expected, atol=1e-6)


def test_a_large_completeness_error_is_warned_and_more_steps_remove_it(german):
    module, encode = _trained(german, hidden=16)
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    rows = _rows(german)

    def warned(steps: int) -> tuple[float, list[str]]:
        explained = _explain(adapter, german, rows, ig_steps=steps)
        spread = np.abs(explained.row_scores - explained.baseline_score).max()
        found = [w for w in explained.warnings if "raise ig_steps" in w]
        return explained.completeness_error / spread, found

    share, found = warned(4)
    assert share > 0.01
    assert len(found) == 1 and "(now 4)" in found[0]
    share, found = warned(400)
    assert share <= 0.01 and found == []


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two():
    data = pd.DataFrame({"x": np.arange(10.0), "y": [0, 1] * 5})
    module = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        module.weight.fill_(2.0)
        module.bias.zero_()
    adapter = TorchAdapter(
        module, encode=lambda rows: rows[["x"]].to_numpy(), output="values", device="cpu"
    )
    explained = explain(
        model=adapter,
        data=data,
        rows=data[["x"]],
        columns=["x"],
        settings=ExplanationsConfig(compare_with="none"),
        task=Task.REGRESSION,
        positive_label=None,
        seed=0,
    )
    np.testing.assert_allclose(explained.primary[:, 0], 2.0 * (data["x"] - 4.5), atol=1e-12)
    assert explained.baseline_score == pytest.approx(9.0)


def test_an_input_that_differs_from_the_baseline_untraced_is_stated(german, monkeypatch):
    module, encode = _trained(german, hidden=0)
    adapter = TorchAdapter(module, encode=encode, device="cpu")
    monkeypatch.setattr(gradients, "_PROBE_VALUES", 1)
    explained = _explain(adapter, german, _rows(german), compare_with="none")
    assert any("traced to no column" in w for w in explained.warnings)


def test_per_applicant_reasons_of_a_torch_scorecard_are_its_points_below_average(german):
    # a model linear in its encoded inputs adds one score per column: the reason value of
    # column c is w_c . (x_c - mean of the reference applicants' x_c)
    module, encode = _trained(german, hidden=0)
    adapter = TorchAdapter(module, encode=encode, output="probabilities", device="cpu")
    context = make_context(german, adapter, features=FEATURES)
    settings = ExplanationsConfig(
        n_rows=20, adverse_per_group=0, reason_rows=30, reason_reference_rows=40
    )
    found = measure(context, settings, FEATURES).applicants
    assert found is not None
    w = module[0].weight.detach().double().numpy()[0]
    x = encode.transform(german.iloc[found.rows][FEATURES])
    reference = encode.transform(german.iloc[found.reference_rows][FEATURES]).mean(axis=0)
    expected = _per_column(w * (x - reference), _owners(encode))
    np.testing.assert_allclose(found.values, expected, atol=1e-5)
    lowest = [tuple(int(i) for i in np.argsort(row)[:3] if row[i] < 0) for row in expected]
    assert found.reasons(3) == lowest


class _Standardise(torch.nn.Module):
    """Scaling inside the network, so that an ONNX export reads the raw columns."""

    def __init__(self, values: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("centre", values.mean(dim=0))
        self.register_buffer("scale", values.std(dim=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.centre) / self.scale


def _export(module: torch.nn.Module, example: torch.Tensor, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=["features"],
            output_names=["probability"],
            dynamic_axes={"features": {0: "n"}, "probability": {0: "n"}},
            dynamo=False,
        )
    return path


@pytest.mark.parametrize("hidden", [0, 8])
def test_an_onnx_export_is_explained_as_the_torch_model_is(german, tmp_path, hidden):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from audit.adapters.onnx import OnnxAdapter

    x = torch.tensor(german[NUMERIC].to_numpy(), dtype=torch.float32)
    torch.manual_seed(0)
    layers = [torch.nn.Linear(len(NUMERIC), hidden or 1)]
    if hidden:
        layers += [torch.nn.Tanh(), torch.nn.Linear(hidden, 1), torch.nn.Sigmoid()]
    # hidden 0: the output is linear in the inputs, and read as the score as it is
    module = torch.nn.Sequential(_Standardise(x), *layers).eval()
    onnx = OnnxAdapter(_export(module, x[:2], tmp_path / "model.onnx"))
    native = TorchAdapter(
        module,
        encode=lambda rows: rows[NUMERIC].to_numpy(),
        output="probabilities",
        device="cpu",
    )
    rows = german.loc[:59, NUMERIC]

    def attributions(model: ModelAdapter, **settings) -> npt.NDArray[np.float64]:
        explained = explain(
            model=model,
            data=german,
            rows=rows,
            columns=NUMERIC,
            settings=ExplanationsConfig(compare_with="none", **settings),
            task=Task.BINARY,
            positive_label=1,
            seed=0,
        )
        return explained.primary

    for method in ("feature_ablation", "shapley_value_sampling"):
        np.testing.assert_allclose(
            attributions(native, method=method), attributions(onnx, method=method), atol=1e-6
        )
    if not hidden:
        # Integrated Gradients (torch) and Shapley sampling (ONNX) are both w (x - median)
        w = (module[1].weight[0] / module[0].scale).detach().double().numpy()
        expected = w * (rows.to_numpy() - german[NUMERIC].median().to_numpy())
        np.testing.assert_allclose(attributions(native), expected, atol=1e-6)
        np.testing.assert_allclose(attributions(onnx), expected, atol=1e-6)


def test_one_probability_per_row_read_as_labels_is_explained_as_scores(german):
    # an ONNX export with one sigmoid output, or an MLflow pyfunc serving
    # predict_proba[:, 1], hands its probabilities over as labels
    from audit.adapters.callable import CallableAdapter
    from audit.core.protocols import Predictions

    module, encode = _trained(german, hidden=0)

    def probabilities(rows: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            return torch.sigmoid(module(_encoded(encode, rows)))[:, 0].double().numpy()

    as_labels = CallableAdapter(lambda rows: Predictions(labels=probabilities(rows)))
    as_scores = CallableAdapter(lambda rows: {"scores": probabilities(rows)})
    rows = _rows(german)
    settings = {"method": "feature_ablation", "compare_with": "none"}
    read = _explain(as_labels, german, rows, **settings).primary
    expected = _explain(as_scores, german, rows, **settings).primary
    np.testing.assert_allclose(read, expected, atol=1e-12)
    assert np.abs(expected).max() > 0.01  # probabilities, not the decisions they round to

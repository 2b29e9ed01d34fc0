"""The MLflow and OIP v2 payload codecs, without any network."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.adapters.http import mlflow, oip_v2
from audit.errors import DataError, EndpointError

# --- MLflow: encoding ---------------------------------------------------------------


def test_mlflow_encode_is_json_safe_and_maps_missing_to_null() -> None:
    rows = pd.DataFrame(
        {
            "f": np.array([1.5, np.nan], dtype=np.float64),
            "i": np.array([1, 2], dtype=np.int32),
            "s": pd.Series(["a", None], dtype="str"),
            "n": pd.array([7, pd.NA], dtype="Int64"),
            "b": [True, False],
            "t": [pd.Timestamp("2024-01-02"), pd.NaT],
        }
    )
    body = mlflow.encode_dataframe_split(rows)
    assert body == {
        "dataframe_split": {
            "columns": ["f", "i", "s", "n", "b", "t"],
            "data": [
                [1.5, 1, "a", 7, True, "2024-01-02T00:00:00"],
                [None, 2, None, None, False, None],
            ],
        }
    }
    cell = body["dataframe_split"]["data"][0][1]
    assert type(cell) is int  # not a numpy scalar
    json.dumps(body, allow_nan=False)


def test_mlflow_encode_refuses_infinity_naming_the_column() -> None:
    with pytest.raises(DataError, match="column 'x' holds an infinite value"):
        mlflow.encode_dataframe_split(pd.DataFrame({"x": [1.0, np.inf]}))


def test_mlflow_encode_refuses_unserialisable_objects() -> None:
    with pytest.raises(DataError, match="column 'o' holds a value of type object"):
        mlflow.encode_dataframe_split(pd.DataFrame({"o": [object()]}))


# --- MLflow: decoding ---------------------------------------------------------------


def test_mlflow_decode_string_labels() -> None:
    predictions = mlflow.decode_predictions({"predictions": [">50K", "<=50K"]})
    assert predictions.labels is not None
    assert predictions.labels.tolist() == [">50K", "<=50K"]
    assert predictions.labels.dtype == object
    assert predictions.scores is None


def test_mlflow_decode_bare_list_of_ints() -> None:
    predictions = mlflow.decode_predictions([0, 1, 1])
    assert predictions.labels is not None
    assert predictions.labels.dtype == np.int64
    assert predictions.labels.tolist() == [0, 1, 1]


def test_mlflow_decode_probability_pairs() -> None:
    predictions = mlflow.decode_predictions({"predictions": [[0.8, 0.2], [0.3, 0.7]]})
    assert predictions.scores is not None
    assert predictions.labels is not None
    np.testing.assert_array_equal(predictions.scores, [0.2, 0.7])
    assert predictions.labels.tolist() == [0, 1]


def test_mlflow_decode_three_class_probabilities_give_labels_only() -> None:
    predictions = mlflow.decode_predictions([[0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    assert predictions.labels is not None
    assert predictions.labels.tolist() == [2, 0]
    assert predictions.scores is None


def test_mlflow_decode_single_column_rows_are_labels() -> None:
    predictions = mlflow.decode_predictions([["a"], ["b"]])
    assert predictions.labels is not None
    assert predictions.labels.tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "answer",
    [
        {
            "predictions": [
                {"label": "yes", "probability": 0.9},
                {"label": "no", "probability": 0.2},
            ]
        },
        {"predictions": [{"Prediction": "yes", "Score": 0.9}, {"Prediction": "no", "Score": 0.2}]},
        {"predictions": {"label": ["yes", "no"], "probability": [0.9, 0.2]}},
        [
            {"label": "yes", "probabilities": [0.1, 0.9]},
            {"label": "no", "probabilities": [0.8, 0.2]},
        ],
    ],
)
def test_mlflow_decode_records(answer: object) -> None:
    predictions = mlflow.decode_predictions(answer)
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == ["yes", "no"]
    np.testing.assert_allclose(predictions.scores, [0.9, 0.2])


def test_mlflow_decode_records_with_scores_only() -> None:
    predictions = mlflow.decode_predictions(
        [{"probability": [0.1, 0.9]}, {"probability": [0.7, 0.3]}]
    )
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == [1, 0]
    np.testing.assert_allclose(predictions.scores, [0.9, 0.3])


def test_mlflow_decode_empty_list() -> None:
    assert len(mlflow.decode_predictions({"predictions": []})) == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"outputs": []},
            r"expected an object with key 'predictions'.*got an object with keys \['outputs'\]",
        ),
        ({"predictions": 5}, "expected a list of predictions; got 5"),
        ("oops", "expected a list of predictions; got 'oops'"),
        ([[0.1, 0.9], [0.5]], r"rows of equal, non-zero length; got lengths \[1, 2\]"),
        ([[0.1, "x"]], "score 1 is 'x'; expected a number"),
        (["a", None], "prediction 1 is null"),
        (["a", 1], "labels mix int and str"),
        ([{"x": 1, "y": 2}], r"records have keys \['x', 'y'\]; expected one of"),
        ([{"label": 1}, {"other": 2}], "record 1 lacks key 'label'"),
        ({"predictions": {"label": [1, 2], "probability": [0.1]}}, "equal-length lists"),
    ],
)
def test_mlflow_decode_rejects_bad_answers(answer: object, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        mlflow.decode_predictions(answer)


# --- OIP v2: encoding ---------------------------------------------------------------


def test_oip_encode_one_tensor_per_column_with_datatypes() -> None:
    rows = pd.DataFrame(
        {
            "f64": np.array([1.0, np.nan]),
            "f32": np.array([1.0, 2.0], dtype=np.float32),
            "i64": np.array([1, 2], dtype=np.int64),
            "i32": np.array([1, 2], dtype=np.int32),
            "u8": np.array([1, 2], dtype=np.uint8),
            "b": [True, False],
            "s": pd.Series(["a", None], dtype="str"),
            "c": pd.Categorical(["x", "y"]),
            "n": pd.array([1, None], dtype="Int64"),
            "o": pd.Series([1, None], dtype=object),
            "t": [dt.date(2024, 1, 2), None],
        }
    )
    body = oip_v2.encode_infer_request(rows)
    assert body["parameters"] == {"content_type": "pd"}
    tensors = {t["name"]: t for t in body["inputs"]}
    assert list(tensors) == list(rows.columns)
    assert {name: t["datatype"] for name, t in tensors.items()} == {
        "f64": "FP64",
        "f32": "FP32",
        "i64": "INT64",
        "i32": "INT32",
        "u8": "UINT32",
        "b": "BOOL",
        "s": "BYTES",
        "c": "BYTES",
        "n": "INT64",
        "o": "INT64",
        "t": "BYTES",
    }
    assert all(t["shape"] == [2, 1] for t in tensors.values())
    assert tensors["f64"]["data"] == [1.0, None]
    assert tensors["s"]["data"] == ["a", None]
    assert tensors["s"]["parameters"] == {"content_type": "str"}
    assert tensors["n"]["data"] == [1, None]
    assert tensors["t"]["data"] == ["2024-01-02", None]
    json.dumps(body, allow_nan=False)


def test_oip_request_round_trips_through_the_server_decoder() -> None:
    rows = pd.DataFrame(
        {
            "age": np.array([39, 50, 38]),
            "hours": [40.0, np.nan, 13.5],
            "workclass": pd.Series(["State-gov", None, "Private"], dtype="str"),
            "flag": [True, False, True],
        }
    )
    back = oip_v2.decode_infer_request(oip_v2.encode_infer_request(rows))
    pd.testing.assert_frame_equal(back, rows)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
            st.one_of(st.none(), st.text(max_size=5)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_oip_round_trip_keeps_values_and_missing_positions(
    cells: list[tuple[object, object]],
) -> None:
    rows = pd.DataFrame(
        {
            "x": pd.Series([np.nan if a is None else a for a, _ in cells], dtype="float64"),
            "s": pd.Series([b for _, b in cells], dtype="str"),
        }
    )
    back = oip_v2.decode_infer_request(oip_v2.encode_infer_request(rows))
    pd.testing.assert_frame_equal(back.isna(), rows.isna())
    np.testing.assert_array_equal(back["x"].dropna().to_numpy(), rows["x"].dropna().to_numpy())
    assert back["s"].dropna().tolist() == rows["s"].dropna().tolist()


# --- OIP v2: decoding ---------------------------------------------------------------


def _out(name: str, shape: list[int], datatype: str, data: list[object]) -> dict[str, object]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def test_oip_decode_single_label_output() -> None:
    body = {"outputs": [_out("output-0", [3], "BYTES", [">50K", "<=50K", ">50K"])]}
    predictions = oip_v2.decode_infer_response(body)
    assert predictions.labels is not None
    assert predictions.labels.tolist() == [">50K", "<=50K", ">50K"]
    assert predictions.scores is None


def test_oip_decode_single_probability_output_nested_data() -> None:
    body = {"outputs": [_out("output-0", [2, 2], "FP64", [[0.9, 0.1], [0.4, 0.6]])]}
    predictions = oip_v2.decode_infer_response(body)
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(predictions.scores, [0.1, 0.6])


def test_oip_decode_prefers_named_label_and_score_outputs() -> None:
    body = {
        "outputs": [
            _out("predict_proba", [2, 2], "FP32", [0.9, 0.1, 0.4, 0.6]),
            _out("extra", [2], "INT64", [7, 7]),
            _out("predict", [2, 1], "BYTES", ["no", "yes"]),
        ]
    }
    predictions = oip_v2.decode_infer_response(body)
    assert predictions.labels is not None
    assert predictions.scores is not None
    assert predictions.labels.tolist() == ["no", "yes"]
    np.testing.assert_allclose(predictions.scores, [0.1, 0.6])


def test_oip_decode_configured_output_name() -> None:
    body = {"outputs": [_out("a", [2], "INT64", [1, 0]), _out("b", [2], "INT64", [0, 1])]}
    predictions = oip_v2.decode_infer_response(body, output_name="b")
    assert predictions.labels is not None
    assert predictions.labels.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("body", "output_name", "message"),
    [
        (
            {"predictions": []},
            None,
            r"expected an object with an 'outputs' list; got keys \['predictions'\]",
        ),
        ([1, 2], None, "expected an object with an 'outputs' list; got \\[1, 2\\]"),
        (
            {"outputs": [_out("a", [2], "INT64", [1, 0]), _out("b", [2], "INT64", [0, 1])]},
            None,
            r"cannot tell labels from scores among outputs \['a', 'b'\]",
        ),
        (
            {"outputs": [_out("a", [2], "INT64", [1, 0])]},
            "z",
            r"no output named 'z'; outputs are \['a'\]",
        ),
        (
            {"outputs": [_out("a", [3], "INT64", [1, 0])]},
            None,
            r"shape \[3\] but 2 values; expected 3",
        ),
        (
            {"outputs": [_out("a", [2, 2, 1], "FP64", [1, 0, 1, 0])]},
            None,
            "expected \\[n\\] or \\[n, k\\]",
        ),
        (
            {"outputs": [_out("a", [2], "FLOAT", [1.0, 0.0])]},
            None,
            "datatype 'FLOAT'; expected one of",
        ),
        ({"outputs": [_out("a", [2], "FP64", [1.0, "x"])]}, None, "is FP64 but value 1 is 'x'"),
        ({"outputs": [{"name": "a", "shape": [1]}]}, None, "output 'a' lacks datatype, data"),
        (
            {
                "outputs": [
                    _out("predict", [3], "INT64", [1, 0, 1]),
                    _out("predict_proba", [2, 2], "FP64", [0.1, 0.9, 0.2, 0.8]),
                ]
            },
            None,
            "has 3 rows but output 'predict_proba' has 2",
        ),
    ],
)
def test_oip_decode_rejects_bad_answers(
    body: object, output_name: str | None, message: str
) -> None:
    with pytest.raises(EndpointError, match=message):
        oip_v2.decode_infer_response(body, output_name=output_name)


def test_oip_response_encoder_and_decoder_agree() -> None:
    from audit.core.protocols import Predictions

    sent = Predictions(
        labels=np.array([">50K", "<=50K"], dtype=object), scores=np.array([0.8, 0.1])
    )
    answer = oip_v2.encode_infer_response(sent, model_name="m", asked=oip_v2.ASKED_OUTPUTS)
    back = oip_v2.decode_infer_response(json.loads(json.dumps(answer)))
    assert back.labels is not None
    assert back.scores is not None
    assert back.labels.tolist() == [">50K", "<=50K"]
    np.testing.assert_array_equal(back.scores, [0.8, 0.1])


# --- probabilities and request ids -----------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([[0.5, 0.5], [-0.5, 1.5]], r"row 1 has class probabilities \[-0\.5, 1\.5\]"),
        ([[0.9, 0.9]], "the class probabilities of row 0 sum to 1.8, not 1"),
        ([[0.2, 0.3, 0.1]], "sum to 0.6, not 1"),
        ([[float("nan"), 0.5]], r"row 0 has class probabilities \[nan, 0\.5\]"),
        ([{"label": 1, "probability": 1.3}], r"score 0 is 1\.3; expected a probability"),
        ([{"label": 1, "probabilities": [0.4, 0.7]}], "sum to 1.1, not 1"),
    ],
)
def test_mlflow_decode_refuses_probabilities_that_are_not(answer: object, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        mlflow.decode_predictions(answer)


def test_mlflow_decode_accepts_probabilities_rounded_to_half_precision() -> None:
    predictions = mlflow.decode_predictions([[0.3333, 0.6665], [1.0, 0.0]])
    assert predictions.scores is not None
    np.testing.assert_allclose(predictions.scores, [0.6665, 0.0])


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (_out("predict_proba", [2, 2], "FP32", [0.5, 0.5, 1.4, -0.4]), "row 1 has class"),
        (_out("probability", [2], "FP64", [0.2, 2.5]), r"score 1 is 2\.5"),
    ],
)
def test_oip_decode_refuses_probabilities_outside_0_and_1(
    output: dict[str, object], message: str
) -> None:
    with pytest.raises(EndpointError, match=message):
        oip_v2.decode_infer_response({"outputs": [output]})


def test_oip_decode_a_lone_probability_output_gives_scores_not_labels() -> None:
    body = {"outputs": [_out("probability", [3], "FP32", [0.25, 0.5, 0.75])]}
    predictions = oip_v2.decode_infer_response(body)
    assert predictions.labels is None
    assert predictions.scores is not None
    np.testing.assert_allclose(predictions.scores, [0.25, 0.5, 0.75])


def test_oip_request_carries_the_id_and_an_answer_to_another_id_is_refused() -> None:
    body = oip_v2.encode_infer_request(pd.DataFrame({"x": [1.0]}), request_id="r-1")
    assert body["id"] == "r-1"
    outputs = [_out("predict", [1], "INT64", [1])]
    for answered in ("r-1", None):  # the same id, or none at all, is read
        answer = {"outputs": outputs, **({"id": answered} if answered else {})}
        assert oip_v2.decode_infer_response(answer, request_id="r-1").labels is not None
    with pytest.raises(EndpointError, match="answers request 'r-0', not this one"):
        oip_v2.decode_infer_response({"id": "r-0", "outputs": outputs}, request_id="r-1")

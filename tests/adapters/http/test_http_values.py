"""The vectorised cell encoding and label/score typing equal the cell-by-cell rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from audit.adapters.http._values import (
    column_values,
    describe_json,
    json_scalar,
    label_array,
    score_array,
)
from audit.core.secrets import register_secret
from audit.errors import DataError, EndpointError


def _cell_by_cell(series: pd.Series) -> list[object]:
    return [json_scalar(v, column=str(series.name)) for v in series.astype(object).tolist()]


def _same(a: list[object], b: list[object]) -> bool:
    # Same values and the same Python types (1 and 1.0 and True are distinct in JSON).
    return len(a) == len(b) and all(
        type(x) is type(y) and (x == y or (isinstance(x, float) and math.isnan(x)))
        for x, y in zip(a, b, strict=True)
    )


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from(
            [np.float64, np.float32, np.int64, np.int32, np.uint64, np.uint8, np.bool_]
        ),
        shape=st.integers(0, 40),
        elements={"allow_infinity": False},
    )
)
def test_numeric_columns_encode_as_cell_by_cell(values):
    series = pd.Series(values, name="x")
    assert _same(column_values(series), _cell_by_cell(series))


@pytest.mark.parametrize(
    "values",
    [
        ["a", None, "b", float("nan")],
        ["a", 1, 2.5, True],
        [pd.Timestamp("2024-01-02"), None],
        pd.array([1, None, 3], dtype="Int64"),
        pd.array([True, None], dtype="boolean"),
        pd.Categorical(["a", "b", None]),
        pd.array(["x", None], dtype="string"),
    ],
    ids=["str-missing", "mixed", "timestamps", "Int64", "boolean", "categorical", "string"],
)
def test_other_columns_encode_as_cell_by_cell(values):
    series = pd.Series(values, name="x")
    assert _same(column_values(series), _cell_by_cell(series))


@pytest.mark.parametrize("infinite", [np.inf, -np.inf])
def test_an_infinite_float_is_refused_on_the_fast_path(infinite):
    with pytest.raises(DataError, match="column 'x' holds an infinite value"):
        column_values(pd.Series([1.0, np.nan, infinite], name="x"))


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (["a", "b"], object),
        ([1, 2], np.int64),
        ([True, False], bool),
        ([1, 2.5], np.float64),
        ([0.5, 0.25], np.float64),
    ],
)
def test_labels_are_typed_by_their_json_types(values, dtype):
    labels = label_array(values, what="w")
    assert labels.dtype == np.dtype(dtype)
    assert labels.tolist() == values


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a", None], "prediction 1 is null"),
        (["a", 1], "labels mix int and str"),
        ([True, 1], "labels mix bool and int"),
        ([[1]], "prediction 0 is \\[1\\]"),
    ],
)
def test_bad_labels_are_named(values, message):
    with pytest.raises(EndpointError, match=message):
        label_array(values, what="w")


def test_scores_are_numbers_and_not_booleans():
    assert score_array([1, 0.5], what="w").tolist() == [1.0, 0.5]
    for bad, index in (([0.5, True], 1), ([None], 0), (["0.5"], 0)):
        with pytest.raises(EndpointError, match=f"score {index} is"):
            score_array(bad, what="w")


def test_answer_excerpts_never_show_a_registered_secret():
    register_secret("Bearer tok-excerpt-4c2a9e")
    shown = describe_json({"error": "bad key tok-excerpt-4c2a9e"})
    assert "tok-excerpt-4c2a9e" not in shown and "***" in shown

"""Group encoding: every dtype path gives the codes a plain Python sort of the values gives."""

from __future__ import annotations

import math
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core import groups
from audit.core.groups import encode_column, encode_values

STRING_DTYPES: list[Any] = [
    object,
    "str",  # pandas 3 default: Arrow storage, NaN for missing
    pd.StringDtype("pyarrow"),
    pd.StringDtype("python"),
    pd.ArrowDtype(pa.string()),
    pd.ArrowDtype(pa.large_string()),
    "category",
]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _straightforward(
    values: list[Any], categories: list[Any] | None = None
) -> tuple[list[int], tuple[Any, ...], bool]:
    """Codes by sorting the distinct values in plain Python, independent of pandas."""
    distinct = list(dict.fromkeys(v for v in values if not _missing(v)))
    if categories is not None:
        known = sorted(distinct, key=categories.index)
    else:
        try:
            known = sorted(distinct)
        except TypeError:
            known = sorted(distinct, key=lambda v: (type(v).__name__, str(v)))
    code = {value: i for i, value in enumerate(known)}
    codes = [len(known) if _missing(v) else code[v] for v in values]
    return codes, tuple(known), any(_missing(v) for v in values)


def _series(values: list[Any], dtype: Any) -> pd.Series:
    if dtype is object:
        return pd.Series(values, dtype=object)
    return pd.Series(
        [None if _missing(v) and not isinstance(v, str) else v for v in values], dtype=dtype
    )


def _check(series: pd.Series, values: list[Any], categories: list[Any] | None = None) -> None:
    codes, known, has_missing = encode_values(series)
    expected_codes, expected_known, expected_missing = _straightforward(values, categories)
    assert codes.dtype == np.int64
    assert codes.tolist() == expected_codes
    assert known == expected_known
    assert has_missing == expected_missing


@pytest.mark.parametrize("dtype", STRING_DTYPES, ids=str)
def test_every_string_dtype_gives_the_straightforward_codes(dtype):
    values = ["b", "a", None, "", "   ", "c", "a", "b", None]
    series = _series(values, dtype)
    categories = list(series.cat.categories) if dtype == "category" else None
    _check(series, values, categories)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(["x", "y", "z", "", " ", "unknown"]), st.none()), max_size=30
    ),
    st.sampled_from(STRING_DTYPES),
)
def test_any_mix_of_values_and_missing_encodes_like_a_plain_sort(values, dtype):
    series = _series(values, dtype)
    categories = list(series.cat.categories) if dtype == "category" else None
    _check(series, values, categories)


def test_encode_column_labels_the_codes_and_names_the_missing_group_last():
    series = pd.Series(["unknown", "b", None, "", "b"], dtype="str")
    codes, names, unknown = encode_column(series)
    assert names == ("b", "unknown", "unknown (missing)")  # a real "unknown" keeps its name
    assert unknown.tolist() == [False, False, True]
    assert codes.tolist() == [1, 0, 2, 2, 0]


def test_categoricals_keep_category_order_and_drop_unused_and_blank_categories():
    categories = ["high", "mid", "low", " "]
    values = ["low", "high", None, "low", " ", "high"]
    series = pd.Series(pd.Categorical(values, categories=categories))
    _check(series, values, categories)
    codes, known, has_missing = encode_values(series)
    assert has_missing
    assert known == ("high", "low")  # "mid" is unused, " " is missing
    assert codes.tolist() == [1, 0, 2, 1, 2, 0]


def test_a_categorical_using_every_category_keeps_its_own_codes():
    series = pd.Series(pd.Categorical(["b", "a", "c", "a"], categories=["c", "b", "a"]))
    codes, known, has_missing = encode_values(series)
    assert known == ("c", "b", "a")
    assert not has_missing
    assert np.array_equal(codes, series.cat.codes.to_numpy().astype(np.int64))


def test_categorical_of_numbers_returns_python_numbers_in_category_order():
    series = pd.Series(pd.Categorical([3, 1, None, 3], categories=[3, 2, 1]))
    codes, known, has_missing = encode_values(series)
    assert known == (3, 1)
    assert all(type(v) is int for v in known)
    assert codes.tolist() == [0, 1, 2, 0]
    assert has_missing


def test_object_columns_of_mixed_types_sort_by_type_then_text():
    values: list[Any] = ["b", 2, 1.5, None, np.nan, pd.NA, "", "a", 2]
    series = pd.Series(values, dtype=object)
    _check(series, values)
    _, known, _ = encode_values(series)
    assert known == (1.5, 2, "a", "b")  # float < int < str by type name


def test_numbers_with_nan_are_raw_python_numbers_shown_without_dot_zero():
    series = pd.Series([10.0, 9.0, np.nan, 10.0])
    codes, known, has_missing = encode_values(series)
    assert (codes.tolist(), known, has_missing) == ([1, 0, 2, 1], (9.0, 10.0), True)
    assert all(type(v) is float for v in known)
    assert encode_column(series)[1] == ("9", "10", "unknown")


def test_integers_and_booleans_have_no_missing_group():
    assert encode_values(pd.Series([3, 1, 2, 3]))[1:] == ((1, 2, 3), False)
    codes, known, has_missing = encode_values(pd.Series([True, False, True]))
    assert (codes.tolist(), known, has_missing) == ([1, 0, 1], (False, True), False)


def test_empty_columns_have_no_groups():
    for dtype in STRING_DTYPES:
        codes, known, has_missing = encode_values(pd.Series([], dtype=dtype))
        assert (len(codes), known, has_missing) == (0, (), False)
        assert encode_column(pd.Series([], dtype=dtype))[1] == ()


def test_arrow_strings_in_several_chunks_and_pieces_match_the_object_path(monkeypatch):
    rng = np.random.default_rng(5)
    parts = [
        list(rng.choice(["q", "r", "s", "", "t"], size)) + [None] * (size % 3)
        for size in (7, 1, 12, 5)
    ]
    values = [v for part in parts for v in part]
    chunked = pd.concat([pd.Series(p, dtype="str") for p in parts], ignore_index=True)
    assert pa.array(chunked.array).num_chunks == 4  # the Arrow path sees chunks
    monkeypatch.setattr(groups, "_threads", lambda rows: 3)  # pieces cut across chunks
    _check(chunked, values)
    threaded = encode_values(chunked)
    plain = encode_values(pd.Series(values, dtype=object))
    assert np.array_equal(threaded[0], plain[0])
    assert threaded[1:] == plain[1:]


def test_large_arrow_column_is_encoded_in_parallel_with_the_same_codes(monkeypatch):
    monkeypatch.setattr(groups, "_PIECE_ROWS", 1000)
    rng = np.random.default_rng(9)
    values = rng.choice(np.array(["<25", "25-40", "40-60", "60+", ""], dtype=object), 10_000)
    values[rng.random(10_000) < 0.01] = None
    _check(pd.Series(values, dtype="str"), list(values))


def test_threads_are_one_per_cpu_with_enough_rows_each(monkeypatch):
    monkeypatch.setattr(groups, "_PIECE_ROWS", 1000)
    monkeypatch.setattr(groups.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert [groups._threads(rows) for rows in (0, 999, 2500, 10_000)] == [1, 1, 2, 4]


def test_categoricals_with_many_categories_mark_the_used_ones_like_few_do():
    categories = [f"c{i:02d}" for i in range(40)]  # over the per-category comparison limit
    assert len(categories) > groups._COMPARE_CATEGORIES
    rng = np.random.default_rng(2)
    values = [categories[i] for i in rng.integers(0, 40, 300) if i % 3] + [None, "c05"]
    series = pd.Series(pd.Categorical(values, categories=categories))
    _check(series, values, categories)
    assert len(encode_values(series)[1]) == len({v for v in values if v is not None})


def test_arrow_dictionary_columns_use_their_own_indices_and_only_used_values(monkeypatch):
    # Two chunks with different dictionaries, an unused entry ("zz"), nulls and a blank.
    first = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, None, 0, 3], type=pa.int8()), pa.array(["b", "a", "zz", " "])
    )
    second = pa.DictionaryArray.from_arrays(
        pa.array([1, 0, 1], type=pa.int32()).cast(pa.int8()), pa.array(["c", "a"])
    )
    chunked = pa.chunked_array([first, second])
    series = pd.Series(pd.arrays.ArrowExtensionArray(chunked))
    values = ["b", "a", None, "b", " ", "a", "c", "a"]
    assert pa.types.is_dictionary(groups._arrow_strings(series).type)  # not via factorize
    _check(series, values)
    assert encode_values(series)[1] == ("a", "b", "c")  # sorted; "zz" is no group
    monkeypatch.setattr(groups, "_threads", lambda rows: 3)
    _check(series, values)


@pytest.mark.parametrize("dtype", STRING_DTYPES)
@given(
    values=st.lists(st.sampled_from(["b", "a", "", "  ", None, "ä", "a "]), max_size=40),
    chunk_at=st.integers(0, 40),
)
@settings(max_examples=40, deadline=None)
def test_raw_value_codes_stand_for_each_rows_value(dtype: Any, values: list[Any], chunk_at: int):
    series = pd.Series(values, dtype=dtype)
    if len(series) > chunk_at > 0:
        series = pd.concat([series.iloc[:chunk_at], series.iloc[chunk_at:]])  # two Arrow chunks
    for sample_rows in (3, 1 << 16):  # values beyond the sample: the dictionary encoder
        with patch.object(groups, "_SAMPLE_ROWS", sample_rows):
            codes, raw = groups.raw_value_codes(series)
        assert len(codes) == len(values)
        assert [raw[c] for c in codes] == [None if _missing(v) else v for v in values]

"""Groups: encoding, labels, missing values, intersections and which groups are compared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.auditors.fairness import FairnessAuditor
from audit.core.context import Task
from audit.core.groups import (
    encode_column,
    group_statuses,
    groupings_for,
    make_grouping,
)
from audit.core.measurements import GroupStatus

MISSING = [np.nan, None, pd.NA, "", "   "]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_missing_values_of_every_kind_form_one_unknown_group(dtype):
    values = ["b", "a", *MISSING, "a"]
    if dtype == "str":
        values = [v if isinstance(v, str) else None for v in values]
    codes, names, unknown = encode_column(pd.Series(values, dtype=dtype))
    assert names == ("a", "b", "unknown")
    assert unknown.tolist() == [False, False, True]
    assert codes.tolist() == [1, 0, 2, 2, 2, 2, 2, 0]


def test_numeric_codes_sort_as_numbers_and_read_as_integers():
    codes, names, _ = encode_column(pd.Series([10.0, 9.0, np.nan, 10.0]))
    assert names == ("9", "10", "unknown")
    assert codes.tolist() == [1, 0, 2, 1]


def test_categoricals_keep_their_category_order_and_drop_unused_values():
    column = pd.Categorical(["low", "high", "low"], categories=["high", "mid", "low"])
    codes, names, _ = encode_column(pd.Series(column))
    assert names == ("high", "low")
    assert codes.tolist() == [1, 0, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["x", "y", "z", "", " "]), st.none()), max_size=40))
def test_every_row_is_labelled_with_its_own_value(values):
    codes, names, unknown = encode_column(pd.Series(values, dtype=object))
    for value, code in zip(values, codes.tolist(), strict=True):
        missing = value is None or not value.strip()
        assert unknown[code] == missing
        assert names[code] == ("unknown" if missing else value)
    assert list(names[: len(names) - unknown.sum()]) == sorted(set(names) - {"unknown"})


def test_intersections_are_labelled_and_counted_like_pandas(adult):
    grouping = make_grouping(adult, ["sex", "race"])
    expected = adult.groupby(["sex", "race"]).size()
    assert grouping.labels == tuple(f"sex={s}, race={r}" for s, r in expected.index)
    assert grouping.counts().tolist() == expected.tolist()
    assert "sex=Female, race=Black" in grouping.labels
    # Codes are consistent with the rows' values.
    female_black = (adult["sex"] == "Female") & (adult["race"] == "Black")
    code = grouping.labels.index("sex=Female, race=Black")
    assert np.array_equal(grouping.codes == code, female_black.to_numpy())


def test_only_combinations_present_in_the_data_are_groups():
    data = pd.DataFrame({"a": ["x", "x", "y"], "b": ["p", "q", "p"]})
    grouping = make_grouping(data, ["a", "b"])
    assert grouping.labels == ("a=x, b=p", "a=x, b=q", "a=y, b=p")


def test_groupings_are_each_column_then_their_intersection(adult):
    groupings = groupings_for(adult, ["sex", "race"], intersectional=True)
    assert [g.columns for g in groupings] == [("sex",), ("race",), ("sex", "race")]
    groupings = groupings_for(adult, ["sex", "race"], intersectional=False)
    assert [g.columns for g in groupings] == [("sex",), ("race",)]
    assert [g.columns for g in groupings_for(adult, ["sex"], intersectional=True)] == [("sex",)]


def test_real_missing_workclass_values_form_the_unknown_group(adult, adult_income, run_audit, pick):
    missing = int(adult["workclass"].isna().sum())
    assert missing == 1836  # Adult's '?' entries, read as empty fields
    output = run_audit(adult, adult_income, adult_income, ["workclass"], bootstrap=0)
    groups = {g.group: g for g in pick(output, "selection_rate", ["workclass"]).groups}
    assert groups["workclass=unknown"].count == missing
    assert groups["workclass=unknown"].status is GroupStatus.OK
    assert list(groups)[-1] == "workclass=unknown"
    assert any("1,836 of 32,561 rows" in w for w in output.warnings)


def test_unknown_group_is_compared_or_excluded_as_configured(adult, adult_income, run_audit, pick):
    data = adult.copy()
    data.loc[data.index % 50 == 0, "sex"] = ""  # blanks, as a CSV export may hold them
    # y_pred = y_true, so selection rates are base rates; the unknown group's lies between.
    compared = run_audit(data, adult_income, adult_income, ["sex"], bootstrap=0)
    excluded = run_audit(
        data, adult_income, adult_income, ["sex"], bootstrap=0, unknown_group="exclude"
    )
    unknown = {g.group: g for g in pick(excluded, "selection_rate", ["sex"]).groups}["sex=unknown"]
    assert unknown.count == int((data.index % 50 == 0).sum())
    assert unknown.status is GroupStatus.EXCLUDED
    assert unknown.note == "unknown category: reported, not compared"
    assert unknown.value is not None  # reported

    labels = data["sex"].replace("", "unknown")
    known = (labels != "unknown").to_numpy()
    with_unknown = demographic_parity_difference(
        adult_income, adult_income, sensitive_features=labels
    )
    without_unknown = demographic_parity_difference(
        adult_income[known], adult_income[known], sensitive_features=labels[known]
    )
    dp_compared = pick(compared, "demographic_parity_difference", ["sex"])
    dp_excluded = pick(excluded, "demographic_parity_difference", ["sex"])
    assert dp_compared.value == pytest.approx(with_unknown, abs=1e-12)
    assert dp_excluded.value == pytest.approx(without_unknown, abs=1e-12)
    assert "3 of 3 groups" in dp_compared.description
    assert "2 of 3 groups" in dp_excluded.description


def test_groups_under_the_share_threshold_are_excluded(adult, adult_income, run_audit, pick):
    output = run_audit(
        adult, adult_income, adult_income, ["race"], bootstrap=0, exclude_below_share=0.02
    )
    shares = adult["race"].value_counts(normalize=True)
    groups = {g.group: g for g in pick(output, "selection_rate", ["race"]).groups}
    below = {f"race={race}" for race, share in shares.items() if share < 0.02}
    assert below == {"race=Amer-Indian-Eskimo", "race=Other"}
    for label, group in groups.items():
        if label in below:
            share = shares[label.removeprefix("race=")]
            assert group.status is GroupStatus.EXCLUDED
            assert group.note == f"under 2% of rows ({share:.1%})"
        else:
            assert group.status is GroupStatus.OK
    assert groups["race=Other"].note == "under 2% of rows (0.8%)"
    assert "3 of 5 groups" in pick(output, "demographic_parity_ratio", ["race"]).description


def test_groups_under_the_minimum_size_are_small(adult, adult_income, run_audit, pick):
    output = run_audit(
        adult, adult_income, adult_income, ["sex", "race"], bootstrap=0, min_group_size=150
    )
    sizes = adult.groupby(["sex", "race"]).size()
    groups = {g.group: g for g in pick(output, "accuracy", ["sex", "race"]).groups}
    small = {f"sex={s}, race={r}": int(n) for (s, r), n in sizes.items() if n < 150}
    assert small == {"sex=Female, race=Amer-Indian-Eskimo": 119, "sex=Female, race=Other": 109}
    for label, group in groups.items():
        if label in small:
            assert group.status is GroupStatus.SMALL
            assert group.note == "under the minimum group size of 150"
        else:
            assert group.status is GroupStatus.OK, label


def test_status_rules_apply_in_order():
    data = pd.DataFrame({"g": ["a"] * 90 + ["b"] * 8 + [None] * 2})
    grouping = make_grouping(data, ["g"])
    statuses = group_statuses(
        grouping, min_group_size=10, exclude_below_share=0.05, exclude_unknown=True
    )
    assert [s for s, _ in statuses] == [GroupStatus.OK, GroupStatus.SMALL, GroupStatus.EXCLUDED]
    assert statuses[2][1] == "unknown category: reported, not compared"
    statuses = group_statuses(
        grouping, min_group_size=10, exclude_below_share=0.1, exclude_unknown=False
    )
    assert statuses[1] == (GroupStatus.EXCLUDED, "under 10% of rows (8.0%)")
    assert statuses[2] == (GroupStatus.EXCLUDED, "under 10% of rows (2.0%)")


def test_share_note_never_rounds_up_to_the_threshold():
    data = pd.DataFrame({"g": ["a"] * 9803 + ["b"] * 197})  # b: 1.97%, "2.0%" at one decimal
    statuses = group_statuses(
        make_grouping(data, ["g"]),
        min_group_size=1,
        exclude_below_share=0.02,
        exclude_unknown=False,
    )
    assert statuses[1] == (GroupStatus.EXCLUDED, "under 2% of rows (1.97%)")


def test_dense_and_sorted_compaction_give_the_same_groups(monkeypatch):
    from audit.core import groups

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "a": rng.choice(["x", "y", "z"], 5000),
            "b": rng.choice([1, 2, 3, 4, None], 5000),
            "c": rng.choice(["p", "q"], 5000),
        }
    )
    dense = groups.make_grouping(frame, ["a", "b", "c"])
    monkeypatch.setattr(groups, "_DENSE_LIMIT", 0)  # force the np.unique path
    sorted_ = groups.make_grouping(frame, ["a", "b", "c"])
    assert dense.labels == sorted_.labels
    assert np.array_equal(dense.codes, sorted_.codes)
    assert np.array_equal(dense.unknown, sorted_.unknown)
    # and the codes mean what the labels say
    first = dense.labels[dense.codes[0]]
    row = frame.iloc[0]
    assert first.startswith(f"a={row['a']}, ")


def _numbers_warnings(output) -> list[str]:
    return [w for w in output.warnings if "distinct numbers" in w]


def test_a_sensitive_column_of_many_numbers_is_named_in_a_warning(adult, adult_income, run_audit):
    # Adult's age: 73 distinct ages, each its own group unless the user bins them
    data = adult[["age", "race", "sex"]].assign(
        race_code=adult["race"].astype("category").cat.codes,  # 5 numbers: real groups
        over_40=adult["age"] >= 40,  # booleans are groups, not numbers
    )
    columns = ["age", "race", "race_code", "over_40"]
    output = run_audit(data[columns], adult_income, adult_income, columns, intersectional=False)
    (warning,) = _numbers_warnings(output)
    assert f"'age' holds {adult['age'].nunique()} distinct numbers" in warning
    assert "29 U.S.C. § 631(a)" in warning
    regression = run_audit(
        data[["age", "race"]],
        adult["hours-per-week"].to_numpy(float),
        adult["hours-per-week"].to_numpy(float),
        ["age", "race"],
        task=Task.REGRESSION,
        intersectional=False,
    )
    assert _numbers_warnings(regression) == [warning]


def test_few_numbers_or_many_strings_draw_no_such_warning(run_audit):
    countries = [f"country {i}" for i in range(40)]  # 40 named groups: national origin
    data = pd.DataFrame({"origin": countries * 25, "score": [0.5, 1.5] * 500})
    y = np.tile([0, 1], 500)
    output = run_audit(data, y, y, ["origin", "score"], intersectional=False)
    assert _numbers_warnings(output) == []


def test_values_that_differ_only_in_case_or_spaces_are_named_in_a_warning(run_audit):
    # three spellings of one group, each compared as a group of its own, in both tasks
    sex = ["M", "M ", "m", "F"] * 50
    data = pd.DataFrame({"sex": sex, "region": ["North", "South"] * 100})
    y = np.tile([0, 1], 100)
    for task, outcome in ((Task.BINARY, y), (Task.REGRESSION, y.astype(float))):
        output = run_audit(data, outcome, outcome, ["sex", "region"], task=task)
        spelled = [w for w in output.warnings if "differ only in case" in w]
        assert spelled == [
            "sensitive column 'sex' holds values that differ only in case or surrounding "
            "spaces ('M', 'M ', 'm'), each compared as a group of its own; if they are one "
            "group, clean the column before the audit"
        ]


def test_regression_errors_are_described_in_the_targets_units():
    described = FairnessAuditor().metrics()
    for metric in ("mean_absolute_error", "root_mean_squared_error"):
        assert "in the target's units" in described[metric]

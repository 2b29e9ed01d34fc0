import pandas as pd
import pytest

from audit.core.context import Task
from audit.data import load_table, resolve_roles
from audit.errors import DataError


def test_csv_and_parquet_read_the_same(tmp_path, adult_sample):
    adult_sample.to_csv(tmp_path / "a.csv", index=False)
    adult_sample.to_parquet(tmp_path / "a.parquet")
    from_csv = load_table(tmp_path / "a.csv")
    from_parquet = load_table(tmp_path / "a.parquet")
    assert from_csv.shape == from_parquet.shape == (2000, 15)
    assert (from_csv["sex"] == from_parquet["sex"]).all()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "does not exist"),
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"a,b\n", "has no rows"),
        ("latin1.csv", "name\nJos\xe9\n".encode("latin-1"), "is not UTF-8"),
        ("data.xlsx", b"x", "unknown type '.xlsx'"),
    ],
)
def test_unreadable_data_gets_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        load_table(path)
    assert "\n" not in str(info.value)


def test_misspelled_column_suggests_the_right_one(adult_sample):
    with pytest.raises(DataError, match="sensitive column 'gender' is not in the data") as info:
        resolve_roles(adult_sample, target="income", sensitive=["gender"])
    with pytest.raises(DataError, match="did you mean 'sex'"):
        resolve_roles(adult_sample, target="income", sensitive=["sexx"])
    assert "Columns are: age, workclass" in str(info.value)


def test_duplicated_columns_are_refused():
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "y"])
    with pytest.raises(DataError, match="duplicated column names: a"):
        resolve_roles(frame, target="y", sensitive=["a"])


def test_default_features_exclude_target_and_reserved(adult_sample):
    roles = resolve_roles(
        adult_sample, target="income", sensitive=["sex"], reserved=["fnlwgt"], positive_label=">50K"
    )
    assert "income" not in roles.features and "fnlwgt" not in roles.features
    assert "sex" in roles.features
    assert roles.task is Task.BINARY


def test_target_cannot_be_sensitive_or_feature(adult_sample):
    with pytest.raises(DataError, match="both the target and a sensitive"):
        resolve_roles(adult_sample, target="sex", sensitive=["sex"])
    with pytest.raises(DataError, match="cannot also be a model feature"):
        resolve_roles(adult_sample, target="income", sensitive=["sex"], features=["age", "income"])

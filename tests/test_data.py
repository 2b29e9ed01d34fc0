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
        ("latin1.csv", "name\nJos\xe9\n".encode("latin-1"), r"UTF-8 text \(line 2: byte 0xe9\)"),
        ("late.csv", b"name\n" + b"Ann\n" * 5000 + "Jos\xe9\n".encode("cp1252"), "line 5002: "),
        ("semicolon.csv", b"a;b;c\n1,5;2;3\n", r"separates its columns with ';', not ','"),
        ("pipes.csv", b"a|b|c\n1|2|3\n", r"one column, 'a\|b\|c': .* with '\|', not ','"),
        ("semicolon.tsv", b"a;b;c\n1;2;3\n", r"with ';', not tabs"),
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


def test_a_one_column_header_is_taken_for_another_separator_only_when_it_holds_one(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("score;2026\n0.5\n0.7\n")  # ';' in the one name, and no other column
    with pytest.raises(DataError, match="separates its columns with ';'"):
        load_table(path)
    path.write_text("score 2026\n0.5\n0.7\n")
    assert load_table(path)["score 2026"].tolist() == [0.5, 0.7]


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

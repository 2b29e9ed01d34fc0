import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit.core.context import Task
from audit.data import column_names, load_table, parquet_dataset, resolve_roles
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


def test_codes_written_with_leading_zeros_stay_text_when_asked(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text("zip,amount,code\n02139,1,0.5\n94103,2,7\n,3,0\n", encoding="utf-8")
    as_numbers = load_table(path)
    assert as_numbers["zip"].tolist()[:2] == [2139, 94103]  # pandas drops the zero
    as_written = load_table(path, codes_as_text=True)
    assert as_written["zip"].tolist()[:2] == ["02139", "94103"]
    assert as_written["zip"].isna().tolist() == [False, False, True]
    assert as_written["amount"].tolist() == [1, 2, 3]  # no leading zero: still numbers
    assert as_written["code"].tolist() == [0.5, 7.0, 0.0]  # 0 and 0.5 are not codes


def test_a_data_only_audit_checks_postcodes_as_written(tmp_path):
    from audit import run_audit

    path = tmp_path / "extract.csv"
    path.write_text("zip\n02139\n00501\n941\n", encoding="utf-8")
    policy = tmp_path / "zip.yaml"
    policy.write_text(
        "name: zips\nversion: '1'\nauditors:\n  masking:\n    rules:\n"
        "      - {id: zip3, columns: [zip], treatment: generalize, level: digits, digits: 3}\n"
        "requirements:\n  - {id: z, title: Zips keep 3 digits, citation: Policy choice,\n"
        "     auditor: masking, metric: rule_violations, group_by: [zip3], compare: at_most,\n"
        "     threshold: 0}\n",
        encoding="utf-8",
    )
    (finding,) = run_audit(data=path, policy=policy).findings
    assert finding.measured == 2  # 02139 and 00501 keep five digits; read as numbers, 501 passed


@pytest.mark.parametrize("name", ["zero.csv", "zero.parquet"])
def test_a_device_is_refused_not_read(tmp_path, name):
    # /dev/null reads as empty and /dev/zero never ends: neither is a data file.
    link = tmp_path / name
    link.symlink_to(os.devnull)
    with pytest.raises(DataError, match="is not a regular file"):
        load_table(link)
    with pytest.raises(DataError, match="is not a regular file"):
        column_names(link)


def test_a_folder_without_parquet_files_says_so(tmp_path):
    with pytest.raises(DataError, match="holds no Parquet files"):
        load_table(tmp_path)


def test_a_folder_holding_a_file_that_is_not_parquet_names_it(tmp_path, adult_sample):
    adult_sample.to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_table(tmp_path)
    message = str(info.value)
    assert "notes.csv" in message and "Parquet" in message
    assert "disagree on a column's type" not in message  # no type was compared


def test_a_parquet_file_with_a_repeated_column_name_names_it(tmp_path):
    table = pa.table([pa.array(["F", "M"]), pa.array(["M", "F"]), pa.array([1, 0])],
                     names=["sex", "sex", "y"])  # fmt: skip
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"has duplicated column names: sex$"):
        load_table(tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"has duplicated column names: sex$"):
        parquet_dataset(tmp_path / "dup.parquet")


def test_column_names_read_the_header_or_schema_only(tmp_path, adult_sample):
    small = adult_sample[["sex", "race", "income"]]
    small.to_csv(tmp_path / "a.csv", index=False)
    small.to_csv(tmp_path / "a.tsv", index=False, sep="\t")
    small.to_parquet(tmp_path / "a.parquet")
    folder = tmp_path / "lake" / "year=2024"
    folder.mkdir(parents=True)
    small.to_parquet(folder / "part.parquet")
    for path in ("a.csv", "a.tsv", "a.parquet"):
        assert column_names(tmp_path / path) == ["sex", "race", "income"]
    assert column_names(tmp_path / "lake") == ["sex", "race", "income", "year"]
    (tmp_path / "a.xlsx").write_bytes(b"x")
    with pytest.raises(DataError, match=r"unknown type '\.xlsx'"):
        column_names(tmp_path / "a.xlsx")

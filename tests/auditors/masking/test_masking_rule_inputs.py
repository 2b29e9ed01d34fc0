"""Masking rules on columns as pandas reads them: floats with gaps, empty columns, cells
of one rule found in several columns."""

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.core.context import AuditContext, ColumnRoles


def _checks(frame, rules):
    config = MaskingConfig(rules=rules)
    output = MaskingAuditor().run(AuditContext(data=frame), config)
    (metric,) = output.find("masking_rule_violations")
    rules_table = next(t for t in output.tables if t.title == "Masking rules")
    rows = {row[0]: dict(zip(rules_table.columns, row, strict=True)) for row in rules_table.rows}
    return {g.group.removeprefix("rule="): g for g in metric.groups}, rows


def test_whole_number_floats_are_checked_as_whole_numbers():
    # a CSV column of years or 3-digit postcodes with one gap is read as float64
    frame = pd.DataFrame(
        {
            "birth_year": [1985.0, np.nan, 1990.0, 1962.0],
            "zip": [941.0, np.nan, 21.0, 94107.0],
        }
    )
    groups, rows = _checks(
        frame,
        [
            {"id": "year", "columns": ["birth_year"], "treatment": "generalize", "level": "year"},
            {"id": "zip3", "columns": ["zip"], "treatment": "generalize", "level": "digits"},
        ],
    )
    assert groups["year"].value == 0 and groups["year"].count == 3
    assert groups["zip3"].value == 1  # 94107 only
    assert rows["zip3"]["First rows"] == "3"


def test_floats_with_fractions_are_still_checked_as_text():
    frame = pd.DataFrame({"birth_year": [1985.5, 1990.0, np.nan]})
    groups, _ = _checks(
        frame,
        [{"id": "year", "columns": ["birth_year"], "treatment": "generalize", "level": "year"}],
    )
    assert groups["year"].value == 2


@pytest.mark.parametrize(
    "rule",
    [
        {"treatment": "hmac"},
        {"treatment": "tokenize", "linkable": False},
        {"treatment": "mask", "keep_last": 4},
        {"treatment": "generalize", "level": "digits", "digits": 3},
        {"treatment": "generalize", "level": "year"},
    ],
)
@pytest.mark.parametrize("empty", [[None, None, None], ["", " ", None], [np.nan] * 3])
def test_a_rule_on_an_empty_column_is_not_verifiable(rule, empty):
    frame = pd.DataFrame({"col": empty, "other": ["a", "b", "c"]})
    groups, rows = _checks(frame, [{"id": "r", "columns": ["col"], **rule}])
    assert groups["r"].value is None
    assert "column 'col' has no non-empty cell" in groups["r"].note
    assert rows["r"]["Status"] == "not verifiable"


@pytest.mark.parametrize("treatment", ["drop", "redact", "keep"])
def test_an_empty_column_obeys_drop_redact_and_keep(treatment):
    frame = pd.DataFrame({"col": [None, "", None], "other": ["a", "b", "c"]})
    groups, _ = _checks(frame, [{"id": "r", "columns": ["col"], "treatment": treatment}])
    assert groups["r"].value == 0 and groups["r"].note is None


def test_an_empty_hashed_column_leaves_unsalted_hashes_unmeasured():
    frame = pd.DataFrame({"email": [None, None], "notes": ["mail jane@example.com", "hi"]})
    config = MaskingConfig(rules=[{"id": "e", "columns": ["email"], "treatment": "hmac"}])
    output = MaskingAuditor().run(AuditContext(data=frame), config)
    (unsalted,) = output.find("unsalted_hash_cells")
    assert unsalted.value is None and "non-empty cell" in unsalted.reason


def test_a_column_empty_in_one_chunk_only_is_verified():
    key = b"k" * 16
    emails = ["ann@example.com", "bob@example.org", "cy@example.net", "di@example.com"]
    frame = pd.DataFrame(
        {"email": [None, None] + [hmac.new(key, e.encode(), "sha256").hexdigest() for e in emails]}
    )
    frame.loc[5, "email"] = hashlib.sha256(emails[3].encode()).hexdigest()
    frame["notes"] = ["", "", "", "", "", f"from {emails[3]}"]
    config = MaskingConfig(rules=[{"id": "e", "columns": ["email"], "treatment": "hmac"}])
    auditor = MaskingAuditor()
    first, second = frame.iloc[:2], frame.iloc[2:]
    tally = auditor.tally(AuditContext(data=first), config).merge(
        auditor.tally(AuditContext(data=second), config)
    )
    output = auditor.finish(tally, config, roles=ColumnRoles("", (), ()), seed=0)
    (check,) = output.find("rule_violations")
    assert check.value == 1 and check.reason is None
    (alone,) = MaskingAuditor().run(AuditContext(data=first), config).find("rule_violations")
    assert alone.value is None


def test_first_rows_of_a_rule_are_its_first_in_any_column():
    frame = pd.DataFrame(
        {
            "ssn": [None, None, None, "536-90-4399", "078-05-1121"],
            "notes": ["ok", "SSN 536-90-4399 on file", "ok", "ok", "ok"],
        }
    )
    rule = {"id": "ssn", "columns": ["ssn"], "entity": "US_SSN", "treatment": "drop"}
    groups, rows = _checks(frame, [rule])
    assert groups["ssn"].value == 3
    assert rows["ssn"]["First rows"] == "1, 3, 4"
    assert rows["ssn"]["Masked examples"].startswith("5**-**-****")

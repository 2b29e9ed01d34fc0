"""Each treatment, and the weak masking the auditor must catch."""

import base64
import hashlib

import pandas as pd
import pytest

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.hashes import plain_digests
from audit.core.context import AuditContext


def _rule_check(data, **rule):
    config = MaskingConfig(rules=[{"id": "r", **rule}])
    output = MaskingAuditor().run(AuditContext(data=pd.DataFrame(data)), config)
    (metric,) = output.find("masking_rule_violations")
    (group,) = metric.groups
    rules_table = next(t for t in output.tables if t.title == "Masking rules")
    return group, dict(zip(rules_table.columns, rules_table.rows[0], strict=True))


def test_drop_passes_when_the_column_is_gone_and_fails_when_present():
    group, _ = _rule_check({"other": [1, 2]}, columns=["ssn"], treatment="drop")
    assert group.value == 0
    group, row = _rule_check({"ssn": ["536-90-4399", None]}, columns=["ssn"], treatment="drop")
    assert group.value == 1 and row["Status"] == "violated"


def test_redact_accepts_markers_only():
    data = {"email": ["[REDACTED]", "***", "<EMAIL>", "", "jane@example.com"]}
    group, row = _rule_check(data, columns=["email"], treatment="redact")
    assert group.value == 1
    assert "j***@e***.com" in row["Masked examples"]
    assert "jane@example.com" not in str(row)


def test_mask_counts_kept_characters():
    data = {"card": ["************1111", "411111******1111", "XXXX-XXXX-XXXX-1111"]}
    group, row = _rule_check(data, columns=["card"], treatment="mask", keep_last=4)
    assert group.value == 1
    assert "keeps too many characters: 1" in row["Problems"]
    assert row["First rows"] == "1"


def test_hmac_catches_raw_values_and_unsalted_hashes():
    emails = ["jane@example.com", "john@example.org", "ann@example.net"]
    data = {
        "email": [
            hashlib.sha256(emails[0].encode()).hexdigest(),  # unsalted, and its input is below
            "f" * 64,  # a digest of something unknown: passes
            emails[2],  # raw
        ],
        "notes": [f"mail {emails[0]} today", "", ""],
    }
    group, row = _rule_check(data, columns=["email"], treatment="hmac")
    assert group.value == 2
    assert "unsalted hash: 1" in row["Problems"]
    assert "not a digest: 1" in row["Problems"]


def test_hashed_zip_codes_are_found_by_brute_force():
    data = {"zip": [hashlib.md5(z.encode()).hexdigest() for z in ["94107", "10001"]]}
    group, row = _rule_check(data, columns=["zip"], treatment="hmac")
    assert group.value == 2 and "unsalted hash: 2" in row["Problems"]


def test_linkable_tokens_are_caught_only_when_forbidden():
    data = {"token": ["tok_a", "tok_a", "tok_b"]}
    group, _ = _rule_check(data, columns=["token"], treatment="tokenize", linkable=False)
    assert group.value == 2
    group, _ = _rule_check(data, columns=["token"], treatment="tokenize")
    assert group.value == 0


@pytest.mark.parametrize(
    ("level", "values", "bad"),
    [
        ("year", ["1985", "1990", "1985-03-04"], 1),
        ("year_month", ["1985-03", "1985-03-04"], 1),
        ("decade", ["1980s", "1985"], 1),
    ],
)
def test_generalize_levels(level, values, bad):
    group, _ = _rule_check({"dob": values}, columns=["dob"], treatment="generalize", level=level)
    assert group.value == bad


def test_generalize_digits_keeps_at_most_n_digits():
    data = {"zip": ["941**", "94107", "941"]}
    group, _ = _rule_check(data, columns=["zip"], treatment="generalize", level="digits", digits=3)
    assert group.value == 1


def test_entity_rule_counts_the_entity_anywhere():
    data = {"notes": ["SSN 536-90-4399 on file", "nothing"], "ssn_hash": ["f" * 64] * 2}
    group, row = _rule_check(data, entity="US_SSN", treatment="drop")
    assert group.value == 1 and row["Columns"] == "notes"
    assert "536-90-4399" not in str(row)


def test_missing_column_makes_the_rule_unverifiable():
    group, row = _rule_check({"x": [1]}, columns=["email"], treatment="hmac")
    assert group.value is None and row["Status"] == "not verifiable"
    assert "'email' is not in the data" in group.note


def test_keep_allows_raw_values():
    data = {"zip": ["94107", "10001"]}
    config = MaskingConfig(rules=[{"id": "zip", "columns": ["zip"], "treatment": "keep"}])
    output = MaskingAuditor().run(AuditContext(data=pd.DataFrame(data)), config)
    assert output.find("unmasked_pii_cells")[0].value == 0
    assert output.find("masking_rule_violations")[0].value == 0


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
@pytest.mark.parametrize("spelling", ["hex", "b64", "b64-unpadded", "urlsafe-unpadded"])
def test_a_plain_hash_is_found_in_every_spelling(algorithm, spelling):
    raw = hashlib.new(algorithm, b"jane@example.com").digest()
    digest = {
        "hex": raw.hex(),
        "b64": base64.b64encode(raw).decode(),
        "b64-unpadded": base64.b64encode(raw).decode().rstrip("="),
        "urlsafe-unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }[spelling]
    within = {digest, "0" * 7}  # the other value's length matches no digest
    assert plain_digests(["Jane@Example.com"], enumerate_domains=False, within=within) == {digest}


@pytest.mark.parametrize(
    "cell",
    [
        "４１１１ ４１１１ ４１１１ ****",  # full-width digits
        "٤١١١ ٤١١١ ٤١١١ ****",  # Arabic-Indic digits
        "Иван Петров",  # a Cyrillic name
    ],
)
def test_mask_counts_letters_and_digits_of_every_script(cell):
    group, row = _rule_check({"card": [cell]}, columns=["card"], treatment="mask", keep_last=4)
    assert group.value == 1 and "keeps too many characters: 1" in row["Problems"]


def test_mask_checks_where_the_kept_characters_are():
    data = {"card": ["4111 **** **** ****", "**** **** **** 1111", "XXXX-XXXX-XXXX-1111", "****"]}
    group, row = _rule_check(data, columns=["card"], treatment="mask", keep_last=4)
    assert group.value == 1
    assert "keeps characters in the masked part: 1" in row["Problems"]
    assert row["First rows"] == "0"
    group, _ = _rule_check(
        {"name": ["J*** ***", "*** D**"]},
        columns=["name"],
        treatment="mask",
        keep_first=1,
        keep_last=0,
    )
    assert group.value == 1  # the second keeps its first character of the second word


def test_generalize_to_digits_counts_digits_of_every_script():
    data = {"zip": ["941**", "９４１０２", "٩٤١٠٢"]}
    group, row = _rule_check(
        data, columns=["zip"], treatment="generalize", level="digits", digits=3
    )
    assert group.value == 2 and row["First rows"] == "1, 2"

"""E-mail addresses as people write them (RFC 5322 dot-atoms), not as the Faker table does.

The addresses are written by hand: apostrophes, plus tags, sub-domains, digits, dashes and
the other characters a dot-atom allows; in plain cells and in free text without any of
the recognizers' context phrases.  Each must be found whole, masked from its first
character, and its unsalted SHA-256 recognised.
"""

import hashlib

import pandas as pd
import pytest

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.redact import mask_sample
from audit.auditors.masking.scanner import scan_table
from audit.core.context import AuditContext

ADDRESSES = [
    "j.o'neil+billing@mail.example.co.uk",
    "siobhan.o'sullivan@hse.example.ie",
    "d'angelo.rossi@example.it",
    "mary-jane.watson@daily-bugle.example.com",
    "first_last+newsletter@example.org",
    "user.name+tag+sorting@example.com",
    "x@example.com",
    "jean-luc.picard1701@starfleet.example.net",
    "a!b#c$d%e&f@example.com",
    "ops/support=team@example.com",
    "o'brien@example.com",
    "wei.zhang88@mail.example.cn",
    "hello{world}@example.de",
    "t~ilde^caret`tick@example.com",
    "dept?query|pipe@example.org",
]
"""Valid dot-atom addresses (RFC 5322 section 3.4.1), each local part chosen by hand."""

SENTENCES = [
    "Please copy {} on the invoice.",
    "{}",
    "Reply sent to {}; ticket closed.",
    "cc: {}, thanks",
    "(from {})",
    "Forwarded to '{}' by mistake",
]


def _found(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {
        scan.column: scan.hits["EMAIL_ADDRESS"].texts.to_pylist()
        for scan in scan_table(frame, recognizers_for(["EMAIL_ADDRESS"]))
        if "EMAIL_ADDRESS" in scan.hits
    }


def test_every_address_is_found_whole_in_a_plain_cell():
    found = _found(pd.DataFrame({"contact": ADDRESSES}))
    assert found["contact"] == ADDRESSES


@pytest.mark.parametrize("sentence", SENTENCES)
def test_every_address_is_found_whole_in_free_text(sentence):
    notes = [sentence.format(a) for a in ADDRESSES]
    assert _found(pd.DataFrame({"notes": notes}))["notes"] == ADDRESSES


def test_the_masked_example_starts_with_the_first_character_of_the_address():
    assert mask_sample("j.o'neil+billing@mail.example.co.uk") == "j***@m***.uk"
    data = pd.DataFrame({"email": ["j.o'neil+billing@mail.example.co.uk"]})
    config = MaskingConfig(rules=[{"id": "r", "columns": ["email"], "treatment": "redact"}])
    output = MaskingAuditor().run(AuditContext(data=data), config)
    table = next(t for t in output.tables if t.title == "PII found, by column")
    assert table.rows[0][table.columns.index("Masked examples")] == "j***@m***.uk"


def test_unsalted_sha256_of_each_full_address_is_recognised():
    """The address left in a note unmasks its plain hash in the hashed column."""
    data = pd.DataFrame(
        {
            "email": [hashlib.sha256(a.encode()).hexdigest() for a in ADDRESSES],
            "notes": [f"Reply sent to {a}; ticket closed." for a in ADDRESSES],
        }
    )
    config = MaskingConfig(rules=[{"id": "h", "columns": ["email"], "treatment": "hmac"}])
    output = MaskingAuditor().run(AuditContext(data=data), config)
    (unsalted,) = output.find("unsalted_hash_cells")
    assert unsalted.value == len(ADDRESSES)


def test_a_quote_before_an_address_is_not_part_of_it():
    found = _found(pd.DataFrame({"notes": ["sent to 'jane@example.com' today"]}))
    assert found["notes"] == ["jane@example.com"]

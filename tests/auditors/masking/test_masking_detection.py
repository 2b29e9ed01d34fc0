"""Precision and recall per entity on the labeled Faker table (seed 1234, 800 rows)."""

import pandas as pd
import pytest

from audit.auditors.masking.entities import Entity
from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.scanner import scan_table

FLOOR = {entity: (0.95, 0.95) for entity in Entity}
"""(precision, recall) each entity must reach; the measured values are in the benchmark."""


@pytest.fixture(scope="module")
def scored(labeled):
    scans = scan_table(labeled.data, recognizers_for(None))
    found = {(s.column, int(r), e) for s in scans for e, h in s.hits.items() for r in h.rows}
    truth = set(labeled.labels.itertuples(index=False, name=None))
    return found, truth


@pytest.mark.parametrize("entity", list(Entity))
def test_precision_and_recall_per_entity(scored, entity):
    found, truth = scored
    predicted = {x for x in found if x[2] == entity}
    actual = {x for x in truth if x[2] == entity}
    assert actual, f"the labeled table has no {entity}"
    hits = len(predicted & actual)
    precision, recall = hits / max(len(predicted), 1), hits / len(actual)
    low_p, low_r = FLOOR[entity]
    assert precision >= low_p, f"{entity}: precision {precision:.3f}"
    assert recall >= low_r, f"{entity}: recall {recall:.3f}"


def test_decoys_are_not_pii(scored, labeled):
    found, _ = scored
    assert not [x for x in found if x[0] == "order_id"], "Luhn-invalid order numbers"
    assert not [x for x in found if x[0] in ("product_code", "amount", "sex")]
    notes = labeled.data["notes"]
    decoy_rows = set(notes.index[notes.str.contains(r"Case (?:000|666|912)-", regex=True)])
    ssn_rows = {r for c, r, e in found if c == "notes" and e == "US_SSN"}
    true_ssn = set(labeled.labels.query("column == 'notes' and entity == 'US_SSN'")["row"])
    assert not (decoy_rows - true_ssn) & ssn_rows


def test_pii_inside_free_text_is_found_with_its_row(labeled):
    frame = pd.DataFrame({"text": ["nothing here", "write to jane.roe@example.org please"]})
    (scan,) = scan_table(frame, recognizers_for(None))
    assert scan.hits["EMAIL_ADDRESS"].rows.tolist() == [1]


def test_custom_pattern_is_detected():
    from audit.auditors.masking.config import CustomPattern

    custom = CustomPattern(name="CUSTOMER_ID", regex=r"\bC-\d{6}\b")
    frame = pd.DataFrame({"ref": ["C-123456", "D-123456", "see C-000001"]})
    (scan,) = scan_table(frame, recognizers_for([], [custom]))
    assert scan.hits["CUSTOMER_ID"].rows.tolist() == [0, 2]


def test_routing_and_skipping_on_a_large_column_find_what_cell_by_cell_scanning_finds():
    """A column larger than the routing sample: mostly IBANs, with rare other entities in
    rows the sample skips.  Scanning it whole must find what scanning each distinct cell
    alone finds (no sample, no routing)."""
    from audit.auditors.masking.scanner import SAMPLE, scan_column

    ibans = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "GB33BUKB20201555555555"]
    rare = {
        1: "jane.roe@example.org",
        3: "536-90-4399",
        7: "4111 1111 1111 1111",
        9: "call (212) 555-0100 now",
        11: "GB82 WEST 1234 5698 7654 33",  # a bad check digit: no IBAN
    }
    cells = [rare.get(i, ibans[i % 3]) for i in range(3 * SAMPLE)]
    recognizers = recognizers_for(None)
    whole = scan_column("account", pd.Series(cells), recognizers, max_chars=1000)
    found = {(int(r), e) for e, h in whole.hits.items() for r in h.rows}
    expected = set()
    for text in set(cells):
        alone = scan_column("account", pd.Series([text]), recognizers, max_chars=1000)
        entities = set(alone.hits)
        expected |= {(i, e) for i, cell in enumerate(cells) if cell == text for e in entities}
    assert found == expected
    assert {e for r, e in found if r in rare} == {
        "EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "PHONE_NUMBER"
    }  # fmt: skip
    assert len(whole.hits["IBAN_CODE"].rows) == 3 * SAMPLE - len(rare)


def test_a_custom_pattern_with_groups_is_extracted_from_free_text():
    """Arrow extracts named groups only: the pattern's own groups must not break it."""
    from audit.auditors.masking.config import CustomPattern

    custom = CustomPattern(name="CUSTOMER_ID", regex=r"\b(C|D)-(?P<num>\d{6})\b")
    frame = pd.DataFrame({"ref": ["ticket for C-123456 is open", "none", "D-000042 closed"]})
    (scan,) = scan_table(frame, recognizers_for([], [custom]))
    hits = scan.hits["CUSTOMER_ID"]
    assert hits.rows.tolist() == [0, 2]
    assert hits.texts.to_pylist() == ["C-123456", "D-000042"]

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

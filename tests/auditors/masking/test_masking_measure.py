"""The measuring step alone: plain numbers from a table, no evidence table rendered."""

import hashlib

import pandas as pd

from audit.auditors.masking import MaskingConfig
from audit.auditors.masking.measure import measure
from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.tally import tally_table


def test_measure_returns_counts_a_hand_count_gives():
    email = "jane.o'hara@example.com"
    frame = pd.DataFrame(
        {
            "email": [hashlib.sha256(email.encode()).hexdigest(), "f" * 64, "f" * 64],
            "notes": [f"write to {email} today", "call 415-555-0134 now", ""],
            "zip": ["94110", "94110", "10001"],
        }
    )
    settings = MaskingConfig(
        rules=[{"id": "h", "columns": ["email"], "treatment": "hmac", "linkable": False}],
        quasi_identifiers=["zip"],
        k_target=2,
    )
    measured = measure(tally_table(frame, settings, recognizers_for(None), None), settings)
    # by hand: one e-mail and one phone in the notes; the zip column is named for postcodes
    assert dict(measured.unmasked) == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1, "POSTAL_CODE": 3}
    (check,) = measured.checks
    # row 0 is a plain hash of the e-mail in the notes; rows 1 and 2 repeat one digest
    assert check.violations == 3
    assert dict(check.problems) == {"unsalted hash": 1, "linkable": 2}
    assert check.rows == [0, 1, 2]
    assert measured.unsalted == 1
    assert measured.risk is not None and (measured.risk.k, measured.risk.classes) == (1, 2)
    assert measured.risk.rows_at_risk == 1

"""Detection on cells written by hand as people type them, labelled by hand.

The labeled Faker table (``test_masking_detection``) is en_US and its free-text templates
were written beside the recognizers; these cells were not: European national phone
numbers, keyed and masked values, and decoys that share a number's digits and grouping.
"""

import pandas as pd
import pytest

from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.scanner import scan_column

CELLS: dict[str, list[tuple[str, str | None]]] = {
    "phone": [
        ("020 7946 0958", "PHONE_NUMBER"),  # London
        ("0161 496 0000", "PHONE_NUMBER"),  # Manchester
        ("07700 900123", "PHONE_NUMBER"),  # UK mobile
        ("(020) 7946 0958", "PHONE_NUMBER"),
        ("030/1234567", "PHONE_NUMBER"),  # Berlin, written with a slash
        ("(030) 12345678", "PHONE_NUMBER"),
        ("0151 12345678", "PHONE_NUMBER"),  # German mobile
        ("0221-1234567", "PHONE_NUMBER"),  # Cologne
        ("06-12345678", "PHONE_NUMBER"),  # Dutch mobile
        ("010 123 4567", "PHONE_NUMBER"),  # Rotterdam
        ("01 23 45 67 89", "PHONE_NUMBER"),  # Paris
        ("06.12.34.56.78", "PHONE_NUMBER"),  # French mobile, dotted
        ("+33 1 23 45 67 89", "PHONE_NUMBER"),
        ("0044 20 7946 0958", "PHONE_NUMBER"),
        ("0612345678", "PHONE_NUMBER"),  # the column's name says what it holds
        ("", None),
        ("n/a", None),
        ("***-****-0958", None),  # masked
    ],
    "notes": [
        ("Please ring 020 7946 0958 after five", "PHONE_NUMBER"),
        ("Rückruf unter 030/1234567 erbeten", "PHONE_NUMBER"),
        ("Joignable au 06 12 34 56 78 le matin", "PHONE_NUMBER"),
        ("Bel 06-12345678 voor een afspraak", "PHONE_NUMBER"),
        ("Termin am 04-11-2023 10:30 bestätigt", None),  # a date and a time
        ("Rendez-vous le 04.11.2023 à 10h", None),
        ("Invoice 2023-0042 paid in full", None),
        ("Parcel to 75008 Paris, floor 0", None),
        ("Dose 0,5 mg twice a day", None),
        ("Reference 0041 2233 on the letter", None),  # eight digits
        ("Total 1 234 567,89 EUR", None),
        ("Room 0.12, building 3", None),
        ("App 2.14.0 crashed on start", None),
        ("Office hours 9-17, closed on 24-12", None),
    ],
}


@pytest.mark.parametrize("column", sorted(CELLS))
def test_each_hand_labelled_cell_is_found_as_labelled(column):
    cells = CELLS[column]
    series = pd.Series([text for text, _ in cells], dtype="str")
    scan = scan_column(column, series, recognizers_for(None), max_chars=10_000)
    found: dict[int, set[str]] = {}
    for entity, hits in scan.hits.items():
        for row in hits.rows.tolist():
            found.setdefault(row, set()).add(str(entity))
    wrong = [
        (text, label, sorted(found.get(row, set())))
        for row, (text, label) in enumerate(cells)
        if found.get(row, set()) != ({label} if label else set())
    ]
    assert not wrong

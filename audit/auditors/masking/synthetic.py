"""A labeled synthetic table for testing and benchmarking PII detection (needs ``faker``).

Every built-in entity appears in its own column and hidden inside a free-text column,
next to decoys that look like PII but are not: card numbers failing Luhn, SSNs in the
never-assigned ranges, IBANs with a wrong check, dates without a birth context, version
strings, order numbers.  The labels say which cell holds which entity.

>>> table = labeled_table(rows=20, seed=7)  # doctest: +SKIP
>>> sorted(table.labels["entity"].unique())[:2]  # doctest: +SKIP
['CREDIT_CARD', 'DATE_OF_BIRTH']
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["LabeledTable", "labeled_table"]


@dataclass(frozen=True)
class LabeledTable:
    """A table and its ground truth.

    Attributes
    ----------
    data : pandas.DataFrame
        The raw table.
    labels : pandas.DataFrame
        One row per (``column``, ``row``, ``entity``) that truly holds PII.
    values : pandas.DataFrame
        The raw PII strings per label (``column``, ``row``, ``entity``, ``value``), for
        leak tests.
    """

    data: pd.DataFrame
    labels: pd.DataFrame
    values: pd.DataFrame


def _bad_luhn(number: str) -> str:
    last = int(number[-1])
    return number[:-1] + str((last + 1) % 10)


def _bad_iban(iban: str) -> str:
    check = int(iban[2:4])
    return f"{iban[:2]}{(check + 1) % 97 + 2:02d}{iban[4:]}"


def labeled_table(rows: int = 400, seed: int = 1234) -> LabeledTable:
    """Make the labeled table with Faker (locale ``en_US``) at a fixed seed.

    Parameters
    ----------
    rows : int
        Number of rows.
    seed : int
        Seed of Faker and of the choices of what goes into the free text.

    Returns
    -------
    LabeledTable
        The data, its labels and the raw values behind them.

    Raises
    ------
    ImportError
        Faker is not installed (``pip install faker``; it is in the ``dev`` extra).
    """
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    labels: list[tuple[str, int, str, str]] = []

    def label(column: str, row: int, entity: str, value: str) -> None:
        labels.append((column, row, entity, value))

    for row in range(rows):
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last}"
        email = fake.email()
        phone = (
            fake.phone_number()
            if rng.random() < 0.7
            else f"+44 20 {rng.randint(7000, 7999)} {rng.randint(1000, 9999)}"
        )
        ssn = fake.ssn()
        card = fake.credit_card_number()
        iban = fake.iban()
        ip = fake.ipv4_public() if rng.random() < 0.7 else fake.ipv6()
        dob = fake.date_of_birth(minimum_age=18, maximum_age=90)
        zipcode = fake.zipcode()
        record = {
            "customer_name": name,
            "email": email,
            "phone": phone,
            "ssn": ssn,
            "card_number": card,
            "iban": iban,
            "ip_address": ip,
            "dob": dob.isoformat(),
            "zip": zipcode,
            "sex": rng.choice(["F", "M"]),
            "birth_year": dob.year,
            "order_id": _bad_luhn(fake.credit_card_number(card_type="visa16")),
            "amount": round(rng.uniform(5, 500), 2),
            "product_code": f"SKU-{rng.randint(100000, 999999)}",
        }
        for column, entity, value in (
            ("customer_name", "PERSON", name),
            ("email", "EMAIL_ADDRESS", email),
            ("phone", "PHONE_NUMBER", phone),
            ("ssn", "US_SSN", ssn),
            ("card_number", "CREDIT_CARD", card),
            ("iban", "IBAN_CODE", iban),
            ("ip_address", "IP_ADDRESS", ip),
            ("dob", "DATE_OF_BIRTH", dob.isoformat()),
            ("zip", "POSTAL_CODE", zipcode),
        ):
            label(column, row, entity, value)
        record["notes"] = _note(fake, rng, row, label)
        records.append(record)
    data = pd.DataFrame.from_records(records)
    values = pd.DataFrame(labels, columns=["column", "row", "entity", "value"])
    return LabeledTable(data=data, labels=values[["column", "row", "entity"]], values=values)


def _note(fake: Any, rng: random.Random, row: int, label: Any) -> str:
    """A free-text cell: PII in about half of them, a decoy in about a third."""
    parts = [fake.sentence(nb_words=8)]
    kind = rng.choice(
        ["email", "phone", "ssn", "card", "iban", "ip", "dob", "zip", "person", "none", "none"]
    )
    if kind == "email":
        value = fake.email()
        parts.append(f"Customer asked to write to {value} instead.")
        label("notes", row, "EMAIL_ADDRESS", value)
    elif kind == "phone":
        value = f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        parts.append(f"Call back on {value} after five.")
        label("notes", row, "PHONE_NUMBER", value)
    elif kind == "ssn":
        value = fake.ssn()
        parts.append(f"Verified identity with SSN {value}.")
        label("notes", row, "US_SSN", value)
    elif kind == "card":
        value = fake.credit_card_number(card_type="visa16")
        spaced = " ".join(value[i : i + 4] for i in range(0, 16, 4))
        parts.append(f"Paid with card {spaced} yesterday.")
        label("notes", row, "CREDIT_CARD", spaced)
    elif kind == "iban":
        value = fake.iban()
        parts.append(f"Refund to account {value} requested.")
        label("notes", row, "IBAN_CODE", value)
    elif kind == "ip":
        value = fake.ipv4_public()
        parts.append(f"Login seen from {value} at night.")
        label("notes", row, "IP_ADDRESS", value)
    elif kind == "dob":
        value = fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat()
        parts.append(f"Patient born on {value} per the form.")
        label("notes", row, "DATE_OF_BIRTH", value)
    elif kind == "zip":
        state, value = fake.state_abbr(include_territories=False), fake.zipcode()
        parts.append(f"Ships to {fake.city()}, {state} {value} next week.")
        label("notes", row, "POSTAL_CODE", value)
    elif kind == "person":
        first, last = fake.first_name(), fake.last_name()
        parts.append(f"Escalated by Dr. {first} {last} on Monday.")
        label("notes", row, "PERSON", f"{first} {last}")
    decoy = rng.choice(["card", "ssn", "iban", "date", "version", "order", "none", "none", "none"])
    if decoy == "card":
        parts.append(f"Reference {_bad_luhn(fake.credit_card_number(card_type='visa16'))}.")
    elif decoy == "ssn":
        parts.append(
            f"Case {rng.choice(['000', '666', '912'])}-{rng.randint(10, 99)}-"
            f"{rng.randint(1000, 9999)} closed."
        )
    elif decoy == "iban":
        parts.append(f"Old account {_bad_iban(fake.iban())} was closed.")
    elif decoy == "date":
        parts.append(f"Meeting on {fake.date_this_decade().isoformat()} went well.")
    elif decoy == "version":
        parts.append(f"App version {rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}.")
    elif decoy == "order":
        parts.append(f"Order {rng.randint(10**8, 10**9 - 1)} shipped.")
    return " ".join(parts)

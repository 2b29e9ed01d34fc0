"""The vectorised validators agree with plain, one-value-at-a-time reference checks."""

import random

import numpy as np
import pyarrow as pa

from audit.auditors.masking.validators import (
    _IBAN_LENGTHS,
    iban_mod97,
    luhn,
    phone_digits,
    us_ssn,
)


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    c = text.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(c[:2]) != len(c) or not (c.isascii() and c.isalnum()):
        return False
    moved = c[4:] + c[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_luhn_matches_the_reference_on_random_numbers():
    rng = random.Random(7)
    numbers = [
        "".join(rng.choice("0123456789") for _ in range(rng.randint(12, 19))) for _ in range(3000)
    ]
    expected = np.array(
        [
            _luhn_ok(n) and n[0] in "123456" and (len(n) >= 13 or (len(n) == 12 and n[0] in "56"))
            for n in numbers
        ]
    )
    got = luhn(numbers)
    assert got.any() and (got == expected).all()
    assert (luhn(pa.array(numbers)) == got).all()  # Arrow input gives the same answer


def test_iban_matches_the_reference_on_random_and_fixed_ibans():
    rng = random.Random(11)
    countries = sorted(_IBAN_LENGTHS)
    texts = []
    for _ in range(3000):
        country = rng.choice(countries)
        body = "".join(rng.choice("0123456789ABCDEFXYZ") for _ in range(_IBAN_LENGTHS[country] - 4))
        # the right check digits for half of them
        moved = body + country + "00"
        check = 98 - int("".join(str(int(ch, 36)) for ch in moved)) % 97
        digits = f"{check:02d}" if rng.random() < 0.5 else f"{rng.randint(2, 98):02d}"
        iban = country + digits + body
        texts.append(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4)))
    texts += [
        "GB82 WEST 1234 5698 7654 32",
        "gb82west12345698765432",
        "GB82 WEST 1234 5698 7654 33",
    ]
    got = iban_mod97(texts)
    expected = np.array([_iban_ok(t) for t in texts])
    assert 0 < got.sum() < len(texts) and (got == expected).all()
    assert got[-3:].tolist() == [True, True, False]


def _ssn_ok(text: str) -> bool:
    if any(ch not in "0123456789 ./()+\t-" for ch in text):
        return False
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    blocked = {"078051120", "219099999", "123456789"}
    return area not in (0, 666) and area < 900 and group and serial and digits not in blocked


def _phone_ok(text: str) -> bool:
    digits = "".join(ch for ch in text.split("x")[0] if ch.isdigit())
    return 10 <= len(digits) <= 15 and len(set(digits)) > 1


def test_ssn_and_phone_validators_match_the_reference():
    rng = random.Random(5)
    texts = [
        "".join(rng.choice("0123456789-- ") for _ in range(rng.randint(0, 14))) for _ in range(4000)
    ]
    texts += ["078-05-1120", "666-12-3456", "536-90-4399", "111-11-1111", "536 90 4399", ""]
    got = us_ssn(texts)
    assert got.any() and (got == np.array([_ssn_ok(t) for t in texts])).all()
    assert (us_ssn(pa.array(texts)) == got).all()
    phones = [
        f"+{rng.randint(1, 99)} {rng.randint(0, 9999)} {rng.randint(0, 9999999)}"
        + rng.choice(["", " x12", "x9", " ext. 4"])
        for _ in range(3000)
    ]
    phones += ["(555) 555-5555", "+1 212 555 0100 x 99", "12345", ""]
    got = phone_digits(phones)
    assert 0 < got.sum() < len(phones)
    assert (got == np.array([_phone_ok(t) for t in phones])).all()

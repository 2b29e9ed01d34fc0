"""The vectorised validators agree with plain, one-value-at-a-time reference checks."""

import ipaddress
import random

import numpy as np
import pyarrow as pa

from audit.auditors.masking.validators import (
    _IBAN_LENGTHS,
    iban_mod97,
    ip_address,
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


def _network_length_ok(n: str) -> bool:
    """The lengths card networks issue after prefixes 1, 2 and 3 (others: any)."""
    if n[0] == "1":
        return len(n) == 15
    if n[0] == "2":
        return (n.startswith("2131") and len(n) == 15) or ("22" <= n[:2] <= "27" and len(n) >= 16)
    if n[:2] in ("34", "37"):
        return len(n) == 15
    if n[0] == "3":
        return len(n) == 14 or len(n) >= 16
    return True


def test_luhn_matches_the_reference_on_random_numbers():
    rng = random.Random(7)
    numbers = [
        "".join(rng.choice("0123456789") for _ in range(rng.randint(12, 19))) for _ in range(3000)
    ]
    expected = np.array(
        [
            _luhn_ok(n)
            and n[0] in "123456"
            and (len(n) >= 13 or (len(n) == 12 and n[0] in "56"))
            and _network_length_ok(n)
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
    # the SSA writes 3-2-4 with one separator; nine digits in a row are the same number
    groups = text.split("-") if "-" in text else text.split(" ")
    if [len(g) for g in groups] not in ([3, 2, 4], [9]) or not all(g.isdigit() for g in groups):
        return False
    digits = "".join(groups)
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
    texts += ["1234-5-6788", "536-90 4399", "53-690-4399", "536--90-4399", " 536-90-4399"]
    got = us_ssn(texts)
    assert got[-5:].tolist() == [False] * 5  # nine valid digits, grouped wrong
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


def _ipv6_strings(rng: random.Random, count: int) -> list[str]:
    """Real addresses in every spelling, and near misses made from them by one edit."""
    texts = []
    for _ in range(count):
        # runs of zero groups, so that '::' appears in many places
        groups = [0 if rng.random() < 0.4 else rng.randrange(1 << 16) for _ in range(8)]
        address = ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
        text = rng.choice([address.compressed, address.exploded, address.compressed.upper()])
        edit = rng.randrange(6)
        at = rng.randrange(len(text) + 1)
        if edit == 1:
            text = text[:at] + rng.choice("gG:x. ") + text[at + 1 :]
        elif edit == 2:
            text = text[:at] + rng.choice(":0f") + text[at:]
        elif edit == 3:
            text = text[:at] + text[at + 1 :]
        texts.append(text)
    return [*texts, "gggg::1", "::", "::1", "1::", "1:2:3:4:5:6:7::", "1::2::3", "12345::1"]


def _ipv6_ok(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def test_ipv6_validator_agrees_with_the_ipaddress_module():
    texts = _ipv6_strings(random.Random(13), 20_000)
    # addresses without a decimal digit ('::', 'e::de' in serde::de) are refused on purpose
    expected = np.array([_ipv6_ok(t) and any(c.isdigit() for c in t) for t in texts])
    got = ip_address(texts)
    assert 0.3 < expected.mean() < 0.9  # both kinds, in numbers
    wrong = [t for t, e, g in zip(texts, expected, got, strict=True) if e != g]
    assert not wrong, wrong[:10]
    assert not ip_address(["gggg::1"])[0]

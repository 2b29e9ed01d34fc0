"""Checks run on regex candidates only: Luhn, IBAN mod-97, SSN ranges, IP and date ranges.

Each validator takes the matched texts of one recognizer as a list and returns a boolean
array, ``True`` where the text is a real instance of the entity.  They are vectorised
with NumPy so that a column of a million card numbers validates in well under a second.

>>> luhn(["4111 1111 1111 1111", "4111 1111 1111 1112"]).tolist()
[True, False]
>>> iban_mod97(["GB82 WEST 1234 5698 7654 32", "GB83 WEST 1234 5698 7654 32"]).tolist()
[True, False]
>>> us_ssn(["078-05-1120", "666-12-3456", "123-45-6789", "536-90-4399"]).tolist()
[False, False, False, True]
>>> us_ssn(["1234-5-6788"]).tolist()  # nine valid digits, but not written 3-2-4
[False]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "IPV4_FORMAT",
    "IPV6_FORMAT",
    "SSN_FORMAT",
    "VALIDATORS",
    "date_of_birth",
    "email",
    "iban_mod97",
    "international_phone",
    "ip_address",
    "ipv4",
    "luhn",
    "national_phone",
    "phone_digits",
    "us_ssn",
]

BoolArray = npt.NDArray[np.bool_]
Validator = Callable[[Sequence[str] | pa.Array], BoolArray]

_INVALID_SSNS = frozenset({"078051120", "219099999", "123456789"})
"""Numbers the SSA voided after they appeared in advertising (078-05-1120, 219-09-9999)
and the ever-popular example number; 123-45-6789 is not assigned."""


def _arrow(texts: Sequence[str] | pa.Array) -> pa.Array:
    """``texts`` as an Arrow string array without nulls."""
    array = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    return array.fill_null("") if array.null_count else array


def _matching(texts: Sequence[str] | pa.Array, pattern: str) -> BoolArray:
    """Whether each text matches the RE2 ``pattern``."""
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    found = pc.match_substring_regex(_arrow(texts), pattern=pattern)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _fixed_matrix(array: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """The bytes of a string array whose values are all ``width`` bytes long, one row each."""
    if not len(array):
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(array), width)


_DIGIT, _SEPARATOR, _OTHER = 0, 1, 2
_CLASSES = np.full(256, _OTHER, dtype=np.uint8)
_CLASSES[48:58] = _DIGIT
_CLASSES[list(b" ./()+\t-")] = _SEPARATOR
"""Per byte: a digit, a separator of digit groups, or anything else."""


@dataclass(frozen=True)
class _Digits:
    """The digits of a batch of texts, as one stream (vectorised, no per-text loop).

    ``values`` holds every digit of every text, in order; text ``i`` owns
    ``values[first[i]:end[i]]``.  ``others`` counts, per text, the characters that are
    neither digits nor separators (space . / ( ) + tab -).
    """

    values: npt.NDArray[np.uint8]
    first: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    others: npt.NDArray[np.int64]

    @property
    def count(self) -> npt.NDArray[np.int64]:
        return self.end - self.first

    def leading(self, width: int) -> npt.NDArray[np.int64]:
        """The first ``width`` digits of each text, one row each (zeros past its digits)."""
        index = self.first[:, None] + np.arange(width)
        inside = index < self.end[:, None]
        values = np.zeros(index.shape, dtype=np.int64)
        values[inside] = self.values[index[inside]]
        return values


def _digits(texts: Sequence[str] | pa.Array, stop: str | None = None) -> _Digits:
    """The digit stream of ``texts``; with ``stop``, only what comes before its first occurrence."""
    array = _arrow(texts)
    raw = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets: npt.NDArray[np.int64] = raw[array.offset : array.offset + len(array) + 1].astype(
        np.int64
    )
    data = np.frombuffer(array.buffers()[2] or b"", dtype=np.uint8)[offsets[0] : offsets[-1]]
    offsets -= offsets[0]
    starts, ends = offsets[:-1], offsets[1:]
    if stop is not None:
        at = pc.find_substring(array, stop).to_numpy(zero_copy_only=False).astype(np.int64)
        ends = np.where(at >= 0, starts + at, ends)
    classes = _CLASSES[data]
    digit = classes == _DIGIT
    if stop is None and digit.all():
        # digits only, the usual case in a column of numbers: the bytes are the stream
        return _Digits(data - np.uint8(ord("0")), starts, ends, np.zeros(len(starts), np.int64))
    # cumulative counts in int32: Arrow's offsets are int32, so no text batch overflows them
    digits_before = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(digit, out=digits_before[1:])
    others_before = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(classes == _OTHER, out=others_before[1:])
    return _Digits(
        values=data[digit] - np.uint8(ord("0")),
        first=digits_before[starts].astype(np.int64),
        end=digits_before[ends].astype(np.int64),
        others=(others_before[ends] - others_before[starts]).astype(np.int64),
    )


_LUHN_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)
"""A digit doubled, less 9 when above 9 (Luhn's rule)."""


def luhn(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Payment card numbers: 12 to 19 digits, a known network prefix and a valid Luhn digit.

    Prefixes 1 (JCB 1800, UATP), 2 (JCB 2131; Mastercard 2221-2720, Mir 2200-2204), 3
    (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard, Maestro) and 6 (Discover, Maestro,
    UnionPay); 12 digits only for Maestro (5, 6 or 0604).  The networks' lengths are
    checked where a prefix has few: 15 digits after 1, 2131, 34 and 37; 16 to 19 after 22
    to 27; 14 or 16 to 19 after another 3.  So a 13-digit millisecond timestamp
    (``1710408413584``), a 14-digit date and time (``20240314092659``) or 18 digits after
    37 are not card numbers, whatever their Luhn digit.

    >>> luhn(["1710408413584", "378282246310005", "3704004405320130"]).tolist()
    [False, True, False]
    """
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    d = _digits(texts)
    lengths = d.count
    ok = (d.others == 0) & (lengths >= 12) & (lengths <= 19)
    # Every second digit from the right is doubled: digit k of the stream is doubled when
    # its parity differs from that of its text's last digit.  Two running sums, one
    # doubling the odd positions of the stream and one the even, give every text's total.
    odd = np.zeros(len(d.values), dtype=np.bool_)
    odd[1::2] = True
    doubled = _LUHN_DOUBLED[d.values]
    sums = []
    for double_odd in (True, False):
        weighted = np.where(odd == double_odd, doubled, d.values)
        running = np.zeros(len(weighted) + 1, dtype=np.int32)
        np.cumsum(weighted, dtype=np.int32, out=running[1:])
        sums.append(running[d.end] - running[d.first])
    last_even = (d.end - 1) % 2 == 0
    valid_sum = np.where(last_even, sums[0], sums[1]) % 10 == 0
    head = d.leading(4)
    first = np.where(ok, head[:, 0], -1)
    starts_0604 = (head == [0, 6, 0, 4]).all(axis=1) & (lengths >= 4)
    maestro = (first == 5) | (first == 6) | (ok & starts_0604)
    known_prefix = ((first >= 1) & (first <= 6)) | maestro
    long_enough = (lengths >= 13) | ((lengths == 12) & maestro)
    fits = _network_length(head, lengths)
    return np.asarray(ok & valid_sum & long_enough & known_prefix & fits, dtype=np.bool_)


def _lengths_by_prefix() -> npt.NDArray[np.bool_]:
    """Per first two digits and length (0 to 19): whether a card network issues it.

    Prefixes 1x: 15 digits (UATP, JCB 1800); 20 and 21: none (JCB 2131 is let through
    by :func:`_network_length`); 22-27: 16 to 19 (Mastercard, Mir); 28, 29: none; 34
    and 37: 15 (Amex); other 3x: 14 or 16 to 19 (Diners, JCB).  Other prefixes: any
    length (Visa issues 13 to 19, Maestro 12 to 19, Discover and UnionPay 16 to 19).
    """
    table = np.ones((100, 20), dtype=np.bool_)
    table[10:30] = False
    table[10:20, 15] = True
    table[22:28, 16:20] = True
    table[30:40] = False
    table[30:40, 14] = table[30:40, 16:20] = True
    table[[34, 37]] = False
    table[[34, 37], 15] = True
    return table


_LENGTHS_BY_PREFIX = _lengths_by_prefix()


def _network_length(head: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> BoolArray:
    """Whether a number's length is one its network issues (``head``: its first four digits)."""
    two = head[:, 0] * 10 + head[:, 1]
    fits = _LENGTHS_BY_PREFIX[two, np.minimum(lengths, 19)]
    jcb_2131 = (two == 21) & (head[:, 2] == 3) & (head[:, 3] == 1) & (lengths == 15)
    return np.asarray(fits | jcb_2131, dtype=np.bool_)


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip
"""IBAN length per country (ISO 13616 registry); unknown countries are refused."""


_IBAN_COUNTRIES = pa.array(sorted(_IBAN_LENGTHS))
_IBAN_SIZES = np.array([_IBAN_LENGTHS[c] for c in sorted(_IBAN_LENGTHS)] + [-1], np.int64)


_IBAN_VALUES = np.zeros(256, dtype=np.int64)
_IBAN_VALUES[48:58] = np.arange(10)
_IBAN_VALUES[65:91] = np.arange(10, 36)
_IBAN_SHIFTS = np.ones(256, dtype=np.int64)
_IBAN_SHIFTS[48:58] = 10
_IBAN_SHIFTS[65:91] = 100
_IBAN_ALLOWED = np.zeros(256, dtype=np.bool_)
_IBAN_ALLOWED[48:58] = _IBAN_ALLOWED[65:91] = _IBAN_ALLOWED[32] = True
"""Per byte: its value in the mod-97 check, the power of ten it shifts the number by (a
digit one place, a letter 10..35 two, a padding space none), and whether it may appear
(a digit, a capital letter or the padding)."""


def iban_mod97(texts: Sequence[str] | pa.Array) -> BoolArray:
    """IBANs: a registered country, its length, and the ISO 7064 mod-97 check equal to 1.

    The check reads the IBAN from its fifth character on, then its first four; padding
    (a space: value 0, no shift) past an IBAN's end leaves its remainder as it is.
    """
    n = len(texts)
    if not n:
        return np.zeros(0, dtype=np.bool_)
    compact = pc.ascii_upper(pc.replace_substring(_arrow(texts), " ", ""))
    where = pc.index_in(pc.utf8_slice_codeunits(compact, 0, 2), value_set=_IBAN_COUNTRIES)
    expected = _IBAN_SIZES[where.fill_null(-1).to_numpy(zero_copy_only=False)]
    lengths = pc.binary_length(compact).to_numpy(zero_copy_only=False)
    ok = np.asarray(expected == lengths, dtype=np.bool_)
    if not ok.any():
        return ok
    width = 34
    padded = pc.if_else(pa.array(ok), pc.utf8_rpad(compact, width, " "), " " * width)
    codes = np.ascontiguousarray(_fixed_matrix(padded, width).T)
    steps = int(lengths[ok].max())
    remainder = np.zeros(n, dtype=np.int64)
    for step, position in enumerate([*range(4, steps), *range(4)]):
        code = codes[position]
        ok &= _IBAN_ALLOWED[code]
        remainder *= _IBAN_SHIFTS[code]
        remainder += _IBAN_VALUES[code]
        if step % 7 == 6:  # < 97 * 100**7 before the reduction: no int64 overflow
            remainder %= 97
    remainder %= 97
    return np.asarray(ok & (remainder == 1), dtype=np.bool_)


SSN_FORMAT = r"^(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})$"
"""How an SSN is written: 3-2-4 digits with one kind of separator (hyphens or spaces), or
nine digits in a row."""


def us_ssn(texts: Sequence[str] | pa.Array) -> BoolArray:
    """US SSNs, by the SSA's rules (Program Operations Manual RM 10201.035).

    Written 3-2-4 (``536-90-4399``, ``536 90 4399``) or as nine digits; area not 000,
    666 or 900-999; group not 00; serial not 0000; not nine alike, not a voided number.

    >>> us_ssn(["536-90-4399", "1234-5-6788", "536-90 4399", "536904399"]).tolist()
    [True, False, False, True]
    """
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    array = _arrow(texts)
    shaped = _matching(array, SSN_FORMAT)
    d = _digits(array)
    digits = d.leading(9)
    weights = 10 ** np.arange(2, -1, -1)
    area = digits[:, 0:3] @ weights
    group = digits[:, 3:5] @ weights[1:]
    serial = digits[:, 5:9] @ (10 ** np.arange(3, -1, -1))
    same = (digits == digits[:, :1]).all(axis=1)
    number = digits.astype(np.int64) @ (10 ** np.arange(8, -1, -1))
    blocked = np.isin(number, [int(n) for n in _INVALID_SSNS])
    valid: BoolArray = (
        shaped
        & (d.count == 9)
        & (area != 0)
        & (area != 666)
        & (area < 900)
        & (group != 0)
        & (serial != 0)
        & ~same
        & ~blocked
    )
    return valid


def phone_digits(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Phone numbers: 10 to 15 digits (E.164 allows 15) before any extension, not all alike.

    An extension starts at the first ``x`` (``x`` or ``ext``), which phone patterns allow
    only there.
    """
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    d = _digits(texts, stop="x")
    counts = d.count
    if not len(d.values):
        return np.zeros(len(counts), dtype=np.bool_)
    # changes[k]: how often a digit differs from the one before it, up to digit k
    changes = np.zeros(len(d.values), dtype=np.int64)
    np.cumsum(d.values[1:] != d.values[:-1], out=changes[1:])
    last = np.clip(d.end - 1, 0, len(changes) - 1)
    repeated = (counts > 0) & (changes[last] == changes[np.clip(d.first, 0, len(changes) - 1)])
    enough = (counts >= 10) & (counts <= 15)
    return np.asarray(enough & ~repeated, dtype=np.bool_)


def international_phone(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Phone numbers written with ``+`` or ``00`` first: :func:`phone_digits`.

    The pattern takes in the head of an IBAN before a ``00`` (``DE89 3704 0044 0532
    ...``): those zeros are inside a mistyped IBAN, not a dialling prefix.

    >>> international_phone(["0044 20 7946 0958", "DE89 3704 0044 0532 0130 01"]).tolist()
    [True, False]
    """
    return phone_digits(texts) & _matching(texts, r"^(?:\+|00)")


DATE_START = r"^\d{2}[-./]\d{2}[-./](?:19|20)\d{2}"
"""A day, month and year at the start of a text (``04-11-2023``, ``04.11.2023``)."""


def national_phone(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Phone numbers written nationally, with the trunk prefix ``0``: :func:`phone_digits`.

    A date followed by a time (``04-11-2023 10:30``) has the digits and the grouping of
    one, so a text that starts with a day, month and year is not a phone number; nor is
    one that starts with the head of an IBAN the pattern took in (``DE89 3704 0044 ...``).

    >>> national_phone(["020 7946 0958", "04-11-2023 10", "030 901820"]).tolist()
    [True, False, False]
    >>> national_phone(["(030) 12345678", "DE89 3704 0044 0532 0130 01"]).tolist()
    [True, False]
    """
    return phone_digits(texts) & ~_matching(texts, DATE_START) & _matching(texts, r"^[(0]")


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4_FORMAT = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
"""An IPv4 address: four numbers from 0 to 255, without leading zeros, between dots."""


def ipv4(texts: Sequence[str] | pa.Array) -> BoolArray:
    """IPv4 addresses: the whole run of dotted numbers is four octets.

    The candidates are whole runs, so four numbers inside a longer run (a French phone
    number written 06.12.34.56.78, an OID) are not an address.

    >>> ipv4(["192.168.1.20", "06.12.34.56.78", "999.1.1.1", "10.0.0.07"]).tolist()
    [True, False, False, False]
    """
    return _matching(texts, IPV4_FORMAT)


_H = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H}:{_H}|{_OCTET}(?:\.{_OCTET}){{3}})"


def _ipv6_forms() -> str:
    """The ``IPv6address`` rule of RFC 3986 section 3.2.2, one alternative per line of it.

    ``n`` groups after the ``::``, and at most ``7 - n`` (or ``6 - n`` before a final
    ``ls32``, which counts two) before it; ``ls32`` is two groups or an IPv4 address.
    """
    forms = [rf"(?:{_H}:){{6}}{_LS32}", rf"::(?:{_H}:){{5}}{_LS32}"]
    forms += [rf"(?:(?:{_H}:){{0,{k}}}{_H})?::(?:{_H}:){{{4 - k}}}{_LS32}" for k in range(5)]
    forms += [rf"(?:(?:{_H}:){{0,5}}{_H})?::{_H}", rf"(?:(?:{_H}:){{0,6}}{_H})?::"]
    return "|".join(forms)


IPV6_FORMAT = rf"^(?:{_ipv6_forms()})(?:%[0-9A-Za-z._~-]+)?$"
"""An IPv6 address in text (RFC 4291 section 2.2, RFC 3986 section 3.2.2): eight groups
of one to four hex digits, or fewer around exactly one ``::`` that stands for at least
one group; the last two groups may be written as an IPv4 address (``::ffff:10.0.0.1``).
A zone id may follow (``fe80::1%eth0``, RFC 4007 section 11)."""


def ip_address(texts: Sequence[str] | pa.Array) -> BoolArray:
    """IPv6 addresses: eight hex groups, or fewer with exactly one ``::``, and a digit.

    IPv4 addresses are checked by :func:`ipv4`.  An address without a decimal digit
    (``e::de`` in ``serde::de::Error``, ``d::`` in ``std::vec``) is a path in code far
    more often than a host.

    >>> ip_address(["2001:db8::1", "fe80::1::2", "1:2:3:4:5:6:7:8", "gggg::1", "e::de"]).tolist()
    [True, False, True, False, False]
    >>> ip_address(["::ffff:192.0.2.1", "::ffff:c0a8:101", "fe80::1%eth0", ":::3000"]).tolist()
    [True, True, True, False]
    """
    return _matching(texts, IPV6_FORMAT) & _matching(texts, r"\d")


NOT_AN_ADDRESS = (
    r"(?i)^(?:message-id|in-reply-to|references):"
    r"|\.(?:png|jpe?g|gif|svg|webp|bmp|ico|tiff?|heic|css|js|mjs|map|json|xml|html?"
    r"|pdf|txt|csv|ya?ml|log|woff2?|ttf)$"
)
"""What the e-mail pattern finds that is not an address: a message id, which the pattern
takes in with its header (``Message-ID: <CAH2x9+Yq1@mail.gmail.com``), and a file name
ending in a type no top-level domain is named after (``banner@2x.png``)."""


def email(texts: Sequence[str] | pa.Array) -> BoolArray:
    """E-mail addresses, not message ids nor file names (``icon@2x.png``).

    >>> email(["jane@example.com", "banner@2x.png", "Message-ID: <x1@mail.example.com"]).tolist()
    [True, False, False]
    """
    return ~_matching(texts, NOT_AN_ADDRESS)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%d %B %Y")
_DATE_PART = (
    r"(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
    r"|\d{1,2} [A-Z][a-z]+ \d{4})"
)


def date_of_birth(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Dates of birth: a real calendar date between 1900 and today (context found by the regex)."""
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    values = texts.to_pylist() if isinstance(texts, pa.Array) else list(texts)
    parts = pd.Series(values, dtype=object).str.extract(_DATE_PART, expand=False)
    parsed = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = parsed.isna() & parts.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(parts[todo], format=fmt, errors="coerce")
    today = pd.Timestamp(dt.date.today())
    ok = parsed.notna() & (parsed >= pd.Timestamp(1900, 1, 1)) & (parsed <= today)
    return np.asarray(ok.to_numpy(dtype=np.bool_), dtype=np.bool_)


VALIDATORS: dict[str, Validator] = {
    "luhn": luhn,
    "iban_mod97": iban_mod97,
    "us_ssn": us_ssn,
    "phone_digits": phone_digits,
    "international_phone": international_phone,
    "national_phone": national_phone,
    "ip_address": ip_address,
    "ipv4": ipv4,
    "date_of_birth": date_of_birth,
    "email": email,
}
"""Validators by name, as the recognizers refer to them."""

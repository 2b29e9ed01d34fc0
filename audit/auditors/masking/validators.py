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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "VALIDATORS",
    "date_of_birth",
    "iban_mod97",
    "ip_address",
    "luhn",
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


def _fixed_matrix(array: pa.Array, width: int) -> npt.NDArray[np.uint8]:
    """The bytes of a string array whose values are all ``width`` bytes long, one row each."""
    if not len(array):
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(array), width)


def _digit_matrix(
    texts: Sequence[str] | pa.Array, width: int
) -> tuple[npt.NDArray[np.int16], BoolArray, npt.NDArray[np.int64], pa.Array]:
    """Digits of each text right-aligned in ``width`` columns (zeros on the left).

    Returns the matrix; a mask of the texts that held only digits (after removing
    separators) and at most ``width`` of them; the digit counts; the digit strings.
    Vectorised: Arrow kernels pad the digit strings, NumPy reads their bytes.
    """
    array = _arrow(texts)
    compact = pc.replace_substring_regex(array, pattern=r"[ ./()+\t-]", replacement="")
    lengths = pc.utf8_length(compact).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = pc.match_substring_regex(compact, pattern=r"^[0-9]+$").to_numpy(zero_copy_only=False)
    ok = ok & (lengths <= width)
    padded = pc.if_else(
        pa.array(ok, type=pa.bool_()), pc.utf8_lpad(compact, width, "0"), "0" * width
    )
    matrix = _fixed_matrix(padded, width).astype(np.int16) - ord("0")
    return matrix, ok, lengths, compact


_LUHN_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int16)
"""A digit doubled, less 9 when above 9 (Luhn's rule)."""


def luhn(texts: Sequence[str] | pa.Array) -> BoolArray:
    """Payment card numbers: 12 to 19 digits, a known network prefix and a valid Luhn digit.

    Prefixes 1 (JCB 1800), 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa),
    5 (Mastercard, Maestro) and 6 (Discover, Maestro, UnionPay); 12 digits only for Maestro
    (5, 6 or 0604).
    """
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    width = 19
    digits, ok, lengths, compact = _digit_matrix(texts, width)
    odd_from_right = (width - 1 - np.arange(width)) % 2 == 1
    total = digits[:, ~odd_from_right].sum(axis=1) + _LUHN_DOUBLED[digits[:, odd_from_right]].sum(
        axis=1
    )
    valid_sum = total % 10 == 0
    rows = np.arange(len(digits))
    first = np.where(ok, digits[rows, np.clip(width - lengths, 0, width - 1)], -1)
    starts_0604 = pc.starts_with(compact, "0604").to_numpy(zero_copy_only=False)
    maestro = np.isin(first, [5, 6]) | (ok & starts_0604)
    known_prefix = np.isin(first, [1, 2, 3, 4, 5, 6]) | maestro
    long_enough = (lengths >= 13) | ((lengths == 12) & maestro)
    return np.asarray(ok & valid_sum & long_enough & (lengths <= 19) & known_prefix, np.bool_)


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
"""Per byte: its value in the mod-97 check, and the power of ten it shifts the number by (a
digit one place, a letter 10..35 two, a padding space none)."""


def iban_mod97(texts: Sequence[str] | pa.Array) -> BoolArray:
    """IBANs: a registered country, its length, and the ISO 7064 mod-97 check equal to 1."""
    n = len(texts)
    if not n:
        return np.zeros(0, dtype=np.bool_)
    compact = pc.utf8_upper(pc.replace_substring(_arrow(texts), " ", ""))
    where = pc.index_in(pc.utf8_slice_codeunits(compact, 0, 2), value_set=_IBAN_COUNTRIES)
    expected = _IBAN_SIZES[where.fill_null(-1).to_numpy(zero_copy_only=False)]
    lengths = pc.binary_length(compact).to_numpy(zero_copy_only=False)
    alnum = pc.match_substring_regex(compact, pattern=r"^[A-Z0-9]+$")
    ok = (expected == lengths) & alnum.to_numpy(zero_copy_only=False)
    width = 34
    moved = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(compact, 4, width + 4), pc.utf8_slice_codeunits(compact, 0, 4), ""
    )
    moved = pc.if_else(pa.array(ok, type=pa.bool_()), pc.utf8_rpad(moved, width, " "), " " * width)
    codes = np.ascontiguousarray(_fixed_matrix(moved, width).T)
    values, shifts = _IBAN_VALUES[codes], _IBAN_SHIFTS[codes]
    remainder = np.zeros(n, dtype=np.int64)
    for step, (value, shift) in enumerate(zip(values, shifts, strict=True)):
        remainder = remainder * shift + value
        if step % 7 == 6:  # < 97 * 100**7 before the reduction: no int64 overflow
            remainder %= 97
    remainder %= 97
    return np.asarray(ok & (remainder == 1), dtype=np.bool_)


def us_ssn(texts: Sequence[str] | pa.Array) -> BoolArray:
    """US SSNs: nine digits; area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    digits, ok, lengths, compact = _digit_matrix(texts, 9)
    weights = 10 ** np.arange(2, -1, -1)
    area = digits[:, 0:3] @ weights
    group = digits[:, 3:5] @ weights[1:]
    serial = digits[:, 5:9] @ (10 ** np.arange(3, -1, -1))
    same = (digits == digits[:, :1]).all(axis=1)
    blocked = pc.is_in(compact, value_set=pa.array(sorted(_INVALID_SSNS))).to_numpy(
        zero_copy_only=False
    )
    valid: BoolArray = (
        ok
        & (lengths == 9)
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
    """Phone numbers: 10 to 15 digits (E.164 allows 15) before any extension, not all alike."""
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    number = _arrow(texts)
    if pc.any(pc.match_substring(number, "x")).as_py():  # an extension, maybe
        number = pc.replace_substring_regex(number, pattern=r"(?:x|ext\.?)\s?\d+$", replacement="")
    digits = pc.replace_substring_regex(number, pattern=r"\D", replacement="")
    counts = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    repeated = pc.match_substring_regex(digits, pattern=r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$")
    enough = (counts >= 10) & (counts <= 15)
    return np.asarray(enough & ~repeated.to_numpy(zero_copy_only=False), dtype=np.bool_)


def ip_address(texts: Sequence[str] | pa.Array) -> BoolArray:
    """IPv6 addresses: eight groups, or fewer with exactly one ``::``.

    IPv4 octet ranges are checked by the IPv4 pattern itself.

    >>> ip_address(["2001:db8::1", "fe80::1::2", "1:2:3:4:5:6:7:8"]).tolist()
    [True, False, True]
    """
    if not len(texts):
        return np.zeros(0, dtype=np.bool_)
    array = _arrow(texts)
    full = pc.match_substring_regex(array, pattern=r"^(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}$")
    compressed = pc.and_(
        pc.equal(pc.count_substring(array, "::"), 1),
        pc.less_equal(pc.count_substring(array, ":"), 8),
    )
    return np.asarray(pc.or_(full, compressed).to_numpy(zero_copy_only=False), dtype=np.bool_)


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
    "ip_address": ip_address,
    "date_of_birth": date_of_birth,
}
"""Validators by name, as the recognizers refer to them."""

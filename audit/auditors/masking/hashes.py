"""Unsalted hashes: digests anyone can recompute from a guessed value.

A keyed hash (HMAC) cannot be told from a plain hash by looking at it; but a plain hash
of a value we can guess matches our own digest of that value.  The candidates are every
PII value the scanner found anywhere in the table (an e-mail left in a note unmasks its
hashed twin) and the small domains a brute force covers at once (five-digit ZIP codes,
years, ISO dates from 1900 on), each in common normalisations, through MD5, SHA-1,
SHA-256 and SHA-512, written as lower-case hex or base64.

>>> import hashlib
>>> digest = hashlib.sha256(b"jane@example.com").hexdigest()
>>> table = plain_digests(["Jane@Example.com "], enumerate_domains=False)
>>> digest in table
True
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DIGEST_PATTERN", "looks_like_digest", "plain_digests"]

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")

DIGEST_PATTERN = (
    r"^\s*(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}"
    r"|[0-9a-fA-F]{128}|[A-Za-z0-9+/_-]{22}(?:==)?|[A-Za-z0-9+/_-]{27}=?|[A-Za-z0-9+/_-]{43}=?"
    r"|[A-Za-z0-9+/_-]{86}(?:==)?)\s*$"
)
"""Hex digests of 128 to 512 bits, and their base64 (standard or URL-safe) spellings."""


def looks_like_digest(values: pa.Array) -> pa.Array:
    """Boolean array: which values are written like a digest (hex or base64)."""
    return pc.match_substring_regex(values, pattern=DIGEST_PATTERN)


def _normalisations(value: str) -> set[str]:
    stripped = value.strip()
    compact = "".join(ch for ch in stripped if ch not in " -.()/")
    digits = "".join(ch for ch in stripped if ch.isdigit())
    found = {value, stripped, stripped.lower(), stripped.upper(), compact, compact.lower()}
    if len(digits) >= 4:
        found.add(digits)
    return {f for f in found if f}


def _domains() -> Iterable[str]:
    yield from (f"{n:05d}" for n in range(100_000))
    yield from (str(year) for year in range(1900, 2031))
    day, last = dt.date(1900, 1, 1), dt.date(2030, 12, 31)
    while day <= last:
        yield day.isoformat()
        day += dt.timedelta(days=1)


def _encodings(raw: bytes) -> tuple[str, ...]:
    encoded = base64.b64encode(raw).decode("ascii")
    return (
        raw.hex(),
        encoded,
        encoded.rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    )


_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
"""Digest size in bytes of each algorithm."""


def _spelled_lengths(size: int) -> set[int]:
    """Lengths of a digest of ``size`` bytes in hex and in padded or unpadded base64."""
    return {2 * size, 4 * ((size + 2) // 3), (4 * size + 2) // 3}


def _algorithms(lengths: set[int] | None) -> tuple[str, ...]:
    """The algorithms whose digests can be spelled in one of ``lengths`` characters."""
    if lengths is None:
        return ALGORITHMS
    return tuple(a for a in ALGORITHMS if _spelled_lengths(_SIZES[a]) & lengths)


def plain_digests(
    candidates: Iterable[str],
    *,
    enumerate_domains: bool = True,
    within: set[str] | None = None,
    lengths: set[int] | None = None,
) -> set[str]:
    """Unkeyed digests of the candidates (every normalisation, algorithm and spelling).

    Parameters
    ----------
    candidates : iterable of str
        Values found in the data.
    enumerate_domains : bool
        Also try every ZIP code, year and ISO date (about 150,000 values, hex only).
    within : set of str, optional
        Keep only digests in this set (the distinct values of the checked column, hex
        in lower case), so the domains are streamed, never stored.
    lengths : set of int, optional
        Only digests spelled in one of these many characters (those of the checked
        column's values): an algorithm none of whose spellings fits is not run, and
        digests of other lengths are not kept.  Default: the lengths in ``within``, or
        every length.

    Returns
    -------
    set of str
        The digests found (all of them when ``within`` is ``None``).
    """
    if lengths is None and within is not None:
        lengths = {len(w) for w in within}
    algorithms = _algorithms(lengths)
    if not algorithms:
        return set()
    values: set[str] = set()
    for candidate in candidates:
        values |= _normalisations(candidate)
    found: set[str] = set()
    for value in values:
        data = value.encode("utf-8")
        for name in algorithms:
            for digest in _encodings(hashlib.new(name, data).digest()):
                if (within is None or digest in within) and (
                    lengths is None or len(digest) in lengths
                ):
                    found.add(digest)
    if enumerate_domains:
        for value in _domains():
            data = value.encode("ascii")
            for name in algorithms:
                digest = hashlib.new(name, data).hexdigest()
                if within is None or digest in within:
                    found.add(digest)
    return found

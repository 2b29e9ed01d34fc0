"""Sealing and verifying ``report.json``: a digest of its own content and an optional HMAC.

A sealed report carries, as its last top-level key, an ``integrity`` block::

    "integrity": {
      "scheme": "maas-audit/integrity/v1",
      "content_sha256": "<hex SHA-256 of the canonical content>",
      "signature": {"algorithm": "HMAC-SHA256", "key_id": "<16 hex>", "value": "<hex>"}
    }

The *canonical content* is the report without its ``integrity`` key, serialised as
JSON with sorted keys, no whitespace, no ASCII escaping, encoded as UTF-8
(:func:`canonical_bytes`).  Any change to a key or value changes the digest;
reformatting the file (indentation, key order) does not.

``signature`` is present only when a signing key was given, or set in the
environment variable :data:`SIGNING_KEY_ENV`.  Its ``value`` is
HMAC-SHA256 of the canonical content under the key; ``key_id`` names the key
without revealing it (an HMAC of a fixed label under the key, or
:data:`SIGNING_KEY_ID_ENV` when set).  The key itself is never written anywhere.

A digest alone proves only that the file is internally consistent: whoever can edit
the file can recompute it.  Only a signature, checked with the key, shows that the
report is the one the key holder's audit wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import UsageError

__all__ = [
    "ALGORITHM",
    "INTEGRITY_KEY",
    "SCHEME",
    "SIGNING_KEY_ENV",
    "SIGNING_KEY_ID_ENV",
    "VerificationResult",
    "canonical_bytes",
    "key_id",
    "seal",
    "signing_key_from_env",
    "verify_document",
    "verify_report",
]

SCHEME = "maas-audit/integrity/v1"
"""The version of the sealing scheme; verification refuses any other."""
ALGORITHM = "HMAC-SHA256"
INTEGRITY_KEY = "integrity"
"""The top-level key of the integrity block in ``report.json``."""
SIGNING_KEY_ENV = "MAAS_AUDIT_SIGNING_KEY"
"""Environment variable holding the signing key (text, used as its UTF-8 bytes)."""
SIGNING_KEY_ID_ENV = "MAAS_AUDIT_SIGNING_KEY_ID"
"""Optional environment variable naming the key (e.g. ``ci-2025``) in signatures."""
MIN_KEY_BYTES = 16
REPORT_SCHEMA = "maas-audit/report"

ERR_KEY_TOO_SHORT = (
    "{env} is too short ({size} bytes); use at least {minimum} random bytes, e.g. the "
    'output of: python -c "import secrets; print(secrets.token_hex(32))"'
)
ERR_KEY_ID = "{env} must be 1-64 letters, digits, '.', '_' or '-'"
ERR_UNREADABLE = "cannot read report '{path}': {reason}"
ERR_NOT_JSON = "'{path}' is not a JSON report: {reason}"
ERR_NOT_REPORT = (
    "'{path}' is not a maas-audit report (no 'schema': '{schema}' and no integrity block)"
)
PROBLEM_UNSEALED = "the report carries no integrity block (it was never sealed, or it was removed)"
PROBLEM_MALFORMED = "the integrity block is malformed: {detail}"
PROBLEM_DIGEST = "the content does not match its recorded digest: the report was edited"
PROBLEM_DUPLICATE = "the file repeats the key {key!r} in one object, which no sealed report does"
PROBLEM_UNSIGNED = "the report is not signed, but a signature was required"
PROBLEM_OTHER_KEY = "the report was signed with another key (key id {theirs}; yours is {ours})"
PROBLEM_SIGNATURE = "the signature does not match the content under your key"

_KEY_ID_LABEL = b"maas-audit key id v1"
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BLOCK_KEYS = frozenset({"scheme", "content_sha256", "signature"})
_SIGNATURE_KEYS = frozenset({"algorithm", "key_id", "value"})


def canonical_bytes(report: Mapping[str, Any]) -> bytes:
    """The canonical serialisation of a report's content: what the digest and HMAC cover.

    Parameters
    ----------
    report : Mapping
        A report as plain JSON data; its ``integrity`` key, if any, is left out.

    Returns
    -------
    bytes
        Sorted keys, no whitespace, UTF-8 (a lone surrogate, as Python decodes a file
        name that is not UTF-8, is kept with ``surrogatepass``), no NaN or infinity.

    Examples
    --------
    >>> canonical_bytes({"b": [1, 2.5], "a": "é", "integrity": {"x": 1}}).decode()
    '{"a":"é","b":[1,2.5]}'
    """
    content = {key: value for key, value in report.items() if key != INTEGRITY_KEY}
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8", "surrogatepass")  # lone surrogates: decoded file names


def key_id(key: bytes) -> str:
    """A 16-hex-digit name for ``key`` that does not reveal it.

    Examples
    --------
    >>> key_id(b"0123456789abcdef0123456789abcdef")
    'fc9a71cc9fef60a8'
    """
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def signing_key_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The signing key from :data:`SIGNING_KEY_ENV`, or ``None`` when it is unset or empty.

    Raises
    ------
    UsageError
        When the key is shorter than 16 bytes; the message never shows the key.
    """
    env = os.environ if environ is None else environ
    text = env.get(SIGNING_KEY_ENV, "")
    if not text:
        return None
    key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            ERR_KEY_TOO_SHORT.format(env=SIGNING_KEY_ENV, size=len(key), minimum=MIN_KEY_BYTES)
        )
    return key


def _key_name(key: bytes, environ: Mapping[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    name = env.get(SIGNING_KEY_ID_ENV, "")
    if not name:
        return key_id(key)
    if not _KEY_ID_PATTERN.match(name):
        raise UsageError(ERR_KEY_ID.format(env=SIGNING_KEY_ID_ENV))
    return name


def _sign(key: bytes, name: str, content: bytes) -> str:
    """HMAC of the scheme, the key id and the content: editing the key id breaks it too."""
    message = b"\x00".join((SCHEME.encode(), name.encode("utf-8"), content))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal(
    report: Mapping[str, Any],
    *,
    key: bytes | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return ``report`` with an ``integrity`` block as its last key.

    Parameters
    ----------
    report : Mapping
        A report as plain JSON data (an existing ``integrity`` key is replaced).
    key : bytes, optional
        The signing key; by default :func:`signing_key_from_env` is asked.
    environ : Mapping, optional
        The environment to read instead of :data:`os.environ` (for tests).

    Returns
    -------
    dict
        The content, in its order, then ``integrity``.

    Examples
    --------
    >>> sealed = seal({"schema": "maas-audit/report"}, environ={})
    >>> sorted(sealed["integrity"])
    ['content_sha256', 'scheme']
    """
    if key is None:
        key = signing_key_from_env(environ)
    content = canonical_bytes(report)
    block: dict[str, Any] = {
        "scheme": SCHEME,
        "content_sha256": hashlib.sha256(content).hexdigest(),
    }
    if key is not None:
        name = _key_name(key, environ)
        block["signature"] = {
            "algorithm": ALGORITHM,
            "key_id": name,
            "value": _sign(key, name, content),
        }
    sealed = {name: value for name, value in report.items() if name != INTEGRITY_KEY}
    sealed[INTEGRITY_KEY] = block
    return sealed


@dataclass(frozen=True)
class VerificationResult:
    """What :func:`verify_report` found.

    Attributes
    ----------
    intact : bool
        The content matches its recorded digest (and the block is well formed).
    signed : bool
        The report carries a signature.
    signature_valid : bool or None
        ``True``/``False`` when a key was given and the report is signed; ``None`` when
        the signature was not checked (no key, or no signature).
    key_id : str or None
        The key id the signature names.
    content_sha256 : str or None
        The digest recomputed from the content.
    problems : tuple of str
        Why the report does not verify; empty when it does.
    """

    intact: bool
    signed: bool
    signature_valid: bool | None
    key_id: str | None
    content_sha256: str | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is no problem: intact, and the signature valid wherever checked."""
        return not self.problems


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _DuplicateKey(name)
        out[name] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _broken(problem: str, digest: str | None = None) -> VerificationResult:
    return VerificationResult(
        intact=False,
        signed=False,
        signature_valid=None,
        key_id=None,
        content_sha256=digest,
        problems=(problem,),
    )


def _check_block(block: Any) -> str | None:
    """Why the integrity block is malformed, or ``None`` when it is well formed."""
    if not isinstance(block, dict):
        return "it is not an object"
    if set(block) - _BLOCK_KEYS or not {"scheme", "content_sha256"} <= set(block):
        return f"expected keys {sorted(_BLOCK_KEYS)}; got {sorted(block)}"
    if block["scheme"] != SCHEME:
        return f"unknown scheme {str(block['scheme'])[:60]!r}; this version reads {SCHEME!r}"
    if not isinstance(block["content_sha256"], str) or not _HEX64.match(block["content_sha256"]):
        return "content_sha256 is not 64 lowercase hex digits"
    signature = block.get("signature")
    if "signature" in block:
        if not isinstance(signature, dict) or set(signature) != _SIGNATURE_KEYS:
            return f"signature must be an object with keys {sorted(_SIGNATURE_KEYS)}"
        if signature["algorithm"] != ALGORITHM:
            return f"unknown signature algorithm {str(signature['algorithm'])[:60]!r}"
        if not isinstance(signature["key_id"], str) or not isinstance(signature["value"], str):
            return "signature key_id and value must be text"
        if not _KEY_ID_PATTERN.match(signature["key_id"]):
            # seal() writes only such ids; anything else (a newline, an ANSI escape, a lone
            # surrogate) would be printed to the terminal, so it is named, escaped, never shown
            shown = ascii(signature["key_id"][:64])
            return f"signature key_id must be 1-64 letters, digits, '.', '_' or '-'; got {shown}"
        if not _HEX64.match(signature["value"]):
            return "signature value is not 64 lowercase hex digits"
    return None


def verify_document(
    report: Any, *, key: bytes | None = None, require_signature: bool = False
) -> VerificationResult:
    """Verify a parsed report (see :func:`verify_report`, which also parses the file).

    Parameters
    ----------
    report : Any
        The parsed JSON.
    key : bytes, optional
        The signing key; without it a signature is not checked.
    require_signature : bool
        Count a missing signature as a problem.

    Raises
    ------
    UsageError
        When ``report`` is not a maas-audit report at all.
    """
    if not isinstance(report, dict) or (
        report.get("schema") != REPORT_SCHEMA and INTEGRITY_KEY not in report
    ):
        raise UsageError(ERR_NOT_REPORT.format(path="<document>", schema=REPORT_SCHEMA))
    if INTEGRITY_KEY not in report:
        return _broken(PROBLEM_UNSEALED)
    block = report[INTEGRITY_KEY]
    try:
        content = canonical_bytes(report)
    except ValueError as exc:  # NaN or infinity smuggled in through a non-standard parser
        return _broken(PROBLEM_MALFORMED.format(detail=str(exc)))
    digest = hashlib.sha256(content).hexdigest()
    malformed = _check_block(block)
    if malformed is not None:
        return _broken(PROBLEM_MALFORMED.format(detail=malformed), digest)
    problems: list[str] = []
    intact = hmac.compare_digest(digest, block["content_sha256"])
    if not intact:
        problems.append(PROBLEM_DIGEST)
    signature = block.get("signature")
    valid: bool | None = None
    if signature is None and (require_signature or key is not None):
        problems.append(PROBLEM_UNSIGNED)
    if signature is not None and key is not None:
        theirs = signature["key_id"]
        expected = _sign(key, theirs, content)
        valid = hmac.compare_digest(expected, signature["value"])
        ours = {key_id(key), _key_name(key, None)}
        if not valid and theirs not in ours:
            shown = ", ".join(sorted(ours))
            problems.append(PROBLEM_OTHER_KEY.format(theirs=theirs[:64], ours=shown))
        elif not valid:
            problems.append(PROBLEM_SIGNATURE)
    elif signature is not None and require_signature:
        problems.append(f"a signature was required but no key is set ({SIGNING_KEY_ENV})")
    return VerificationResult(
        intact=intact,
        signed=signature is not None,
        signature_valid=valid,
        key_id=None if signature is None else str(signature["key_id"]),
        content_sha256=digest,
        problems=tuple(problems),
    )


def verify_report(
    path: str | Path, *, key: bytes | None = None, require_signature: bool = False
) -> VerificationResult:
    """Check that ``report.json`` at ``path`` is unedited and, given the key, signed by it.

    Parameters
    ----------
    path : str or Path
        The report file.
    key : bytes, optional
        The signing key (e.g. :func:`signing_key_from_env`); without it a signature is
        not checked, and the result says only whether the file is internally consistent.
    require_signature : bool
        Count a missing or unchecked signature as a problem.

    Returns
    -------
    VerificationResult
        ``ok`` when the content matches its digest and, with a key, the signature.
        A signed report checked with a key must carry that key's signature: an unsigned
        one is a problem, since stripping a signature is an edit.

    Raises
    ------
    UsageError
        When the file cannot be read, is not JSON, or is not a maas-audit report.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            ERR_UNREADABLE.format(path=path, reason=exc.strerror or type(exc).__name__)
        ) from None
    try:
        report = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
        )
    except _DuplicateKey as exc:
        return _broken(PROBLEM_DUPLICATE.format(key=exc.key[:60]))
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 (byte {exc.start})"
        raise UsageError(ERR_NOT_JSON.format(path=path, reason=reason)) from None
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise UsageError(ERR_NOT_JSON.format(path=path, reason=reason)) from None
    try:
        return verify_document(report, key=key, require_signature=require_signature)
    except UsageError:
        raise UsageError(ERR_NOT_REPORT.format(path=path, schema=REPORT_SCHEMA)) from None

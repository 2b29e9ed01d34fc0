"""Secrets out of every message: one redaction function for every path.

An endpoint that refuses a credential often echoes it ("Incorrect API key provided:
sk-..."), without the ``Bearer`` that the header carried.  So each credential value is
redacted in every form it may come back in: the whole header value, the bare token
after its scheme word, and for ``Basic`` the decoded ``user:password`` and password.

Every :class:`~audit.adapters.http.transport.HttpTransport` registers the values it
sends here when it is built; :func:`redact` then removes all of them from any text,
whichever transport, adapter or layer builds the message.  Registered values live for
the process: a secret loaded once is never printed later.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "redact", "redact_strings", "register_secret", "secret_forms"]

MASK = "***"
"""What a secret is replaced with."""

_MIN_LENGTH = 4
"""Shorter forms are not redacted on their own: they would mangle ordinary words."""

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)\s+(?P<token>\S.*)$")

_lock = threading.Lock()
_known: frozenset[str] = frozenset()


def secret_forms(value: str) -> list[str]:
    """The forms in which ``value`` may come back, longest first.

    Examples
    --------
    >>> secret_forms("Bearer sk-abc123")
    ['Bearer sk-abc123', 'sk-abc123']
    >>> secret_forms("Basic " + base64.b64encode(b"ann:pw-1234").decode())
    ['Basic YW5uOnB3LTEyMzQ=', 'YW5uOnB3LTEyMzQ=', 'ann:pw-1234', 'pw-1234']
    """
    value = value.strip()
    forms = [value]
    match = _SCHEME.match(value)
    if match:
        token = match["token"].strip()
        forms.append(token)
        if match["scheme"].lower() == "basic":
            forms += _basic_forms(token)
    unique = {f for f in forms if len(f) >= _MIN_LENGTH}
    return sorted(unique, key=lambda f: (-len(f), f))


def _basic_forms(token: str) -> list[str]:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return []
    _, _, password = decoded.partition(":")
    return [decoded, password] if password else [decoded]


def register_secret(value: str) -> None:
    """Redact every form of ``value`` from what :func:`redact` sees, for this process."""
    global _known
    forms = secret_forms(value)
    if forms:
        with _lock:
            _known = _known | frozenset(forms)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and each of ``extra``) replaced by ``***``.

    Examples
    --------
    >>> register_secret("Bearer tok-0123456789")
    >>> redact("401: Incorrect API key provided: tok-0123456789")
    '401: Incorrect API key provided: ***'
    """
    secrets = set(_known)
    for value in extra:
        secrets.update(secret_forms(value))
    for secret in sorted(secrets, key=lambda s: (-len(s), s)):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_strings(value: Any) -> Any:
    """``value`` with :func:`redact` applied to every string in it, keys included.

    Reports pass their whole content through it before they are sealed and written: the
    last line of defence, should a message that never went through the transport (an
    auditor's warning quoting an answer, say) carry a credential.
    """
    if not _known:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_strings(k): redact_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_strings(v) for v in value]
    return value

"""Masked examples for the report: the shape of a value, never the value.

>>> mask_sample("jane.doe@example.com")
'j***@e***.com'
>>> mask_sample("123-45-6789")
'1**-**-****'
>>> mask_sample("Jane Doe")
'J*** D**'
"""

from __future__ import annotations

import re

__all__ = ["mask_sample"]

MAX_SHOWN = 32
_WORD = re.compile(r"[^\W_]+")


def _keep_first(match: re.Match[str]) -> str:
    word = match.group(0)
    keep = len(word) > 1 and (match.start() == 0 or word[0].isalpha())
    return word[0] + "*" * (len(word) - 1) if keep else "*" * len(word)


def mask_sample(text: str) -> str:
    """Mask ``text`` for display: e-mails as ``j***@e***.com``, else each word's first character.

    Digit groups after the first are masked whole; separators stay, so the format shows. The
    result is cut to 32 characters.
    """
    text = text.strip()
    if "@" in text:
        local, _, domain = text.rpartition("@")
        host, _, tld = domain.rpartition(".")
        shown = f"{local[:1]}***@{host[:1]}***" + (f".{tld}" if host and tld.isalpha() else "")
    else:
        shown = _WORD.sub(_keep_first, text)
    return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 1] + "\N{HORIZONTAL ELLIPSIS}"

"""Regular expressions as the scanner runs them: RE2 syntax, over Arrow columns and single cells.

Whole columns go through Arrow's compute kernels, which use RE2 (linear time, no
catastrophic backtracking).  The few cells that need every match of a pattern go
through the ``re2`` module when it is installed (``pip install google-re2``), else
through the standard library's ``re``; patterns are restricted to RE2 syntax either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["compile_pattern", "finditer"]

try:  # pragma: no cover - depends on the environment
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

_CACHE: dict[str, Any] = {}


def compile_pattern(pattern: str) -> str | None:
    r"""Check that ``pattern`` is valid RE2 syntax.

    Returns
    -------
    str or None
        Why the pattern is refused, or ``None`` when it is usable.

    Examples
    --------
    >>> compile_pattern(r"\bC-\d{6}\b") is None
    True
    >>> compile_pattern(r"(?<=x)y")
    "'(?<=x)y' is not a valid RE2 pattern (no look-around or back-references)"
    """
    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern)
        re.compile(pattern)
    except (pa.ArrowInvalid, re.error):
        return f"{pattern!r} is not a valid RE2 pattern (no look-around or back-references)"
    return None


def finditer(pattern: str, text: str) -> Iterator[tuple[int, int]]:
    """Spans ``(start, end)`` of every non-overlapping match of ``pattern`` in ``text``."""
    compiled = _CACHE.get(pattern)
    if compiled is None:
        compiled = _re2.compile(pattern) if _re2 is not None else re.compile(pattern)
        _CACHE[pattern] = compiled
    for match in compiled.finditer(text):
        yield match.start(), match.end()

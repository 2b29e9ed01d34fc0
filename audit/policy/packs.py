"""The policy packs shipped with maas-audit (``policies/*.yaml`` in the repository).

A pack is named by its file's stem: ``four-fifths`` is ``packs/four-fifths.yaml``.
In a checkout, ``audit/policy/packs`` is a symbolic link to the repository's
``policies/`` folder; installed, the packs are package data in the same place.
"""

from __future__ import annotations

import re
from pathlib import Path

from audit.errors import PolicyError

__all__ = ["is_pack_name", "list_packs", "pack_path", "packs_dir"]

PACK_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""What may name a pack: a file stem without dots or slashes."""

PACK_PREFIX = "pack:"
"""How reports and error messages name a pack's file, e.g. ``pack:four-fifths``."""

ERR_UNKNOWN_PACK = "no shipped policy pack named {name!r}; packs are: {packs}"

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE / "packs", _HERE.parent.parent / "policies")


def packs_dir() -> Path:
    """Return the folder holding the shipped packs.

    Returns
    -------
    Path
        ``audit/policy/packs`` (resolved), or the repository's ``policies/`` if the
        link is missing.
    """
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate.resolve()
    return _CANDIDATES[0]


def list_packs() -> dict[str, Path]:
    """Return the shipped packs, name to file, sorted by name.

    Examples
    --------
    >>> "four-fifths" in list_packs()
    True
    """
    folder = packs_dir()
    if not folder.is_dir():
        return {}
    found = (p for p in folder.glob("*.yaml") if PACK_NAME_PATTERN.match(p.stem))
    return {p.stem: p for p in sorted(found, key=lambda p: p.stem)}


def is_pack_name(text: str) -> bool:
    """Tell whether ``text`` has the form of a pack name (not whether such a pack exists)."""
    return bool(PACK_NAME_PATTERN.match(text))


def pack_path(name: str) -> Path:
    """Return the file of the pack ``name``.

    Raises
    ------
    PolicyError
        No shipped pack has that name; the message lists the packs.
    """
    if name not in list_packs():
        raise PolicyError(
            ERR_UNKNOWN_PACK.format(name=name, packs=", ".join(list_packs()) or "none")
        )
    return packs_dir() / f"{name}.yaml"

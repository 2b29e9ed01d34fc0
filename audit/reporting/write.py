"""Atomic file writes: a report is either the complete new file or the untouched old one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_atomic", "write_atomic_together"]

_DEFAULT_MODE = 0o644


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` so that readers never see a partial file.

    The content goes to a temporary file in the same directory, is flushed and
    fsynced, and then replaces ``path`` in one ``os.replace``.  On any error the
    temporary file is removed and a previous file at ``path`` is left as it was.

    Parameters
    ----------
    path : Path
        Destination file; missing parent directories are created.
    content : str or bytes
        Text (written as UTF-8) or bytes.

    Returns
    -------
    Path
        ``path``, for chaining.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = write_atomic(Path(tmp) / "out" / "report.json", "{}")
    ...     target.read_text(encoding="utf-8")
    '{}'
    """
    (written,) = write_atomic_together({Path(path): content})
    return written


def write_atomic_together(contents: Mapping[Path, str | bytes]) -> list[Path]:
    """Write several files atomically, each replaced only once all are on disk.

    Every file is written and fsynced to its temporary file first; only then are the
    files replaced, one right after another.  A failure or signal while writing (a full
    disk, Ctrl-C) leaves every previous file as it was, rather than a new report beside
    an old one.

    Returns
    -------
    list[Path]
        The paths written, in the order given.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in contents.items():
            staged.append((_staged(Path(path), content), Path(path)))
        for tmp, path in staged:
            tmp.replace(path)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    return [path for _, path in staged]


def _staged(path: Path, content: str | bytes) -> Path:
    """``content`` written and fsynced to a temporary file beside ``path``."""
    # A lone surrogate (a file name that is not UTF-8, as Python decodes it) is written as
    # its escape (\udcff), not a crash after the audit: still valid JSON, inert HTML text.
    data = (
        content.encode("utf-8", "backslashreplace") if isinstance(content, str) else bytes(content)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            # mkstemp makes the file owner-only; a report gets the old file's mode or rw-r--r--.
            tmp.chmod(path.stat().st_mode & 0o777 if path.exists() else _DEFAULT_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp

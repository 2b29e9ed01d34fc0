"""Guards of ``maas-audit run``: where reports may be written, what the command line records.

* ``--out`` is a folder the user chose; maas-audit writes only its report files into it
  (``report.html``, ``report.json``, and ``report.pdf`` on request), each by an atomic
  rename.  It refuses an ``--out`` that is an existing file or a symbolic link, and report
  names inside it that are links or folders, so that a planted link cannot redirect a report.
* ``--junit`` and ``--markdown`` name files of their own: never a report in ``--out``,
  never each other, never a folder, never a path under a file; checked before the audit,
  so that a bad path costs no scoring and leaves no report behind an exit code 2.
* The command line recorded in a report's provenance loses the user info and query
  string of any URL (``https://user:token@host/...?key=...``).
* ``--header NAME=ENV_VAR`` takes the *name* of an environment variable; a value that
  is not a variable name is refused without being echoed, since it may be the secret.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from audit.errors import UsageError

__all__ = [
    "ERR_HEADER",
    "ERR_OUT_FILE",
    "ERR_OUT_LINK",
    "ERR_REPORT_NAME",
    "check_extra_outputs",
    "check_out_folder",
    "path_argument",
    "is_env_name",
    "redact_argv",
    "redact_url",
]

ERR_OUT_FILE = "--out '{out}' exists and is not a folder"
ERR_OUT_LINK = "--out '{out}' is a symbolic link; give the folder it points to instead"
ERR_REPORT_NAME = (
    "--out '{out}' holds '{name}', which is a symbolic link or not a regular file; "
    "remove it or choose another folder"
)
ERR_HEADER = (
    "expected HEADER=ENV_VAR, where ENV_VAR is the name of the environment variable that "
    "holds the header's value (never the value itself)"
)
ERR_EMPTY_PATH = "expected a path; got an empty one"
ERR_EXTRA_CLASH = "{option} '{path}' is also {other}; give each output a file of its own"
ERR_EXTRA_FOLDER = "{option} '{path}' is a folder; name a file"
ERR_EXTRA_PARENT = "{option} '{path}' cannot be written: '{parent}' is not a folder"
REDACTED = "***"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_env_name(text: str) -> bool:
    """Whether ``text`` is a plausible environment variable name.

    Examples
    --------
    >>> is_env_name("MY_TOKEN"), is_env_name("Bearer abc123")
    (True, False)
    """
    return bool(_ENV_NAME.match(text))


def check_out_folder(out: Path) -> None:
    """Refuse an ``--out`` whose reports could land somewhere other than inside it.

    Raises
    ------
    UsageError
        When ``out`` is a symbolic link or an existing non-folder, or holds a report
        file name (:data:`audit.reporting.bundle.REPORT_NAMES`) that is a link or not a
        regular file.
    """
    if out.is_symlink():
        raise UsageError(ERR_OUT_LINK.format(out=out))
    if out.exists() and not out.is_dir():
        raise UsageError(ERR_OUT_FILE.format(out=out))
    from audit.reporting.bundle import REPORT_NAMES  # heavy: only when a run needs it

    for name in REPORT_NAMES:
        target = out / name
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UsageError(ERR_REPORT_NAME.format(out=out, name=name))


def path_argument(value: str) -> Path:
    """An option's path, refusing an empty one (an unset shell variable: ``--out "$DIR"``).

    ``Path("")`` is the current folder, where the reports would otherwise land unasked.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError(ERR_EMPTY_PATH)
    return Path(value)


def check_extra_outputs(out: Path, extra: Mapping[str, Path | None]) -> None:
    """Refuse extra output files (``--junit``, ``--markdown``) that could not be written.

    ``extra`` maps each option to its file, or ``None`` when it was not given.

    Raises
    ------
    UsageError
        When a file is one of the reports in ``out`` or another option's file (it would
        overwrite it), is a folder, or lies under an existing path that is not a folder.
    """
    from audit.reporting.bundle import REPORT_NAMES  # heavy: only when a run needs it

    taken = {(out / name).resolve(): f"the report '{out / name}'" for name in REPORT_NAMES}
    for option, path in extra.items():
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in taken:
            raise UsageError(
                ERR_EXTRA_CLASH.format(option=option, path=path, other=taken[resolved])
            )
        if path.is_dir():
            raise UsageError(ERR_EXTRA_FOLDER.format(option=option, path=path))
        parent = _nearest_existing(path.parent)
        if not parent.is_dir():
            raise UsageError(ERR_EXTRA_PARENT.format(option=option, path=path, parent=parent))
        taken[resolved] = f"{option}'s file"


def _nearest_existing(folder: Path) -> Path:
    """``folder``, or its nearest ancestor that exists (missing folders are created later)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def redact_url(text: str) -> str:
    """``text`` with a URL's user info and query string masked; other text unchanged.

    Examples
    --------
    >>> redact_url("https://user:pw@host:8443/v2/models/m/infer?key=abc")
    'https://***@host:8443/v2/models/m/infer?***'
    >>> redact_url("four-fifths")
    'four-fifths'
    """
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return REDACTED
    if "@" in parts.netloc:
        host = f"{REDACTED}@{host}"
    query = REDACTED if parts.query else ""
    fragment = REDACTED if parts.fragment else ""
    return urlunsplit((parts.scheme, host, parts.path, query, fragment))


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Command-line arguments fit to record: URLs redacted, ``--opt=URL`` included.

    Examples
    --------
    >>> redact_argv(["--model=http://u:p@h/invocations", "--data", "d.csv"])
    ['--model=http://***@h/invocations', '--data', 'd.csv']
    """
    out: list[str] = []
    for arg in argv:
        option, sep, value = arg.partition("=")
        if arg.startswith("--") and sep:
            out.append(f"{option}={redact_url(value)}")
        else:
            out.append(redact_url(arg))
    return out


def printable(text: str) -> str:
    r"""``text`` with every character a terminal could act on escaped (``\n``, ``\x1b``).

    Each line a command prints must be one line that says what it says: a newline, an
    ANSI escape or a bidirectional override read from a report would let the file forge
    or hide a line; a lone surrogate could not even be encoded.

    >>> printable("PASS\x1b[31m\nforged")
    'PASS\\x1b[31m\\nforged'
    """
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)

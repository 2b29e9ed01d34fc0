"""The GitHub Action's ``args`` input, split into words as a shell splits a command line.

``action.yml`` passes the input in the environment variable ``ARGS``; ``python -m
audit.integrations.action`` prints its words again, each quoted for bash, and the action's
step reads them into an array.  Quotes group words (``--positive-label '>50K'``, a column
name with a space), and nothing in the text is run or expanded: no command substitution,
variable or wildcard.  Text that cannot be split (an unclosed quote) stops the step with
one line and exit code 2.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping

from audit.errors import ExitCode, UsageError

__all__ = ["main", "split_args"]


def split_args(text: str) -> list[str]:
    """The words of ``text`` as a POSIX shell reads them, without expanding anything.

    Raises
    ------
    UsageError
        A quote is not closed, or the text ends in an escaping backslash.
    """
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"the action's args input cannot be split into options: {exc}") from None


def main(environ: Mapping[str, str] | None = None) -> int:
    """Print the words of ``$ARGS`` quoted for bash; returns the exit code."""
    text = (os.environ if environ is None else environ).get("ARGS", "")
    try:
        words = split_args(text)
    except UsageError as exc:
        sys.stderr.write(f"maas-audit: error: {exc}\n")
        return int(ExitCode.USAGE)
    sys.stdout.write(shlex.join(words) + "\n")
    return int(ExitCode.PASSED)


if __name__ == "__main__":
    sys.exit(main())

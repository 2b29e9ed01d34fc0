"""What every command module shares: the parser class and the exit-code contract.

A command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args, argv) -> ExitCode``; :mod:`audit.cli.main` lists the modules.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from audit.errors import UsageError

__all__ = ["PROG", "Parser", "csv_list"]

PROG = "maas-audit"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def csv_list(value: str) -> list[str]:
    """Parse ``a,b,c`` into names, refusing an empty list."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected one or more comma-separated names")
    return items

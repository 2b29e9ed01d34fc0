"""``maas-audit diff OLD.json NEW.json``: what changed between two audits, regressions first."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from audit.cli._guard import printable
from audit.errors import ExitCode

NAME = "diff"
HELP = "compare two JSON reports; exit 1 when a verdict got worse"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``diff``."""
    parser.add_argument("old", type=Path, help="the earlier audit's report.json")
    parser.add_argument("new", type=Path, help="the later audit's report.json")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Print the changes; exit 1 when there are regressions, 0 otherwise (2 on bad input)."""
    from audit.reporting.diff import diff_reports, format_diff, load_report

    old, new = load_report(args.old), load_report(args.new)
    if not args.json:  # JSON output escapes control characters itself
        old, new = _printable_strings(old), _printable_strings(new)
    changes = diff_reports(old, new)
    if args.json:
        payload = {**asdict(changes), "has_regressions": changes.has_regressions}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_diff(changes))
    return ExitCode.FAILED if changes.has_regressions else ExitCode.PASSED


def _printable_strings(value: Any) -> Any:
    """``value`` with every string escaped for a terminal (see :func:`printable`).

    The text output is made of the reports' strings: a newline or an ANSI escape in a
    verdict or a title would otherwise forge a line or reach the terminal.
    """
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): _printable_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable_strings(v) for v in value]
    return value

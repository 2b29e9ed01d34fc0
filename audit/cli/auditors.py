"""``maas-audit auditors``: list the installed auditors and their metrics."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from audit.errors import ExitCode

NAME = "auditors"
HELP = "list installed auditors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``auditors`` takes no options."""


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Print one line per auditor: name, distribution, metrics (or why it is broken)."""
    from audit.plugins import discover_auditors

    for plugin in discover_auditors():
        origin = f"{plugin.distribution} {plugin.version}".strip()
        if plugin.auditor is None:
            print(f"{plugin.name:<14} BROKEN  {origin}: {plugin.error}")
            continue
        metrics = ", ".join(sorted(plugin.auditor().metrics()))
        print(f"{plugin.name:<14} {origin}  metrics: {metrics}")
    return ExitCode.PASSED

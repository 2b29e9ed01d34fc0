"""``maas-audit verify REPORT.json``: check that a report is unedited and, with a key, signed.

Exit codes: 0 the report is intact (and its signature valid, when a key is set);
1 it was edited, its signature does not match, or a required signature is missing;
2 the file cannot be read or is not a maas-audit report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from audit.cli._guard import printable
from audit.errors import ExitCode

NAME = "verify"
HELP = "check that report.json is unedited (and signed, with MAAS_AUDIT_SIGNING_KEY)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``verify``."""
    parser.add_argument("report", type=Path, help="a report.json written by maas-audit")
    parser.add_argument(
        "--require-signature",
        action="store_true",
        help="fail unless the report is signed and its signature checks out",
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Verify the report; print what holds, or each problem; exit 0 or 1 by the outcome."""
    from audit.integrity import SIGNING_KEY_ENV, signing_key_from_env, verify_report

    key = signing_key_from_env()
    result = verify_report(args.report, key=key, require_signature=args.require_signature)
    where = printable(str(args.report))
    if not result.ok:
        for problem in result.problems:
            print(f"{where}: NOT VERIFIED: {printable(problem)}")
        return ExitCode.FAILED
    print(f"{where}: intact (content sha256 {result.content_sha256})")
    named = printable(str(result.key_id))
    if result.signature_valid:
        print(f"{where}: signature valid (key id {named})")
    elif result.signed:
        print(
            f"{where}: signed (key id {named}); signature not checked: "
            f"set {SIGNING_KEY_ENV} to check it"
        )
    else:
        print(f"{where}: not signed")
    return ExitCode.PASSED

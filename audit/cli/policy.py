"""``maas-audit policy``: validate policy files, print the JSON Schema, list the packs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from audit.cli._common import Parser
from audit.errors import ExitCode

NAME = "policy"
HELP = "validate policies, print their schema, list shipped packs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``policy`` sub-commands."""
    commands = parser.add_subparsers(dest="policy_command", required=True, parser_class=Parser)
    validate = commands.add_parser("validate", help="check policy files against the schema")
    validate.add_argument("files", nargs="+", help="policy files or pack names")
    commands.add_parser("schema", help="print the policy JSON Schema (for editors)")
    commands.add_parser("packs", help="list the shipped policy packs")


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Carry out the chosen ``policy`` sub-command."""
    from audit.policy import list_packs, load_policy, policy_json_schema

    if args.policy_command == "schema":
        print(json.dumps(policy_json_schema(), indent=2))
    elif args.policy_command == "packs":
        for name, path in list_packs().items():
            print(f"{name:<16} {path}")
    else:
        for source in args.files:
            loaded = load_policy(source)
            count = len(loaded.policy.requirements)
            plural = "s" if count != 1 else ""
            print(
                f"{source}: valid ({loaded.policy.name} {loaded.policy.version}, "
                f"{count} requirement{plural})"
            )
    return ExitCode.PASSED

"""``maas-audit policy``: write a starter policy, validate and explain policies, print the schema.

``validate`` reports every problem of every file as ``file:line:column: field: message``
on standard error (the form editors and CI annotations read) and exits 2 when a file
is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from audit.cli._common import Parser, csv_list
from audit.errors import ExitCode, UsageError

NAME = "policy"
HELP = "write, validate and explain policies; print their schema; list shipped packs"
DEFAULT_INIT = Path("policy.yaml")
ERR_EXISTS = "{path} exists; choose another name or pass --force to overwrite it"
ERR_FOLDER = "{path} is a folder; name the policy file to write, e.g. {path}/policy.yaml"
NOTE_NOT_INSTALLED = (
    "note: auditor {auditor!r} is not installed; requirements it measures "
    "({ids}) will be INCONCLUSIVE until it is"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``policy`` sub-commands."""
    commands = parser.add_subparsers(dest="policy_command", required=True, parser_class=Parser)
    init = commands.add_parser("init", help="write a commented starter policy that validates")
    init.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=DEFAULT_INIT,
        help=f"default {DEFAULT_INIT}; - prints it",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument(
        "--schema",
        help="path or URL of the JSON Schema for the editor line "
        "(default: the installed schema, relative to the file)",
    )
    validate = commands.add_parser("validate", help="check policy files against the schema")
    validate.add_argument("files", nargs="+", help="policy files or pack names")
    explain = commands.add_parser("explain", help="say what each requirement demands")
    explain.add_argument("file", help="a policy file or pack name")
    explain.add_argument(
        "--sensitive", type=csv_list, default=[], help="name the sensitive columns, e.g. sex,race"
    )
    commands.add_parser("schema", help="print the policy JSON Schema (for editors)")
    commands.add_parser("packs", help="list the shipped policy packs")


def _init(args: argparse.Namespace) -> ExitCode:
    from audit.policy.explain import starter_policy
    from audit.policy.packs import packs_dir
    from audit.reporting.write import write_atomic

    target: Path = args.file
    schema = args.schema
    if schema is None:
        installed = packs_dir() / "schema.json"
        base = Path.cwd() if str(target) == "-" else target.resolve().parent
        schema = Path(os.path.relpath(installed, base)).as_posix()
    if str(target) == "-":
        sys.stdout.write(starter_policy(schema=schema))
        return ExitCode.PASSED
    if target.is_dir():
        raise UsageError(ERR_FOLDER.format(path=target))
    if target.exists() and not args.force:
        raise UsageError(ERR_EXISTS.format(path=target))
    try:
        write_atomic(target, starter_policy(schema=schema, name=str(target)))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write {target}: {reason}") from None
    print(f"wrote {target}; check it with: maas-audit policy validate {target}")
    return ExitCode.PASSED


def _validate(files: Sequence[str]) -> ExitCode:
    from audit.errors import PolicyError
    from audit.policy import PolicyFileError, load_policy
    from audit.policy.bind import bind_auditors

    invalid = 0
    for source in files:
        try:
            loaded = load_policy(source)
            bind_auditors(loaded)
        except PolicyFileError as exc:
            invalid += 1
            for line in exc.errors:
                print(line, file=sys.stderr)
            continue
        except PolicyError as exc:
            invalid += 1
            print(exc, file=sys.stderr)
            continue
        count = len(loaded.policy.requirements)
        plural = "s" if count != 1 else ""
        print(
            f"{source}: valid ({loaded.policy.name} {loaded.policy.version}, "
            f"{count} requirement{plural})"
        )
    if invalid:
        plural = "s" if len(files) != 1 else ""
        print(f"{invalid} of {len(files)} policy file{plural} invalid", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.PASSED


def _explain(source: str, sensitive: Sequence[str]) -> ExitCode:
    from audit.plugins import discover_auditors
    from audit.policy import load_policy
    from audit.policy.explain import explain_requirement, explain_statements

    loaded = load_policy(source)
    policy = loaded.policy
    plugins = {p.name: p for p in discover_auditors()}
    print(f"{policy.name} {policy.version}")
    if policy.description:
        print(" ".join(policy.description.split()))
    for requirement in policy.requirements:
        print()
        print(f"{requirement.id}: {requirement.title}")
        plugin = plugins.get(requirement.auditor)
        population: frozenset[str] = frozenset()
        if plugin is not None and plugin.auditor is not None:
            population = getattr(plugin.auditor, "population_metrics", frozenset())
        sentence = explain_requirement(
            requirement, sensitive=sensitive, whole_population=requirement.metric in population
        )
        print(f"  {sentence}")
    for line in explain_statements(policy):
        print()
        print(line)
    installed = set(plugins)
    missing: dict[str, list[str]] = {}
    for requirement in policy.requirements:
        if requirement.auditor not in installed:
            missing.setdefault(requirement.auditor, []).append(requirement.id)
    for auditor, ids in missing.items():
        print()
        print(NOTE_NOT_INSTALLED.format(auditor=auditor, ids=", ".join(ids)))
    return ExitCode.PASSED


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Carry out the chosen ``policy`` sub-command."""
    from audit.policy import list_packs, policy_json_schema

    if args.policy_command == "init":
        return _init(args)
    if args.policy_command == "validate":
        return _validate(args.files)
    if args.policy_command == "explain":
        return _explain(args.file, args.sensitive)
    if args.policy_command == "schema":
        print(json.dumps(policy_json_schema(), indent=2, ensure_ascii=False))
    else:
        for name, path in list_packs().items():
            print(f"{name:<20} {path}")
    return ExitCode.PASSED

"""``maas-audit``: parse the command line, call the library, map errors to exit codes.

Exit codes (:class:`audit.errors.ExitCode`): 0 every blocking requirement passed,
1 one failed or was inconclusive, 2 bad input or usage (one line on standard error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from audit.errors import AuditError, ExitCode, UsageError

__all__ = ["main"]

PROG = "maas-audit"
DEFAULT_OUT = Path("reports") / "audit"
DEBUG_ENV = "MAAS_AUDIT_DEBUG"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _csv_list(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected one or more comma-separated names")
    return items


def _header_env(value: str) -> tuple[str, str]:
    name, sep, variable = value.partition("=")
    if not sep or not name.strip() or not variable.strip():
        raise argparse.ArgumentTypeError(
            f"expected HEADER=ENV_VAR (the header's value is read from ENV_VAR); got {value!r}"
        )
    return name.strip(), variable.strip()


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Audit served models against compliance policies.")
    from audit import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="audit a model and write HTML and JSON reports")
    run.add_argument(
        "--model",
        required=True,
        help="http(s)://URL, FILE.onnx, FILE.skops, "
        "module:attribute, column:NAME[,score=COL], or FILE.pkl with --trust-pickle",
    )
    run.add_argument("--data", required=True, help="CSV or Parquet file")
    run.add_argument("--target", required=True, help="ground-truth column")
    run.add_argument(
        "--sensitive",
        required=True,
        type=_csv_list,
        help="sensitive column(s), comma-separated; combinations form groups",
    )
    run.add_argument("--policy", required=True, help="policy YAML file or shipped pack name")
    run.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output folder for report.html and report.json (default {DEFAULT_OUT})",
    )
    run.add_argument(
        "--features", type=_csv_list, help="model input columns (default: all but target)"
    )
    run.add_argument("--positive-label", help="the favourable target value, e.g. '>50K'")
    run.add_argument(
        "--threshold", type=float, help="score at or above which a prediction is positive"
    )
    run.add_argument("--task", choices=["binary", "regression"], help="default: inferred")
    run.add_argument("--seed", type=int, default=0, help="seed of random steps (default 0)")
    run.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow pickle/joblib model files (loading a pickle runs its code)",
    )
    run.add_argument("--batch-size", type=int, help="rows per model call")
    run.add_argument("--timeout", type=float, help="seconds per HTTP request")
    run.add_argument(
        "--max-retries", type=int, help="retries on HTTP 429/5xx and connection errors"
    )
    run.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_header_env,
        default=[],
        metavar="NAME=ENV_VAR",
        help="send header NAME with the value of ENV_VAR",
    )
    run.add_argument("--no-progress", action="store_true", help="show no progress bars")

    policy = commands.add_parser("policy", help="validate policies and print their schema")
    policy_commands = policy.add_subparsers(
        dest="policy_command", required=True, parser_class=_Parser
    )
    validate = policy_commands.add_parser("validate", help="check policy files against the schema")
    validate.add_argument("files", nargs="+", help="policy files or pack names")
    policy_commands.add_parser("schema", help="print the policy JSON Schema (for editors)")
    policy_commands.add_parser("packs", help="list the shipped policy packs")

    commands.add_parser("auditors", help="list installed auditors")
    return parser


def _run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    from audit.cli.progress import terminal_progress
    from audit.core.context import no_progress
    from audit.runner import run_audit

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out '{args.out}' exists and is not a folder")
    options = {
        key: value
        for key, value in {
            "batch_size": args.batch_size,
            "timeout": args.timeout,
            "max_retries": args.max_retries,
            "header_env": dict(args.headers) or None,
        }.items()
        if value is not None
    }
    result = run_audit(
        model=args.model,
        data=args.data,
        policy=args.policy,
        target=args.target,
        sensitive=args.sensitive,
        features=args.features,
        positive_label=args.positive_label,
        threshold=args.threshold,
        task=args.task,
        seed=args.seed,
        trust_pickle=args.trust_pickle,
        model_options=options,
        progress=no_progress if args.no_progress else terminal_progress,
        command=(PROG, *argv),
    )
    html_path = result.to_html(args.out / "report.html")
    json_path = result.to_json(args.out / "report.json")
    for finding in result.findings:
        scope = " × ".join(finding.grouping) or "overall"
        print(
            f"{finding.verdict.value:<12} {finding.requirement_id} [{scope}] "
            f"({finding.severity.value}): {finding.summary}"
        )
    print(f"verdict: {result.verdict.value}")
    print(f"report: {html_path}")
    print(f"json:   {json_path}")
    return ExitCode.PASSED if result.passed else ExitCode.FAILED


def _policy(args: argparse.Namespace) -> ExitCode:
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
            print(
                f"{source}: valid ({loaded.policy.name} {loaded.policy.version}, "
                f"{count} requirement{'s' if count != 1 else ''})"
            )
    return ExitCode.PASSED


def _auditors() -> ExitCode:
    from audit.plugins import discover_auditors

    for plugin in discover_auditors():
        origin = f"{plugin.distribution} {plugin.version}".strip()
        if plugin.auditor is None:
            print(f"{plugin.name:<14} BROKEN  {origin}: {plugin.error}")
            continue
        metrics = ", ".join(sorted(plugin.auditor().metrics()))
        print(f"{plugin.name:<14} {origin}  metrics: {metrics}")
    return ExitCode.PASSED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see :class:`audit.errors.ExitCode`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _build_parser().parse_args(argv)
        if args.command == "run":
            return int(_run(args, argv))
        if args.command == "policy":
            return int(_policy(args))
        return int(_auditors())
    except AuditError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            f"(set {DEBUG_ENV}=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return int(ExitCode.USAGE)


if __name__ == "__main__":
    sys.exit(main())

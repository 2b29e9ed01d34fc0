"""``maas-audit run``: audit a model and write ``report.html`` and ``report.json``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from audit.cli._common import PROG, csv_list
from audit.errors import ExitCode, UsageError

NAME = "run"
HELP = "audit a model and write HTML and JSON reports"
DEFAULT_OUT = Path("reports") / "audit"


def _header_env(value: str) -> tuple[str, str]:
    name, sep, variable = value.partition("=")
    if not sep or not name.strip() or not variable.strip():
        raise argparse.ArgumentTypeError(
            f"expected HEADER=ENV_VAR (the header's value is read from ENV_VAR); got {value!r}"
        )
    return name.strip(), variable.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``run``."""
    parser.add_argument(
        "--model",
        required=True,
        help="http(s)://URL, FILE.onnx, FILE.skops, module:attribute, "
        "column:NAME[,score=COL], or FILE.pkl with --trust-pickle",
    )
    parser.add_argument("--data", required=True, help="CSV or Parquet file")
    parser.add_argument("--target", required=True, help="ground-truth column")
    parser.add_argument(
        "--sensitive",
        required=True,
        type=csv_list,
        help="sensitive column(s), comma-separated; combinations form groups",
    )
    parser.add_argument("--policy", required=True, help="policy YAML file or shipped pack name")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output folder for report.html and report.json (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--features", type=csv_list, help="model input columns (default: all but target)"
    )
    parser.add_argument("--positive-label", help="the favourable target value, e.g. '>50K'")
    parser.add_argument(
        "--threshold", type=float, help="score at or above which a prediction is positive"
    )
    parser.add_argument("--task", choices=["binary", "regression"], help="default: inferred")
    parser.add_argument("--seed", type=int, default=0, help="seed of random steps (default 0)")
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow pickle/joblib model files (loading a pickle runs its code)",
    )
    parser.add_argument("--batch-size", type=int, help="rows per model call")
    parser.add_argument("--timeout", type=float, help="seconds per HTTP request")
    parser.add_argument(
        "--max-retries", type=int, help="retries on HTTP 429/5xx and connection errors"
    )
    parser.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_header_env,
        default=[],
        metavar="NAME=ENV_VAR",
        help="send header NAME with the value of ENV_VAR",
    )
    parser.add_argument("--no-progress", action="store_true", help="show no progress bars")


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Audit, write both reports, print one line per finding; exit 0 or 1 by the verdict."""
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

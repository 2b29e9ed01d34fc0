"""``maas-audit run``: audit a model and write ``report.html`` and ``report.json``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from audit.cli._common import PROG, csv_list
from audit.cli._guard import (
    ERR_HEADER,
    check_extra_outputs,
    check_out_folder,
    is_env_name,
    path_argument,
    printable,
    redact_argv,
)
from audit.engine import DEFAULT_CHUNK_ROWS, Engine
from audit.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from audit.core.details import AuditDetails
    from audit.core.result import AuditResult
    from audit.policy.loader import LoadedPolicy

NAME = "run"
HELP = "audit a model and write HTML and JSON reports"
DEFAULT_OUT = Path("reports") / "audit"
ERR_SIGN_OFF_NAME = (
    "--auditor-org, --sign-off-date and --independence-statement need --auditor-name"
)


def _header_env(value: str) -> tuple[str, str]:
    name, sep, variable = value.partition("=")
    if not sep or not name.strip() or not is_env_name(variable.strip()):
        raise argparse.ArgumentTypeError(ERR_HEADER)  # never echo: the value may be a secret
    return name.strip(), variable.strip()


def _details(args: argparse.Namespace) -> AuditDetails:
    """The filing statements given on the command line."""
    from audit.core.details import AuditDetails, SignOff

    signed = args.auditor_org or args.sign_off_date or args.independence_statement
    if args.auditor_name is None and signed:
        raise UsageError(ERR_SIGN_OFF_NAME)
    sign_off = None
    if args.auditor_name is not None:
        sign_off = SignOff(
            name=args.auditor_name,
            organisation=args.auditor_org,
            date=args.sign_off_date,
            independence=args.independence_statement,
        )
    return AuditDetails(
        data_description=args.data_description,
        data_dates=args.data_dates,
        sign_off=sign_off,
        data_kind=args.data_kind or "",
        test_data_reason=args.test_data_reason,
        test_data_origin=args.test_data_origin,
        distribution_date=args.distribution_date,
        rows_are=args.rows_are,
        exclusion_justifications=dict(args.exclusion_justifications),
        statements=dict(args.statements),
    )


def _key_text(value: str) -> tuple[str, str]:
    """Parse ``KEY=TEXT`` (the text may hold '=')."""
    key, sep, text = value.partition("=")
    if not sep or not key.strip() or not text.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=TEXT; got {value!r}")
    return key.strip(), text.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``run``."""
    parser.add_argument(
        "--model",
        help="http(s)://URL, FILE.onnx, FILE.skops, FILE.yaml (a model config: an LLM or "
        "any REST endpoint), module:attribute, "
        "column:NAME[,score=COL], or FILE.pkl with --trust-pickle; leave out for a "
        "data-only audit (policies whose auditors read only the data, e.g. masking)",
    )
    parser.add_argument(
        "--data",
        required=True,
        help="UTF-8 CSV (comma-separated; .tsv: tab-separated) or Parquet file, or a folder "
        "of Parquet files",
    )
    parser.add_argument("--target", help="ground-truth column (needed with --model)")
    parser.add_argument(
        "--sensitive",
        type=csv_list,
        default=[],
        help="sensitive column(s), comma-separated; combinations form groups (needed with --model)",
    )
    parser.add_argument(
        "--policy",
        required=True,
        action="append",
        help="policy YAML file or shipped pack name; repeat it to audit under several at once "
        "(merged as 'extends: [a, b]' would merge them, findings grouped by policy)",
    )
    parser.add_argument(
        "--out",
        type=path_argument,
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
        "--strata",
        metavar="COL",
        help="also compare each group with the reference group within the values of COL "
        "(job, location, period): Cochran-Mantel-Haenszel test, common odds ratio, "
        "Breslow-Day test; sets the policy's auditors.fairness.strata",
    )
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
        "--concurrency",
        type=int,
        metavar="N",
        help="batches in flight at once for served models (default 4); "
        "models that run in this process are scored one batch at a time",
    )
    parser.add_argument(
        "--cache-dir",
        type=path_argument,
        metavar="DIR",
        help="keep predictions in DIR, batch by batch: a rerun, or a resume after a "
        "crash, does not score again (default: no cache)",
    )
    scale = parser.add_argument_group("tables larger than memory")
    scale.add_argument(
        "--engine",
        choices=[engine.value for engine in Engine],
        default="pandas",
        help="pandas: the whole table in memory (default); chunked: a Parquet file or "
        "folder read chunk by chunk; dask: its files tallied as Dask tasks (chunked and "
        "dask: fairness on binary decisions and masking)",
    )
    scale.add_argument(
        "--chunk-rows",
        type=int,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows per chunk of the chunked and dask engines (default {DEFAULT_CHUNK_ROWS:,})",
    )
    scale.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run on the dask.distributed cluster at ADDRESS, e.g. tcp://10.0.0.5:8786 "
        "(implies --engine dask)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="a model config's request limit: stop before sending request N+1, saying what "
        "was not scored (with --cache-dir a rerun resumes)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        metavar="TOKENS",
        help="an LLM model config's token limit (prompt + completion), checked before each request",
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
    parser.add_argument(
        "--pdf", action="store_true", help="also print report.pdf with headless Chromium"
    )
    ci = parser.add_argument_group("CI systems and MLflow (docs/how-to/integrations.md)")
    ci.add_argument(
        "--junit",
        type=path_argument,
        metavar="FILE",
        help="also write JUnit XML: one test case per requirement and grouping",
    )
    ci.add_argument(
        "--markdown",
        type=path_argument,
        metavar="FILE",
        help="also write a Markdown summary (under GitHub Actions it also goes to the job summary)",
    )
    ci.add_argument(
        "--mlflow-run",
        metavar="ID|new",
        help="log the measured values, verdicts and reports to this MLflow run, or a new one",
    )
    filing = parser.add_argument_group(
        "statements for the report (NYC LL144 asks for them; printed as given)"
    )
    filing.add_argument("--data-description", default="", help="the data's source, in words")
    filing.add_argument("--data-dates", default="", help="the period the data covers")
    filing.add_argument("--auditor-name", help="the independent auditor signing off")
    filing.add_argument("--auditor-org", default="", help="the auditor's organisation")
    filing.add_argument(
        "--sign-off-date", default="", help="date of the sign-off, YYYY-MM-DD (default: audit date)"
    )
    filing.add_argument(
        "--independence-statement", default="", help="the auditor's statement of independence"
    )
    filing.add_argument(
        "--data-kind",
        choices=["historical", "test"],
        help="historical data of the tool's use, or test data (6 RCNY § 5-302)",
    )
    filing.add_argument(
        "--test-data-reason", default="", help="with test data: why historical data was not used"
    )
    filing.add_argument(
        "--test-data-origin",
        default="",
        help="with test data: how the test data was generated and obtained",
    )
    filing.add_argument(
        "--distribution-date", default="", help="the date the tool was distributed (§ 5-303)"
    )
    filing.add_argument(
        "--rows-are",
        default="",
        metavar="WORD",
        help="what one row is, in the data's own word: applicants, candidates, ...",
    )
    filing.add_argument(
        "--exclusion-justification",
        dest="exclusion_justifications",
        action="append",
        nargs=2,
        default=[],
        metavar=("CATEGORY", "TEXT"),
        help="the independent auditor's justification for excluding CATEGORY (as the "
        "report names it, e.g. 'race=Other') from the impact ratios (6 RCNY § 5-301); "
        "repeat per category",
    )
    filing.add_argument(
        "--statement",
        dest="statements",
        action="append",
        type=_key_text,
        default=[],
        metavar="ID=TEXT",
        help="a statement the policy asks for (see 'maas-audit policy explain'); repeatable",
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> ExitCode:
    """Audit, write both reports, print one line per finding; exit 0 or 1 by the verdict."""
    from audit.cli.progress import terminal_progress
    from audit.core.context import no_progress
    from audit.core.secrets import redact
    from audit.integrity import signing_key_from_env
    from audit.policy import load_policy
    from audit.runner import run_audit

    check_out_folder(args.out)
    check_extra_outputs(args.out, {"--junit": args.junit, "--markdown": args.markdown})
    if args.strata is not None:
        _check_strata(args.strata, args)
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError(f"--concurrency must be 1 or more; got {args.concurrency}")
    if args.cache_dir is not None:
        from audit.cache import PredictionCache

        PredictionCache(args.cache_dir)  # a folder that cannot be made fails now
    if args.chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be 1 or more; got {args.chunk_rows}")
    if args.pdf:
        from audit.reporting.pdf import find_chromium

        find_chromium()  # a missing browser fails now, not after the audit
    signing_key_from_env()  # a bad key fails now, not after the audit
    options = {
        key: value
        for key, value in {
            "batch_size": args.batch_size,
            "timeout": args.timeout,
            "max_retries": args.max_retries,
            "header_env": dict(args.headers) or None,
            "max_requests": args.max_requests,
            "budget": args.budget,
        }.items()
        if value is not None
    }
    policy = (
        load_policy(args.policy) if args.strata is None else _with_strata(args.policy, args.strata)
    )
    result = run_audit(
        model=args.model,
        data=args.data,
        policy=policy,
        target=args.target,
        sensitive=args.sensitive,
        features=args.features,
        positive_label=args.positive_label,
        threshold=args.threshold,
        task=args.task,
        seed=args.seed,
        trust_pickle=args.trust_pickle,
        model_options=options,
        concurrency=args.concurrency,
        cache_dir=args.cache_dir,
        progress=no_progress if args.no_progress else terminal_progress,
        command=(PROG, *redact_argv(argv)),
        details=_details(args),
        engine=args.engine,
        chunk_rows=args.chunk_rows,
        dask_scheduler=args.dask_scheduler,
    )
    from audit.reporting.bundle import write_reports

    try:
        written = write_reports(result, args.out, pdf=args.pdf)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write the reports into '{args.out}': {reason}") from None
    extra = _write_ci_outputs(result, args, written, policy)
    for line in warning_lines(result):
        print(line, file=sys.stderr)
    for finding in result.findings:
        scope = " × ".join(finding.grouping) or "overall"
        outcome = result.outcome(finding)
        line = (
            f"{outcome.upper():<12} {finding.requirement_id} [{scope}] "
            f"({finding.severity.value}): {finding.summary}"
        )
        print(redact(line))
    print(verdict_line(result))
    print(f"report: {written['report.html']}")
    print(f"json:   {written['report.json']}")
    if "report.pdf" in written:
        print(f"pdf:    {written['report.pdf']}")
    for line in extra:
        print(line)
    return result.verdict.exit_code


def _write_ci_outputs(
    result: AuditResult,
    args: argparse.Namespace,
    written: dict[str, Path],
    policy: LoadedPolicy,
) -> list[str]:
    """JUnit, Markdown, GitHub annotations and the MLflow log the options ask for.

    Returns the lines to print after the reports' paths.
    """
    from audit.integrations.github import (
        in_github_actions,
        workflow_annotations,
        write_step_summary,
    )
    from audit.reporting.junit import write_junit
    from audit.reporting.markdown import write_markdown

    lines: list[str] = []
    links = {name: str(path) for name, path in written.items()}
    if args.junit is not None:
        with _naming_file("--junit", args.junit):
            lines.append(f"junit:  {write_junit(result, args.junit)}")
    if args.markdown is not None:
        with _naming_file("--markdown", args.markdown):
            lines.append(f"markdown: {write_markdown(result, args.markdown, links=links)}")
    if in_github_actions():
        locations = {
            r.id: policy.locate(("requirements", i, "id"))
            for i, r in enumerate(policy.policy.requirements)
        }
        lines.extend(workflow_annotations(result, locations))
        write_step_summary(result, links=links)
    if args.mlflow_run is not None:
        from audit.integrations.mlflow import log_audit

        run_id = log_audit(result, args.mlflow_run, reports=written)
        lines.append(f"mlflow: run {run_id}")
    return lines


@contextmanager
def _naming_file(option: str, path: Path) -> Iterator[None]:
    """Turn an error writing ``option``'s file into one line naming that file."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write {option} '{path}': {reason}") from None


def _check_strata(column: str, args: argparse.Namespace) -> None:
    """Refuse a ``--strata`` column that is not in the data.

    Checked on the data's header before the audit, so that a misspelt column is an
    error rather than a report without the stratified tests it was asked for.
    """
    import pandas as pd

    from audit.data import check_columns, column_names

    check_columns(pd.DataFrame(columns=column_names(args.data)), [column], "--strata")


def warning_lines(result: AuditResult) -> list[str]:
    """The auditors' warnings, one line each, for standard error.

    The report lists them beside each auditor's evidence; a CI log holds only what the
    command prints, so each warning is also a line ``maas-audit: warning: AUDITOR: TEXT``,
    in the auditors' order, each one once, redacted and escaped like every other line.
    """
    from audit.core.secrets import redact

    return [
        f"{PROG}: warning: {output.auditor}: {printable(redact(warning))}"
        for output in result.outputs
        for warning in dict.fromkeys(output.warnings)
    ]


def verdict_line(result: AuditResult) -> str:
    """The overall verdict, what it means, and the requirements it did not settle.

    Those left INCONCLUSIVE for want of evidence, and those that did not apply
    (INCONCLUSIVE too, but for want of anything to judge).
    """
    verdict = result.verdict
    line = f"verdict: {verdict.value} ({verdict.meaning})"
    not_applicable = {f.requirement_id for f in result.findings if not f.applies}
    inconclusive = [r for r in result.inconclusive if r not in not_applicable]
    if inconclusive:
        line += f"; INCONCLUSIVE: {', '.join(inconclusive)}"
    if not_applicable:
        ids = (f.requirement_id for f in result.findings if not f.applies)
        line += f"; not applicable: {', '.join(dict.fromkeys(ids))}"
    return line


def _with_strata(policy: list[str], column: str) -> LoadedPolicy:
    """The policy with ``auditors.fairness.strata`` set to ``column`` (``--strata``)."""
    import dataclasses
    import hashlib
    import json

    from audit.policy import load_policy

    loaded = load_policy(policy)
    auditors = {**loaded.policy.auditors}
    auditors["fairness"] = {**auditors.get("fairness", {}), "strata": column}
    merged = loaded.policy.model_copy(update={"auditors": auditors})
    canonical = json.dumps(
        merged.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return dataclasses.replace(loaded, policy=merged, sha256=digest)

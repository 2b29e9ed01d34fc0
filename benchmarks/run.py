"""Run the benchmarks, print one table and write it as markdown and JSON.

Every row is measured side by side with its anchor in the same run on this machine; nothing
here is a timed unit test.  Each benchmark module ``benchmarks/NAME.py`` takes part through
the interface in ``rows.py``: ``benchmark(quick: bool) -> list[Row]`` (keyword options such
as ``sizes`` are passed when the function accepts them); a module without it is run as a
subprocess when its command line accepts ``--json PATH``, and is listed as skipped otherwise.

    python benchmarks/run.py                                   # everything, default sizes
    python benchmarks/run.py --only fairness --sizes 100000,1000000,10000000 \\
        --metricframe-max 10000000                             # the documented fairness run
    python benchmarks/run.py --quick                           # a few minutes
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rows import Row, markdown_table  # noqa: E402  (beside this file)

MODULES = (
    "fairness",
    "explanations",
    "masking",
    "privacy",
    "http_scoring",
    "llm_scoring",
    "out_of_core",
)
"""Benchmark modules in table order; ``out_of_core`` is the 1e8-row Parquet run."""

PACKAGES = (
    "maas-audit",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "fairlearn",
    "torch",
    "captum",
    "opacus",
    "presidio-analyzer",
    "google-re2",
    "dask",
)


def machine() -> dict[str, Any]:
    """Platform, processor, CPUs and memory of this machine."""
    memory = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "memory_gb": round(memory / 2**30, 1) if memory else None,
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """Installed versions of maas-audit and the libraries the benchmarks measure against."""
    found = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(HERE), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _accepted(function: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """The runner options that ``function`` takes as keyword parameters (and are set)."""
    parameters = inspect.signature(function).parameters
    return {k: v for k, v in options.items() if k in parameters and v is not None}


def _as_rows(found: Sequence[Any], module: str) -> list[Row]:
    rows = []
    for item in found:
        if isinstance(item, Row):
            rows.append(Row(**{**item.__dict__, "module": module}))
        else:
            rows.append(Row.from_mapping(item, module))
    return rows


def _by_subprocess(name: str, path: Path, quick: bool) -> list[Row]:
    """Run ``path`` with ``--json`` (and ``--quick``) and read its rows back."""
    usage = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=300
    ).stdout
    if "--json" not in usage:
        raise LookupError(f"{path.name} has neither benchmark(quick) nor a --json option")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{name}.json"
        command = [sys.executable, str(path), "--json", str(out)]
        if quick and "--quick" in usage:
            command.append("--quick")
        subprocess.run(command, check=True)
        data = json.loads(out.read_text())
    return _as_rows(data["rows"] if isinstance(data, dict) else data, name)


def run_module(name: str, quick: bool, options: dict[str, Any]) -> list[Row]:
    """The rows of one benchmark module, through its interface or as a subprocess."""
    path = HERE / f"{name}.py"
    if not path.exists():
        raise FileNotFoundError(f"benchmarks/{name}.py is not there yet")
    try:
        module = importlib.import_module(name)
    except ImportError as error:  # e.g. an optional library that is not installed
        raise LookupError(f"cannot import {name}.py: {error}") from error
    function = getattr(module, "benchmark", None)
    if callable(function):
        return _as_rows(function(quick=quick, **_accepted(function, options)), name)
    return _by_subprocess(name, path, quick)


def _header(started: dt.datetime, seconds: float, command: list[str]) -> str:
    box = machine()
    memory = f"{box['memory_gb']} GB" if box["memory_gb"] else "unknown memory"
    lines = [
        f"- run: {started:%Y-%m-%d %H:%M} UTC, {seconds:,.0f} s, commit {_git_commit()}",
        f"- command: `{' '.join(command)}`",
        f"- machine: {box['platform']}, {box['processor']}, {box['cpus']} CPUs "
        f"({box['cpus_usable']} usable), {memory}, Python {box['python']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        "- ratio: how many times better maas-audit is than the anchor (anchor time / our "
        "time, or our rate / the anchor's); each pair measured side by side in this run",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help=f"comma-separated modules (default: all of {', '.join(MODULES)})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--sizes", help="fairness: rows, comma-separated (default 1e5,1e6,1e7)")
    parser.add_argument(
        "--metricframe-max",
        type=int,
        help="fairness: largest size at which MetricFrame runs (default 1e6; 1e7 takes ~4 min)",
    )
    parser.add_argument("--repeats", type=int, help="fairness: runs per timing (default 3)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="folder for results.md and results.json (default benchmarks/results)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {MODULES}")
    options = {
        "sizes": [int(s) for s in args.sizes.split(",")] if args.sizes else None,
        "metricframe_max": args.metricframe_max,
        "repeats": args.repeats,
    }

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            found = run_module(name, args.quick, options)
        except (LookupError, FileNotFoundError) as error:
            skipped[name] = str(error)
            continue
        except Exception as error:  # one failing module must not lose the others' rows
            traceback.print_exc()
            skipped[name] = f"failed: {type(error).__name__}: {error}"
            continue
        rows.extend(found)
        print(markdown_table(found), file=sys.stderr, flush=True)

    seconds = time.perf_counter() - clock
    command = ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]
    header = _header(started, seconds, command)
    skipped_text = "".join(f"\n- skipped {k}: {v}" for k, v in skipped.items())
    text = f"{header}{skipped_text}\n\n{markdown_table(rows)}\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    document = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "command": command,
        "commit": _git_commit(),
        "machine": machine(),
        "versions": versions(),
        "quick": args.quick,
        "rows": [row.as_dict() for row in rows],
        "skipped": skipped,
    }
    (args.out / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.out / 'results.md'}, {args.out / 'results.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``maas-audit``: parse the command line, call the library, map errors to exit codes.

Exit codes (:class:`audit.errors.ExitCode`): 0 the verdict is PASS or ADVISORY, 1 FAIL or
INCONCLUSIVE, 2 bad input or usage (one line on standard error).
Each command lives in its own module, listed in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType, ModuleType

from audit.cli import auditors, diff, policy, run, verify
from audit.cli._common import PROG, Parser
from audit.cli._guard import printable
from audit.core.secrets import redact
from audit.errors import AuditError, ExitCode

__all__ = ["COMMANDS", "Terminated", "main"]

COMMANDS: tuple[ModuleType, ...] = (run, policy, auditors, verify, diff)
DEBUG_ENV = "MAAS_AUDIT_DEBUG"
EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""
EXIT_TERMINATED = 128 + signal.SIGTERM
"""Exit code after SIGTERM (143), as shells report it."""


class Terminated(BaseException):
    """SIGTERM arrived (a CI job cancelled, a container stopped).

    Raised in the main thread, like Ctrl-C's KeyboardInterrupt, so that the command
    unwinds: a report file being written is removed before it replaces the previous
    one, and models and servers the audit opened are closed.
    """


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` instead of killing the process.

    Only the main thread can set a signal handler; elsewhere (a test runner's worker
    thread) the handler is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:  # None: a handler set outside Python, which cannot be put back
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _build_parser() -> argparse.ArgumentParser:
    from audit import __version__

    parser = Parser(prog=PROG, description="Audit served models against compliance policies.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMANDS:
        module.add_arguments(commands.add_parser(module.NAME, help=module.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see :class:`audit.errors.ExitCode`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with _sigterm_unwinds():
            return _run_command(argv)
    except AuditError as exc:
        # one line whatever the message holds (an argument with a newline, say)
        print(f"{PROG}: error: {printable(redact(str(exc)))}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # the reader went away (`maas-audit ... | head`): not an error
        _silence_stdout()
        return int(ExitCode.PASSED)
    except Exception as exc:  # a bug: still one line, unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {printable(redact(str(exc)))} "
            f"(set {DEBUG_ENV}=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return int(ExitCode.USAGE)


def _run_command(argv: list[str]) -> int:
    """Parse ``argv`` and run its command; the exit code."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:  # --help and --version print, then ask to exit
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    command = next(m for m in COMMANDS if args.command == m.NAME)
    code = int(command.run(args, argv))
    sys.stdout.flush()  # a closed pipe shows here, inside the handlers, not at exit
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())

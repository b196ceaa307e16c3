"""Command line: argument parsing only. No subcommand opens the GUI."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from supalink import __version__
from supalink.commands import COMMAND_MODULES
from supalink.errors import Kind, SupalinkError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# The exit code of a command stopped by an error, by the error's kind: 2 when what was given
# cannot be used as it is (nothing was tried), 1 when what was tried failed or was refused.
EXIT_CODES = {
    Kind.BAD_INPUT: EXIT_USAGE,
    Kind.NOT_FOUND: EXIT_USAGE,
    Kind.CONFLICT: EXIT_USAGE,
    Kind.FAILED: EXIT_FAILED,
}


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(only: Sequence[str] | None = None) -> OneLineErrorParser:
    """The whole parser, or with only the `only` subcommands (loading each costs time)."""
    parser = OneLineErrorParser(
        prog="supalink",
        description="Connect AI agents to a Supabase Postgres database, safely. "
        "Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"supalink {__version__}")
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="open the windows offscreen, print versions and exit (used by packaging)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a throwaway local PostgreSQL and open the app on a demo profile",
    )
    parser.add_argument(
        "--no-restore",
        action="store_true",
        help="open the app clean: its windows at their default places and no monitor "
        "reopened (the last session is kept until this run changes it)",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineErrorParser
    )
    for name in COMMAND_MODULES if only is None else only:
        importlib.import_module(f"supalink.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # MCP clients start `mcp-run` or `mcp-serve` for every server start: load only that
    # command. With no arguments the app opens: no parser at all (the window is waited for).
    fast: tuple[str, ...] | None = None
    if argv[:1] in (["mcp-run"], ["mcp-serve"]):
        fast = (argv[0].replace("-", "_"),)
    if argv:
        args = build_parser(only=fast).parse_args(argv)
    else:  # the app: no parser to build (argparse's translations load locale; ~5 ms of a start)
        args = argparse.Namespace(command=None, self_check=False, demo=False, no_restore=False)
        # No collector passes over what the start builds, all of which stays (its modules,
        # PySide, the first frame): ~40 passes, ~6 ms; run_windows turns it on once painted.
        gc.disable()
    if args.command is None:
        try:
            return _open_app(args)
        except SupalinkError as error:  # before any window could say it (settings unreadable)
            print(f"supalink: {error}", file=sys.stderr)
            return EXIT_FAILED
    if fast is None:  # the launcher stays lean: logging.handlers alone costs ~0.05 s
        _log_to_file()
    try:
        code: int = args.run(args)
    except SupalinkError as error:
        return _stopped(args.command, error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _stopped(command: str, error: SupalinkError) -> int:
    """Say the error on stderr, as argparse says a usage error when it is one."""
    from supalink.commands.failures import said

    code = EXIT_CODES[error.kind]
    lead = "error: " if code == EXIT_USAGE else ""
    print(f"supalink {command}: {lead}{said(error)}", file=sys.stderr)
    return code


def _open_app(args: argparse.Namespace) -> int:
    from supalink import app

    try:
        if args.self_check:
            return app.self_check()
        if args.demo:
            return app.run_demo()
        return app.run_gui(restore=not args.no_restore)
    finally:
        gc.enable()  # on already, unless the app stopped before its first frame


def _log_to_file() -> None:
    """Subcommands log to the same rotating file as the app; a read-only home is no error."""
    from supalink.logs import SecretMasker, configure_logging
    from supalink.paths import AppPaths

    with contextlib.suppress(OSError):
        configure_logging(AppPaths.for_user().log_file, SecretMasker())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Command line: argument parsing only. No subcommand opens the GUI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from supalink import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit 2, without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="supalink",
        description="Connect AI agents to a Supabase Postgres database, safely. "
        "Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"supalink {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrorParser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from supalink.app import run_gui

        return run_gui()
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Reading a password for a subcommand without it ever touching argv or the shell history."""

from __future__ import annotations

import argparse
import sys

from supalink.errors import UsageError


def add_password_stdin(parser: argparse.ArgumentParser) -> None:
    """The --password-stdin flag, as every subcommand that takes a password has it."""
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (it never goes in argv or the shell's history)",
    )


def read_password_stdin() -> str:
    """The whole of stdin, less one trailing newline (what `echo` or a here-string adds)."""
    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("--password-stdin was given but there is no standard input")
    data = sys.stdin.read()
    password = data.removesuffix("\n").removesuffix("\r")
    if not password:
        raise UsageError("--password-stdin was given but standard input was empty")
    return password

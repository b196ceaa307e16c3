"""`supalink audit`: what the agents' servers (`supalink mcp-serve`) ran, from the audit log
in Supalink's data folder, oldest first.

Plain: one readable line per call, local time first. --json: one object per line, the
entry's fields. --follow: then the new calls as they come, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from supalink.errors import SupalinkError, UsageError, os_error_cause

if TYPE_CHECKING:
    from supalink.agent import AuditEntry

DEFAULT_LIMIT = 50
STATEMENT_CHARS = 120  # a line per call: the file and --json keep the whole statement
ERROR_CHARS = 160


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="print what the agents' servers ran",
        description="Print the calls agents made through `supalink mcp-serve`: when, which "
        "profile, which tool, the statement, how long it took, the rows, and the error or "
        "refusal when it failed.",
    )
    parser.add_argument("--profile", metavar="NAME", help="only the calls of this profile")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--follow", action="store_true", help="then print new calls as they come, until Ctrl-C"
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help=f"the last N calls (default {DEFAULT_LIMIT}; with --follow, only new calls)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from supalink.paths import AppPaths

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be a positive number of calls")
    # A statement can hold anything the agent sent, a lone surrogate too: never a traceback.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    path = AppPaths.for_user().audit_file
    printer = _Printer(sys.stdout, args.json)
    limit = args.limit if args.limit is not None else (None if args.follow else DEFAULT_LIMIT)
    recent = _last(path, args.profile, limit) if limit is not None else []
    if recent and not printer.write(recent):
        return 0
    if not recent and not args.follow:
        whose = f" for profile {args.profile}" if args.profile else ""
        print(f"No calls recorded yet{whose} in {path}.", file=sys.stderr)
    if args.follow:
        return _follow(path, args.profile, printer)
    return 0


def _last(path: Path, profile: str | None, limit: int) -> list[AuditEntry]:
    from collections import deque

    from supalink.agent import read_entries

    try:
        return list(deque(read_entries(path, profile=profile), maxlen=limit))
    except OSError as error:
        raise _unreadable(path, error) from None


def _follow(path: Path, profile: str | None, printer: _Printer) -> int:
    """Until Ctrl-C (the CLI exits 130) or the reader of a pipe leaving (exit 0)."""
    import asyncio

    from supalink.agent import follow_entries

    async def follow() -> None:
        async for entry in follow_entries(path, profile=profile):
            if not printer.write([entry]):
                return

    try:
        asyncio.run(follow())
    except OSError as error:
        raise _unreadable(path, error) from None
    return 0


def _unreadable(path: Path, error: OSError) -> SupalinkError:
    return SupalinkError(f"cannot read the audit log {path}: {os_error_cause(error, path, 'read')}")


class _Printer:
    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json

    def write(self, entries: Sequence[AuditEntry]) -> bool:
        """False once the reader left (`| head`): what is left goes to /dev/null, so
        exiting does not fail flushing a closed pipe."""
        if self.as_json:
            lines = [json.dumps(entry.as_json(), ensure_ascii=False) for entry in entries]
        else:
            lines = [describe_entry(entry) for entry in entries]
        try:
            self.out.write("".join(line + "\n" for line in lines))
            self.out.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)
            return False
        return True


def describe_entry(entry: AuditEntry) -> str:
    """One line: local time, profile, tool, duration, rows or what went wrong, statement."""
    epoch = entry.epoch
    when = entry.at if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    if entry.is_login:
        return "  ".join([when, entry.profile or "-", "login", _login(entry)])
    parts = [when, entry.profile or "-", entry.tool, f"{entry.duration_ms:.1f} ms", _outcome(entry)]
    if entry.statement:
        parts.append(shorten(entry.statement, STATEMENT_CHARS))
    return "  ".join(parts)


def _login(entry: AuditEntry) -> str:
    """What the server found when it read its login, on one line."""
    if entry.error is not None:
        return shorten(f"refused: {entry.error}", ERROR_CHARS)
    if not entry.powers:
        return "an agent-sized login" + (", writes allowed" if entry.writes else "")
    return shorten("served read-only; it can still: " + "; ".join(entry.powers), ERROR_CHARS)


def _outcome(entry: AuditEntry) -> str:
    if entry.error is not None:
        return shorten(entry.error if entry.refused else f"error: {entry.error}", ERROR_CHARS)
    if entry.rows is None:
        return "ok"
    rows = f"{entry.rows:,} row{'' if entry.rows == 1 else 's'}"
    return f"{rows}, truncated" if entry.truncated else rows


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

"""`supalink audit`: what the agents' servers (`supalink mcp-serve`) ran, from the audit log
in Supalink's data folder, oldest first.

Plain: one readable line per call, local time first, every control, escape and bidi
character shown as a visible escape (a statement cannot forge a line on the terminal).
--json: one object per line, the entry's fields, exact. --follow: then the new calls as they
come, until Ctrl-C. --since, --tool, --outcome and --who choose which; Supalink's own calls
(Verify) are left out unless --who asks for them.
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
    from supalink.agent import AuditEntry, Selection

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
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only calls since then: a duration back from now (90s, 30m, 2h, 7d) or a local "
        "date and time (2026-12-07, 2026-12-07T14:30)",
    )
    parser.add_argument(
        "--tool", action="append", default=[], metavar="NAME", help="only this tool (repeatable)"
    )
    parser.add_argument(
        "--outcome",
        action="append",
        default=[],
        metavar="OUTCOME",
        help=f"only this outcome (repeatable): {', '.join(_OUTCOME_WORDS)}",
    )
    parser.add_argument(
        "--who",
        choices=("agent", "supalink", "all"),
        default="agent",
        help="whose calls: the agent's (default), Supalink's own (Verify), or all",
    )
    parser.set_defaults(run=run)


# Outcomes as typed on a command line: "timed out" is also "timed-out".
_OUTCOME_WORDS = ("answered", "refused", "failed", "cancelled", "timed-out", "bad-input")
_SINCE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def selection(args: argparse.Namespace, now: float | None = None) -> Selection:
    """The entries the flags ask for; UsageError for a flag that means nothing."""
    from supalink.agent import Outcome, Selection, Who

    outcomes = set()
    for word in args.outcome:
        try:
            outcomes.add(Outcome(word.replace("-", " ")))
        except ValueError:
            raise UsageError(
                f"--outcome {word!r} is not one of: {', '.join(_OUTCOME_WORDS)}"
            ) from None
    who = {Who.AGENT, Who.SUPALINK} if args.who == "all" else {Who(args.who)}
    since = _since(args.since, time.time() if now is None else now) if args.since else None
    return Selection(
        profile=args.profile,
        since=since,
        tools=frozenset(args.tool),
        outcomes=frozenset(outcomes),
        who=frozenset(who),
    )


def _since(text: str, now: float) -> float:
    import datetime as dt
    import re

    if found := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text):
        return now - float(found.group(1)) * _SINCE_UNITS[found.group(2)]
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text[:40]!r} is neither a duration (30m, 2h, 7d) nor a date and time "
            "(2026-12-07T14:30)"
        ) from None
    return moment.timestamp()  # a naive time is the local one


def run(args: argparse.Namespace) -> int:
    from supalink.paths import AppPaths

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be a positive number of calls")
    # A statement can hold anything the agent sent, a lone surrogate too: never a traceback.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    chosen = selection(args)
    path = AppPaths.for_user().audit_file
    printer = _Printer(sys.stdout, args.json)
    limit = args.limit if args.limit is not None else (None if args.follow else DEFAULT_LIMIT)
    recent = _last(path, chosen, limit) if limit is not None else []
    if recent and not printer.write(recent):
        return 0
    if not recent and not args.follow:
        whose = f" for profile {args.profile}" if args.profile else ""
        narrowed = args.since or args.tool or args.outcome or args.who != "agent"
        which = "that match" if narrowed else "yet"
        print(f"No calls recorded {which}{whose} in {path}.", file=sys.stderr)
    if args.follow:
        return _follow(path, chosen, printer)
    return 0


def _worth_a_line(entry: AuditEntry) -> bool:
    """A server's reading of its login is printed when it has something to say: what the
    login can still do, or why it is refused."""
    return not entry.is_login or bool(entry.powers or entry.error)


def _last(path: Path, chosen: Selection, limit: int) -> list[AuditEntry]:
    from collections import deque

    from supalink.agent import read_entries

    try:
        found = read_entries(path, profile=chosen.profile)
        kept = (entry for entry in found if chosen.includes(entry) and _worth_a_line(entry))
        return list(deque(kept, maxlen=limit))
    except OSError as error:
        raise _unreadable(path, error) from None


def _follow(path: Path, chosen: Selection, printer: _Printer) -> int:
    """Until Ctrl-C (the CLI exits 130) or the reader of a pipe leaving (exit 0)."""
    import asyncio

    from supalink.agent import follow_entries

    async def follow() -> None:
        async for entry in follow_entries(path, profile=chosen.profile):
            if chosen.includes(entry) and _worth_a_line(entry) and not printer.write([entry]):
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
    """One line: local time, profile, who (when not the agent), tool, duration, the result in
    the outcome vocabulary, the statement; every character a terminal would act on shown as
    an escape."""
    epoch = entry.epoch
    when = entry.at if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    head = [when, entry.profile or "-"]
    if entry.who != "agent":
        head.append(f"[{entry.who}]")
    if entry.is_login:
        return _safe("  ".join([*head, "login", _login(entry)]))
    parts = [*head, entry.tool, f"{entry.duration_ms:.1f} ms", _outcome(entry)]
    if entry.statement:
        parts.append(shorten(entry.statement, STATEMENT_CHARS))
    return _safe("  ".join(parts))


def _login(entry: AuditEntry) -> str:
    """What the server found when it read its login, on one line."""
    if entry.error is not None:
        return shorten(f"refused: {entry.error}", ERROR_CHARS)
    if not entry.powers:
        return "an agent-sized login" + (", writes allowed" if entry.writes else "")
    return shorten("served read-only; it can still: " + "; ".join(entry.powers), ERROR_CHARS)


def _outcome(entry: AuditEntry) -> str:
    """The result in the outcome vocabulary (agent/audit_entry.py), with the server's words
    for a failure and a burst's span."""
    result = entry.result
    if entry.is_summary and entry.last_at:
        result += f" until {entry.last_at}"
    if entry.error is not None:
        # A refusal's error names its rule already ("refused (COMMIT): …"); the others' is
        # the server's first line, after the outcome and its code.
        result = (
            entry.error if entry.refused and entry.rule is None else f"{result} ({entry.error})"
        )
    return shorten(result, ERROR_CHARS)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _safe(line: str) -> str:
    from supalink.agent import visible

    return visible(line)

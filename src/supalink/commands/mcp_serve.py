"""`supalink mcp-serve`: the agent's own MCP server over stdio, what a `supalink` entry runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from supalink.errors import UsageError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most a day")
    return value


def register(subparsers: Any) -> None:
    from supalink.agent import DEFAULT_MAX_ROWS
    from supalink.profiles import defaults

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mcp-serve",
        help="the agent's MCP server over stdio (what a `supalink` config entry runs)",
        description="Serve the MCP tools query, list_schemas, list_tables, describe_table, "
        "explain and notifications over stdio. Read-only unless --allow-writes: the database "
        "refuses writes, each call runs in a transaction of its own. With --profile the "
        "password is read from the keyring, never from argv or the environment.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", metavar="NAME", help="a saved profile")
    source.add_argument(
        "--uri-env", metavar="VAR", help="read the connection URI from this environment variable"
    )
    parser.add_argument(
        "--allow-writes",
        action="store_true",
        help="let the agent change data (each call still one statement, in its own transaction)",
    )
    parser.add_argument(
        "--max-rows",
        type=_positive_int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"rows per answer at most (default: {DEFAULT_MAX_ROWS})",
    )
    parser.add_argument(
        "--statement-timeout",
        type=_seconds,
        default=float(defaults.STATEMENT_TIMEOUT_SECONDS),
        metavar="SECONDS",
        help=f"the longest a statement runs (default: {defaults.STATEMENT_TIMEOUT_SECONDS})",
    )
    parser.add_argument(
        "--sslrootcert", type=Path, metavar="PATH", help="with --profile: this CA file instead"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from supalink.agent import (
        ServeOptions,
        collect_later,
        environment_target,
        profile_target,
        run_server,
    )
    from supalink.paths import AppPaths

    collect_later()  # every client start waits for this command's first answer

    if args.sslrootcert is not None and args.profile is None:
        raise UsageError("--sslrootcert goes with --profile (a URI names its own CA)")
    if args.profile is not None:
        target = profile_target(args.profile, args.sslrootcert)
    else:
        target = environment_target(args.uri_env)
    options = ServeOptions(
        allow_writes=args.allow_writes,
        max_rows=args.max_rows,
        statement_timeout=args.statement_timeout,
        profile_name=args.profile,
    )
    return run_server(target, options, AppPaths.for_user().audit_file)

"""`supalink parse`: read a pasted URI into its fields (never the password)."""

from __future__ import annotations

import argparse
from typing import Any

from supalink.commands.output import print_record


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "parse",
        help="show the fields of a Postgres or Supabase URI",
        description="Show ref, mode, host, port, user, database, region and pooler index. "
        "The password is never printed.",
    )
    parser.add_argument("uri", metavar="URI")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from supalink.profiles import parse_uri

    parsed = parse_uri(args.uri)
    print_record(parsed.summary(), as_json=args.json)
    return 0

"""`supalink url`: print the connection URI for a Supabase project and mode."""

from __future__ import annotations

import argparse
from typing import Any

from supalink.commands.profile_options import add_connection_options, profile_from_options
from supalink.commands.secret_input import read_password_stdin


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "url",
        help="print the connection URI for a project and mode",
        description="Print the URI alone on one line; the password is masked unless --reveal.",
    )
    add_connection_options(parser, ref_required=True)
    parser.add_argument("--reveal", action="store_true", help="show the password in the URI")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from supalink.profiles import build_uri

    profile = profile_from_options("url", args)
    password = read_password_stdin() if args.password_stdin else None
    print(build_uri(profile, password, masked=not args.reveal))
    return 0

"""`supalink mcp-run`: what an MCP client starts; reads the keyring and execs the server."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mcp-run",
        help="start a Postgres MCP server with the password from the keyring",
        description="Used in MCP client configs: builds the profile's URI from the keyring and "
        "replaces itself with the server command given after `--`. The password never goes "
        "in the server's command line.",
    )
    parser.add_argument("--profile", required=True, metavar="NAME")
    parser.add_argument(
        "--uri-env",
        metavar="VAR",
        help="pass the URI in this environment variable; without it the URI is the last "
        "argument, without its password, which goes in PGPASSWORD (a command line is anyone's "
        "to read)",
    )
    parser.add_argument(
        "--sslrootcert", metavar="PATH", help="use this CA file instead of the profile's"
    )
    parser.add_argument("server", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS]")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from supalink.errors import SupalinkError
    from supalink.mcp import UriPlacement, launch
    from supalink.paths import AppPaths
    from supalink.profiles import KeyringSecretStore, open_repository

    server = list(args.server)
    if server[:1] == ["--"]:
        server = server[1:]
    try:
        # Straight to the Secret Service: every server start pays for this command.
        repository = open_repository(AppPaths.for_user(), KeyringSecretStore(direct=True))
        return launch(
            repository,
            args.profile,
            server,
            UriPlacement(args.uri_env),
            sslrootcert=args.sslrootcert,
        )
    except SupalinkError as error:
        from supalink.commands.failures import said

        # Claude Desktop shows the server's stderr in its MCP log: one line, the fix in it.
        print(f"supalink mcp-run: {said(error)}", file=sys.stderr)
        return 1

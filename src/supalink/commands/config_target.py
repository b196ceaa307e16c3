"""The options that name an MCP client's config file and the server entry in it (`--client`,
`--config`, `--workspace`, `--server-name`), shared by every `supalink config` action, and
the client and file they name."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from supalink.errors import UsageError

if TYPE_CHECKING:
    from supalink.mcp import McpClient


def add_target(parser: argparse.ArgumentParser, *, every_entry_by_default: bool = False) -> None:
    from supalink.mcp import CLIENTS, DEFAULT_SERVER_NAME

    parser.add_argument("--client", required=True, choices=list(CLIENTS), help="the MCP client")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--config", type=Path, metavar="PATH", help="the config file (default: the client's)"
    )
    where.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="the client's file in this project folder: .vscode/mcp.json (vscode), "
        ".mcp.json (copilot, claude-code), .zed/settings.json (zed)",
    )
    if every_entry_by_default:
        parser.add_argument("--server-name", metavar="NAME", help="only this entry")
    else:
        parser.add_argument(
            "--server-name",
            default=DEFAULT_SERVER_NAME,
            metavar="NAME",
            help=f"the entry's name (default: {DEFAULT_SERVER_NAME})",
        )


def target_of(args: argparse.Namespace) -> tuple[McpClient, Path]:
    """The client and its config file as the arguments name them; the server name checked."""
    from supalink.mcp import BadServerName, check_server_name, config_path, get_client

    if args.server_name is not None:
        try:
            check_server_name(args.server_name)
        except BadServerName as error:
            raise UsageError(f"--server-name {error.name!r} {error.problem}") from None
    client = get_client(args.client)
    if args.config is not None:
        return client, args.config.expanduser()
    workspace = getattr(args, "workspace", None)
    if workspace is not None:
        folder = workspace.expanduser()
        path = client.workspace_path(folder)
        if path is None:
            raise UsageError(f"--workspace: {client.name} reads no file in a project folder")
        if not folder.is_dir():
            raise UsageError(f"--workspace {str(workspace)!r} is not a folder")
        return client, Path(path)
    return client, config_path(client)

"""`supalink mcp-serve`: Supalink's own MCP server (placeholder until the server lands)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mcp-serve", help="the agent's MCP server over stdio"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return 1

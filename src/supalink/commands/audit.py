"""`supalink audit`: what the agents' servers ran (placeholder until the audit log lands)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit", help="print what the agents' servers ran"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return 0

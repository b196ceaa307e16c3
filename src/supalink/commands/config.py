"""`supalink config`: show, write, remove and verify the MCP server entry in a client's config.

This module holds the command's parser and its reading actions: `clients`, `show` and
`verify`, which starts the entry as the client would. Writing and removing an entry are in
config_write, following the file in config_watch, its backups in config_backups. Exit 0 on
success, 1 on a refused or failed operation, 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from supalink.commands.config_target import add_target, target_of
from supalink.errors import SupalinkError, UsageError


def register(subparsers: Any) -> None:
    from supalink.commands import config_backups, config_extension, config_watch, config_write

    parser = subparsers.add_parser(
        "config",
        help="show, write, remove or verify the MCP server entry in a client's config file",
        description="Show, write, remove and verify the MCP server entry in an MCP client's "
        "config file. Exit 0 on success, 1 on a refused or failed operation, 2 on bad input.",
    )
    actions = parser.add_subparsers(
        dest="config_action", metavar="ACTION", required=True, parser_class=type(parser)
    )

    clients = actions.add_parser("clients", help="list the MCP clients and their config files")
    clients.set_defaults(run=run_clients)

    show = actions.add_parser("show", help="print a client's server entries, passwords masked")
    add_target(show, every_entry_by_default=True)
    show.set_defaults(run=run_show)

    config_write.register(actions)  # write and remove

    verify = actions.add_parser(
        "verify",
        help="start the configured server and run select 1; Supalink's own server must also "
        "refuse a write",
    )
    add_target(verify)
    verify.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the server; the command ends within 1 s more (default: 30)",
    )
    verify.add_argument(
        "--env",
        choices=("client", "shell"),
        default="client",
        help="client (the default): start the server with the environment a desktop client "
        "gives it (its PATH, no shell profile); shell: with this shell's environment",
    )
    verify.set_defaults(run=run_verify)

    config_watch.register(actions)
    config_backups.register(actions)
    config_extension.register(actions)


def run_clients(args: argparse.Namespace) -> int:
    from supalink.mcp import CLIENTS, Host

    host = Host.current()
    for client in CLIENTS.values():
        path = Path(client.config_path(host))
        note = "" if path.exists() else "  (no file yet)"
        print(f"{client.id:<12} {client.name:<15} {client.root_key:<11} {path}{note}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    import json

    from supalink.logs import SecretMasker
    from supalink.mcp import MISSING, EntryMissing, document_secrets, load_document, read_config

    client, path = target_of(args)
    data = read_config(path)
    if data is None:
        raise EntryMissing(path, args.server_name, no_file=True)
    document = load_document(path, data, jsonc=client.jsonc)
    shown: Any = document.servers(client.root_key)
    if args.server_name is not None:
        shown = document.member(client.root_key, args.server_name)
        if shown is MISSING:
            raise EntryMissing(path, args.server_name, no_file=False)
    masker = SecretMasker()
    masker.add_secrets(document_secrets(document))
    print(masker.mask(json.dumps(shown, indent=2, ensure_ascii=False)))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import asyncio
    import gc
    import math
    import time

    from supalink.mcp import NeedsClientInput, entry_inputs, read_entry, verify_entry

    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise UsageError("--timeout must be a positive number of seconds")
    client, path = target_of(args)
    entry = read_entry(client, path, args.server_name)
    if inputs := entry_inputs(entry):
        raise NeedsClientInput(args.server_name, inputs)
    started = time.monotonic() - _process_age()
    report = asyncio.run(
        verify_entry(entry, environment=args.env, timeout=args.timeout, started=started)
    )
    # The SDK's many pydantic objects would cost the interpreter ~0.3 s to collect at exit,
    # past the --timeout promised: left out of the collector, the process ends at once.
    gc.freeze()
    if not report.ok:
        raise SupalinkError(report.describe())
    print(f"{args.server_name}: {report.summary} in {report.elapsed:.1f} s")
    for line in report.details():
        print(f"  {line}")
    return 0


def _process_age() -> float:
    """Seconds since this process started (Linux; 0 elsewhere): --timeout is a promise about
    the whole command, and starting Python and Supalink takes a moment, more on a busy
    machine."""
    import os
    import time

    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat.rpartition(")")[2].split()[19])  # starttime, after the name
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    return min(max(age, 0.0), 60.0)  # a clock that disagrees must not eat the whole budget

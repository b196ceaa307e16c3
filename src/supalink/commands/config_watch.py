"""`supalink config watch` and `supalink config logs`: what the client does with the entry
once it is written. Watch follows the config file until SIGINT or SIGTERM and prints a line
each time the entry disappears, changes or comes back, or the file is replaced; logs prints
the end of the client's own log of the server."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from supalink.errors import FileFault, UsageError

AddTarget = Callable[[argparse.ArgumentParser], None]

_SAID = {
    "removed": "the {server} entry is gone from {path}",
    "changed": "the {server} entry in {path} is not the one Supalink wrote any more",
    "restored": "the {server} entry in {path} is back as Supalink wrote it",
    "replaced": "{path} was replaced by a new file",
}


def register(actions: Any, add_target: AddTarget) -> None:
    watch = actions.add_parser(
        "watch",
        help="follow the config file and say when the entry is removed, changed or restored",
        description="Follow the client's config file until Ctrl-C or SIGTERM and print a line "
        "each time the entry disappears, changes or comes back, or the file is replaced.",
    )
    add_target(watch)
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.set_defaults(run=run_watch)

    logs = actions.add_parser("logs", help="print the end of the client's own log of the server")
    add_target(logs)
    logs.add_argument(
        "--lines", type=int, default=40, metavar="K", help="lines of each log (default: 40)"
    )
    logs.set_defaults(run=run_logs)


def run_watch(args: argparse.Namespace) -> int:
    from supalink.commands.config import target_of
    from supalink.mcp import EntryWatch
    from supalink.mcp.watch import POLL_SECONDS

    client, path = target_of(args)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    watch = EntryWatch(client, path, args.server_name)
    state = "holds it" if watch.present else "does not hold it now"
    print(
        f"Watching the {args.server_name} entry in {path} ({state}); Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    while not stop.wait(POLL_SECONDS):
        for event in watch.check():
            if args.json:
                print(json.dumps(event.as_json()), flush=True)
            else:
                words = _SAID[event.event].format(server=event.server, path=path)
                print(f"{event.at.astimezone():%H:%M:%S} {event.event}: {words}", flush=True)
    return 0


def run_logs(args: argparse.Namespace) -> int:
    from supalink.commands.config import target_of
    from supalink.logs import SecretMasker
    from supalink.mcp import Host, document_secrets, read_config, server_logs

    if args.lines < 1:
        raise UsageError("--lines must be a positive number of lines")
    client, path = target_of(args)
    masker = SecretMasker()
    masker.add_secrets(document_secrets(read_config(path)))
    try:
        found = server_logs(
            client, Host.current(), args.server_name, lines=args.lines, masker=masker
        )
    except OSError as error:
        raise FileFault.of("read", error.filename or path, error) from None
    if not found:
        print(f"Supalink does not know where {client.name} keeps its logs.")
        return 0
    for log in found:
        if not log.exists:
            print(f"{log.path}: no log yet ({client.name} has not started a server here).")
        elif not log.lines:
            print(f"{log.path}: nothing about {args.server_name} yet.")
        else:
            print(f"== {log.path} ==")
            for line in log.lines:
                print(line)
    return 0

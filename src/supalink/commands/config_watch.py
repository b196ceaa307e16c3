"""`supalink config watch` and `supalink config logs`: what the client does with the entry
once it is written. Watch follows the config file until SIGINT or SIGTERM and prints a line
each time the entry disappears, changes or comes back, the file is replaced or deleted, or
stops being a config file a client can read (not JSON, `mcpServers` not an object, a folder
or a FIFO in its place) and when it can be read again; logs prints the end of the client's
own log of the server, every password masked (the profile's own too, from the keyring), and
none while the config file cannot be parsed: the passwords in it could not be masked."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from supalink.commands.config_target import add_target, target_of
from supalink.errors import FileFault, SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.mcp import JsonDocument, McpClient

_SAID = {
    "removed": "the {server} entry is gone from {path}",
    "changed": "the {server} entry in {path} is not the one Supalink wrote any more",
    "restored": "the {server} entry in {path} is back as Supalink wrote it",
    "replaced": "{path} was replaced by a new file",
    "deleted": "{path} was deleted",
    "not-a-file": "{detail}",
    "unreadable": "{detail}",
    "invalid": "{detail}",
    "wrong-shape": "{detail}",
    "recovered": "{path} can be read again",
}


def register(actions: Any) -> None:
    watch = actions.add_parser(
        "watch",
        help="follow the config file and say when the entry is removed, changed or restored",
        description="Follow the client's config file until Ctrl-C or SIGTERM and print a line "
        "each time the entry disappears, changes or comes back, the file is replaced or "
        "deleted, or stops being a config file a client can read, and when it can be again.",
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
    from supalink.mcp import POLL_SECONDS, EntryWatch

    client, path = target_of(args)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    watch = EntryWatch(client, path, args.server_name)
    if watch.problem is not None:
        state = f"which cannot be read now: {watch.problem}"
    else:
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
                words = _SAID[event.event].format(
                    server=event.server, path=path, detail=event.detail
                )
                print(f"{event.at.astimezone():%H:%M:%S} {event.event}: {words}", flush=True)
    return 0


def run_logs(args: argparse.Namespace) -> int:
    from supalink.logs import SecretMasker
    from supalink.mcp import Host, document_secrets, load_document, read_config, server_logs

    if args.lines < 1:
        raise UsageError("--lines must be a positive number of lines")
    client, path = target_of(args)
    config = read_config(path)
    try:
        document = load_document(path, config, jsonc=client.jsonc)
    except SupalinkError as error:  # its passwords unknown, a log may show them unmasked
        raise SupalinkError(
            f"{error}; no log is shown while the passwords in it cannot be found to mask them"
        ) from None
    masker = SecretMasker()
    masker.add_secrets(document_secrets(document))
    masker.add_secrets(_profile_password_forms(client, document, args.server_name))
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


def _profile_password_forms(
    client: McpClient, document: JsonDocument, server_name: str
) -> list[str]:
    """The password of the profile the entry connects for (Supalink's server or launcher
    names it), in every form a log may show it; none when the entry names no profile or
    its password is not to be had (no keyring, none saved)."""
    from supalink.mcp import MISSING, entry_owner, password_forms

    try:
        entry = document.member(client.root_key, server_name)
    except SupalinkError:
        return []
    owner = entry_owner(entry) if entry is not MISSING else None
    if owner is None or owner.profile is None:
        return []
    try:
        password = _saved_password(owner.profile)
    except SupalinkError:
        return []
    return password_forms(password) if password else []


def _saved_password(profile: str) -> str | None:
    from supalink.commands.saved import user_repository

    return user_repository().password_value(profile, keyring_may_fail=True)

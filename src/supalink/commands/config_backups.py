"""`supalink config backups`: the copies Supalink kept of the clients' config files before
changing them (the last 10 of each, in the order they were made), which of them hold a
password, and `--purge` to remove those that do. Exit 0; 1 when a copy that holds a
password could not be removed; 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.errors import FileFault, UsageError

if TYPE_CHECKING:
    from supalink.mcp import BackupFolder


def register(actions: Any) -> None:
    from supalink.mcp import CLIENTS

    backups = actions.add_parser(
        "backups",
        help="list the backups of the clients' config files; --purge removes those that "
        "hold a password",
        description="List the copies Supalink kept of the MCP clients' config files before "
        "changing them (the last 10 of each, oldest first), saying which hold a password; "
        "with --purge, remove those that do. Exit 0 on success, 1 when a backup could not "
        "be removed, 2 on bad input.",
    )
    backups.add_argument(
        "--client",
        choices=list(CLIENTS),
        help="only the backups of this client's file (default: of every file Supalink changed)",
    )
    backups.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="with --client: the config file (default: the client's)",
    )
    backups.add_argument(
        "--purge",
        action="store_true",
        help="remove every backup that holds a password (in an entry's URI or environment, "
        "or a password= anywhere)",
    )
    backups.set_defaults(run=run_backups)


def _labels() -> dict[Path, str]:
    """The backup folders of the clients' own files on this machine, by the file's path."""
    from supalink.files import resolve_link
    from supalink.mcp import CLIENTS, Host, backup_folder, config_path
    from supalink.paths import AppPaths

    root = AppPaths.for_user().backup_dir
    host = Host.current()
    labels = {}
    for client in CLIENTS.values():
        path = config_path(client, host)
        labels[backup_folder(root, resolve_link(path))] = f"{path} ({client.name})"
    return labels


def run_backups(args: argparse.Namespace) -> int:
    from supalink.files import resolve_link
    from supalink.mcp import config_path, get_client
    from supalink.paths import AppPaths

    if args.config is not None and args.client is None:
        raise UsageError("--config goes with --client")
    root = AppPaths.for_user().backup_dir
    target = None
    if args.client is not None:
        path = args.config.expanduser() if args.config else config_path(get_client(args.client))
        target = resolve_link(path)
    if args.purge:
        return _purge(root, target)
    return _list(root, target)


def _list(root: Path, target: Path | None) -> int:
    from supalink.mcp import list_backups

    found = list_backups(root, target)
    if not found:
        print(f"no backups of {target}" if target else f"no backups in {root}")
        return 0
    labels = _labels()
    for number, group in enumerate(found):
        if number:
            print()
        print(f"{_label(group, target, labels)}, oldest first:")
        for backup in group.backups:
            holds = backup.holds_password()
            said = (
                "holds a password"
                if holds
                else "no password"
                if holds is not None
                else "cannot be read"
            )
            when = f"{backup.written.astimezone():%Y-%m-%d %H:%M:%S}" if backup.written else "?"
            print(f"  {when}  {said:<16}  {backup.path}")
    return 0


def _label(group: BackupFolder, target: Path | None, labels: dict[Path, str]) -> str:
    if target is not None:
        return f"backups of {target}"
    known = labels.get(group.folder)
    return f"backups of {known}" if known else f"backups of a file named {group.name}"


def _purge(root: Path, target: Path | None) -> int:
    from supalink.mcp import purge_backups

    purged = purge_backups(root, target)
    failed = 0
    for item in purged:
        if item.error is None:
            print(f"removed {item.path} (it held a password)")
        else:
            failed += 1
            fault = FileFault.of("remove", item.path, item.error)
            print(f"supalink config: {fault}", file=sys.stderr)
    if not purged:
        where = f"of {target}" if target else f"in {root}"
        print(f"no backup {where} holds a password: nothing removed")
    return 1 if failed else 0

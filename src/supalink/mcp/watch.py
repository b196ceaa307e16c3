"""Noticing when a client rewrites its config file: the entry Supalink wrote disappears,
changes or comes back, or the file is replaced.

Claude Desktop rewrites its file while it runs and on updates, and people have lost their
`mcpServers` that way. A watch compares the file with what it held at the last look; the
CLI looks every half second (one `stat` while nothing changed) and the app looks when the
OS says the file or its folder changed. Either way the comparison is this module's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from supalink.errors import SupalinkError
from supalink.files import resolve_link
from supalink.mcp.clients import McpClient
from supalink.mcp.editor import load_document, read_config
from supalink.mcp.jsonedit import MISSING

Event = Literal["removed", "changed", "restored", "replaced"]
POLL_SECONDS: Final = 0.5


@dataclass(frozen=True)
class WatchEvent:
    event: Event
    server: str
    at: datetime

    def as_json(self) -> dict[str, str]:
        stamp = self.at.astimezone(UTC).isoformat(timespec="milliseconds")
        return {"event": self.event, "server": self.server, "at": stamp.replace("+00:00", "Z")}


@dataclass(frozen=True)
class _Look:
    identity: tuple[int, int] | None  # (device, inode) of the file; None: no file
    stamp: tuple[int, int] | None  # (mtime in ns, size): whether to read it again
    entry: Any  # the server's entry as the file holds it; MISSING when it is not there


class EntryWatch:
    """The entry `server_name` in `path`, compared with `expected` (the entry Supalink wrote;
    by default what the file holds when the watch starts)."""

    def __init__(
        self, client: McpClient, path: Path, server_name: str, *, expected: Any = None
    ) -> None:
        self.client = client
        self.path = path
        self.server_name = server_name
        self._last = self._look(None)
        self.expected = self._last.entry if expected is None else expected

    @property
    def present(self) -> bool:
        """The file holds the entry as Supalink wrote it."""
        return self._last.entry is not MISSING and self._last.entry == self.expected

    def check(self) -> list[WatchEvent]:
        """What happened since the last look; nothing while the file is unchanged or cannot
        be read as JSON right now (a writer that is not atomic, half-way through)."""
        try:
            now = self._look(self._last)
        except (SupalinkError, ValueError):
            return []
        before, self._last = self._last, now
        at = datetime.now(UTC)
        events: list[WatchEvent] = []
        if before.identity is not None and now.identity not in (None, before.identity):
            events.append(WatchEvent("replaced", self.server_name, at))
        change = self._change(before.entry, now.entry)
        if change is not None:
            events.append(WatchEvent(change, self.server_name, at))
        return events

    def _change(self, before: Any, now: Any) -> Event | None:
        if now == before:
            return None
        if now is MISSING:
            return "removed"
        if self.expected is MISSING:  # watched before it was written: this is the entry
            self.expected = now
        if now == self.expected:
            return "restored"
        return "changed"

    def _look(self, last: _Look | None) -> _Look:
        target = resolve_link(self.path)
        try:
            status = os.stat(target)
        except FileNotFoundError:
            return _Look(None, None, MISSING)
        except OSError:
            return _Look(None, None, MISSING) if last is None else last
        identity = (status.st_dev, status.st_ino)
        stamp = (status.st_mtime_ns, status.st_size)
        if last is not None and (identity, stamp) == (last.identity, last.stamp):
            return last
        data = read_config(self.path)
        if data is None:
            return _Look(None, None, MISSING)
        entry = load_document(self.path, data).member(self.client.root_key, self.server_name)
        return _Look(identity, stamp, entry)


def supalink_entries(client: McpClient, path: Path) -> list[str]:
    """The names of the file's entries that start Supalink (its own server or the keyring
    launcher): the ones the app watches; none when the file cannot be read as JSON."""
    from supalink.mcp.templates import LAUNCH_COMMAND, SERVE_COMMAND

    try:
        data = read_config(path)
        servers = load_document(path, data).servers(client.root_key) if data else {}
    except (SupalinkError, ValueError):
        return []
    names = []
    for name, value in servers.items():
        args = value.get("args") if isinstance(value, dict) else None
        if isinstance(args, list) and (SERVE_COMMAND in args or LAUNCH_COMMAND in args):
            names.append(name)
    return names


def last_backup_holding(
    client: McpClient, path: Path, server_name: str, backup_root: Path
) -> tuple[Path, Any] | None:
    """The newest backup of the file that holds the entry, and the entry as it held it."""
    from supalink.mcp.editor import backup_folder

    target = resolve_link(path)
    folder = backup_folder(backup_root, target)
    for backup in sorted(folder.glob(f"{target.name}.*Z.bak"), reverse=True):
        try:
            entry = load_document(backup, backup.read_bytes()).member(client.root_key, server_name)
        except (OSError, SupalinkError, ValueError):
            continue
        if entry is not MISSING:
            return backup, entry
    return None

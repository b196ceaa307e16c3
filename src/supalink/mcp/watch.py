"""Noticing when a client rewrites its config file: the entry Supalink wrote disappears,
changes or comes back, the file is replaced or deleted, stops being valid JSON or of the
shape a client reads (`mcpServers` not an object), or something that is not a file takes its
place; and when it can be read again.

Claude Desktop rewrites its file while it runs and on updates, and people have lost their
`mcpServers` that way. A watch compares the file with what it held at the last look; the
CLI looks every half second (one `stat` while nothing changed) and the app looks when the
OS says the file or its folder changed. Either way the comparison is this module's.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from supalink.errors import FileFault, SupalinkError
from supalink.files import NotAPlainFile, read_plain_file, resolve_link
from supalink.mcp.clients import McpClient
from supalink.mcp.editor import load_document, read_config
from supalink.mcp.jsonedit import MISSING, UneditableConfig

# What became of the entry (removed, changed, restored) and of the file (replaced; then
# what stops a client from reading it, and `recovered` when that is over).
Event = Literal[
    "removed",
    "changed",
    "restored",
    "replaced",
    "deleted",
    "not-a-file",
    "unreadable",
    "invalid",
    "wrong-shape",
    "recovered",
]
Problem = Literal["deleted", "not-a-file", "unreadable", "invalid", "wrong-shape"]
POLL_SECONDS: Final = 0.5


@dataclass(frozen=True)
class WatchEvent:
    """One change. `detail`, for a file that cannot be read as a config: the one sentence
    that says why (the file's error)."""

    event: Event
    server: str
    at: datetime
    detail: str | None = None

    def as_json(self) -> dict[str, str]:
        stamp = self.at.astimezone(UTC).isoformat(timespec="milliseconds")
        shown = {"event": self.event, "server": self.server, "at": stamp.replace("+00:00", "Z")}
        if self.detail is not None:
            shown["detail"] = self.detail
        return shown


@dataclass(frozen=True)
class _Look:
    key: tuple[int, ...] | None  # device, inode, type, mtime, size: whether to read it again
    identity: tuple[int, int] | None  # (device, inode) of a plain file; None: no file
    entry: Any  # the server's entry as the file holds it; MISSING when it is not there
    problem: Problem | None = None  # what keeps a client from reading the file
    detail: str | None = None  # the problem's sentence


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
        # The problem last told, and its sentence (the start's own is said by the caller).
        self._told: tuple[Problem, str | None] | None = None
        if self._last.problem is not None:
            self._told = (self._last.problem, self._last.detail)
        self.expected = self._last.entry if expected is None else expected

    @property
    def present(self) -> bool:
        """The file holds the entry as Supalink wrote it, and a client can read it."""
        last = self._last
        return last.problem is None and last.entry is not MISSING and last.entry == self.expected

    @property
    def problem(self) -> str | None:
        """Why a client cannot read the file now (its error's sentence, or that it is gone);
        None when it can."""
        if self._last.problem == "deleted":
            return f"{self.path} is not there"
        return self._last.detail

    @property
    def pending(self) -> bool:
        """The last look found the file not valid JSON for the first time: it is reported
        at the next look that finds it unchanged (a writer that is not atomic may be
        half-way through). Look again within POLL_SECONDS."""
        told = self._told[0] if self._told else None
        return self._last.problem == "invalid" and told != "invalid"

    def check(self) -> list[WatchEvent]:
        """What happened since the last look; nothing while the file is unchanged."""
        before = self._last
        now = self._look(before)
        self._last = now
        at = datetime.now(UTC)
        if now is before:  # not changed since the last look
            if self.pending:  # the same bytes twice: not a write half-way through
                self._told = ("invalid", now.detail)
                return [WatchEvent("invalid", self.server_name, at, now.detail)]
            return []
        events: list[WatchEvent] = []
        if before.identity is not None and now.identity not in (None, before.identity):
            events.append(WatchEvent("replaced", self.server_name, at))
        if now.problem is None and self._told is not None:
            self._told = None
            events.append(WatchEvent("recovered", self.server_name, at))
        elif now.problem not in (None, "invalid") and (now.problem, now.detail) != self._told:
            # A problem, or another thing in the file's place (a FIFO after a folder).
            self._told = (now.problem, now.detail)
            events.append(WatchEvent(now.problem, self.server_name, at, now.detail))
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
        """The file now. While it cannot be read as a config, the entry is the one last
        seen (it is not known to be gone), but for a file that is not there at all."""
        known = MISSING if last is None else last.entry
        try:
            status = os.stat(resolve_link(self.path))
        except FileNotFoundError:
            return _Look(None, None, MISSING, "deleted")
        except OSError as error:
            return _Look(None, None, known, "unreadable", self._fault(error))
        key = (
            status.st_dev,
            status.st_ino,
            stat.S_IFMT(status.st_mode),
            status.st_mtime_ns,
            status.st_size,
        )
        if last is not None and key == last.key:
            return last
        return self._read(key, (status.st_dev, status.st_ino), known)

    def _read(self, key: tuple[int, ...], identity: tuple[int, int], known: Any) -> _Look:
        try:
            data = read_plain_file(self.path)
        except FileNotFoundError:
            return _Look(None, None, MISSING, "deleted")
        except (NotAPlainFile, IsADirectoryError) as error:
            return _Look(key, None, known, "not-a-file", self._fault(error))
        except OSError as error:
            return _Look(key, None, known, "unreadable", self._fault(error))
        try:
            document = load_document(self.path, data, jsonc=self.client.jsonc)
            entry = document.member(self.client.root_key, self.server_name)
        except UneditableConfig as error:
            return _Look(key, identity, known, "wrong-shape", str(error))
        except SupalinkError as error:  # not JSON, not UTF-8, nested too deep
            return _Look(key, identity, known, "invalid", str(error))
        return _Look(key, identity, entry)

    def _fault(self, error: OSError) -> str:
        return str(FileFault.of("read", self.path, error))


def supalink_entries(client: McpClient, path: Path) -> list[str]:
    """The names of the file's entries that start Supalink (its own server or the keyring
    launcher): the ones the app watches; none when the file cannot be read as JSON."""
    from supalink.mcp.templates import LAUNCH_COMMAND, SERVE_COMMAND

    try:
        data = read_config(path)
        document = load_document(path, data, jsonc=client.jsonc)
        servers = document.servers(client.root_key) if data else {}
    except SupalinkError:
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
    """The newest backup of the file that holds the entry, and the entry as it held it
    (newest by the order they were made, not by the clock's word)."""
    from supalink.mcp.backups import backup_folder, backups_in

    target = resolve_link(path)
    for backup in reversed(backups_in(backup_folder(backup_root, target), target.name)):
        try:
            data = read_plain_file(backup.path)
            document = load_document(backup.path, data, jsonc=client.jsonc)
            entry = document.member(client.root_key, server_name)
        except (OSError, SupalinkError):
            continue
        if entry is not MISSING:
            return backup.path, entry
    return None

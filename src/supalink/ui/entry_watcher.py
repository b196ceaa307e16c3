"""The app's watch of the entries it wrote: the OS says when a config file or its folder
changed (QFileSystemWatcher: inotify, FSEvents, ReadDirectoryChangesW), so an idle app
spends nothing; each change is then compared by mcp.EntryWatch, whose words are the same
as `supalink config watch`'s."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from supalink.mcp import (
    CLIENTS,
    EntryWatch,
    Host,
    McpClient,
    WatchEvent,
    config_path,
    supalink_entries,
)


class EntryWatcher(QObject):
    """Emits `happened(event, client, path)` for each watched entry's change."""

    happened = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._os = QFileSystemWatcher(self)
        self._watches: dict[tuple[str, Path, str], EntryWatch] = {}
        # The clients' own files, looked at again for entries Supalink writes meanwhile.
        self._scanned: list[tuple[McpClient, Path]] = []
        self._os.fileChanged.connect(self._changed)
        self._os.directoryChanged.connect(self._changed)

    @property
    def watched(self) -> list[tuple[str, Path, str]]:
        return sorted(self._watches, key=str)

    def watch(self, client: McpClient, path: Path, server_name: str) -> EntryWatch:
        """Watch `server_name` in `path` as it is now (what was just written)."""
        key = (client.id, path, server_name)
        watch = EntryWatch(client, path, server_name)
        self._watches[key] = watch
        self._follow(path)
        return watch

    def watch_found(self, host: Host | None = None) -> None:
        """Every entry that starts Supalink in the clients' own files on this machine, now
        and as they are written later (by the Write config dialog or the CLI)."""
        for client in CLIENTS.values():
            path = config_path(client, host)
            self._scanned.append((client, path))
            self._adopt(client, path)
            self._follow(path)

    def _adopt(self, client: McpClient, path: Path) -> None:
        for name in supalink_entries(client, path):
            if (client.id, path, name) not in self._watches:
                self.watch(client, path, name)

    def entry(self, client_id: str, path: Path, server_name: str) -> EntryWatch | None:
        return self._watches.get((client_id, path, server_name))

    def _follow(self, path: Path) -> None:
        # The folder too: a client that writes a new file and renames it over the old one
        # leaves the watch on a file that is gone; the folder's change says it came back.
        wanted = [str(path), str(path.parent)]
        present = set(self._os.files()) | set(self._os.directories())
        missing = [item for item in wanted if item not in present and Path(item).exists()]
        if missing:
            self._os.addPaths(missing)

    def _changed(self, changed: str) -> None:
        for client, path in self._scanned:
            if changed in (str(path), str(path.parent)):
                self._adopt(client, path)
        for (_, path, _), watch in list(self._watches.items()):
            if changed not in (str(path), str(path.parent)):
                continue
            self._follow(path)
            for event in watch.check():
                self.happened.emit(event, watch.client, path)
            if watch.pending:  # not JSON at first sight: said if it still is in a moment
                QTimer.singleShot(500, self, lambda changed=changed: self._changed(changed))


_DESCRIBED = {
    "removed": "{client} removed the {server} entry at {at}",
    "changed": "{client} changed the {server} entry at {at}",
    "restored": "The {server} entry is back in {client}'s config ({at})",
    "replaced": "{client} rewrote its config file at {at}",
    "deleted": "{client}'s config file was deleted at {at}",
    "recovered": "{client}'s config file can be read again ({at})",
}


def described(event: WatchEvent, client_name: str) -> str:
    """The banner's and the tray's words, e.g. "Claude Desktop removed the supabase entry
    at 10:42"; for a file that cannot be read, why (the file's own sentence)."""
    words = _DESCRIBED.get(
        event.event, "{client}'s config file cannot be read since {at}: {detail}"
    )
    at = f"{event.at.astimezone():%H:%M}"
    return words.format(client=client_name, server=event.server, at=at, detail=event.detail)

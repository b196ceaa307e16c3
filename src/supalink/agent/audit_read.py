"""Reading the audit: `read_entries` for what is there, `follow_entries` and `AuditTail` for
what comes, across the writers' rotations (agent/audit_log.py). A line that is not a record
(hand-edited, cut by a crash) is skipped, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Final

from supalink.agent.audit_entry import AuditEntry
from supalink.agent.audit_log import rotated_numbers, rotated_path
from supalink.files import locked

# A follower keeps at most this much of a line whose end is not there yet.
MAX_PENDING_BYTES: Final = 1_000_000


def _parse(raw: bytes, profile: str | None) -> AuditEntry | None:
    if not raw.strip():
        return None
    try:
        entry = AuditEntry.from_json(json.loads(raw))
    except (ValueError, RecursionError):  # also UnicodeDecodeError and JSONDecodeError
        return None
    if profile is not None and entry.profile != profile:
        return None
    return entry


# ----- reading ---------------------------------------------------------------------------
def read_entries(path: Path, *, profile: str | None = None) -> Iterator[AuditEntry]:
    """Every entry, oldest first across the rotated files; only `profile`'s when given.
    Raises OSError when a file is there but cannot be read (its permissions, a folder in
    its place); no file at all is no entry."""
    handles = _open_all(path)
    try:
        for handle in handles:
            for raw in handle:
                entry = _parse(raw, profile)
                if entry is not None:
                    yield entry
    finally:  # also when the caller stops early
        _close_all(handles)


def _open_all(path: Path) -> list[IO[bytes]]:
    """The log's files, oldest first, opened together under the lock: a rotation while
    they are read neither repeats nor skips a file."""
    numbers = rotated_numbers(path)
    candidates = [rotated_path(path, number) for number in reversed(numbers)] + [path]
    opened: list[IO[bytes]] = []
    try:
        with locked(path, create=False):
            for candidate in candidates:
                with contextlib.suppress(FileNotFoundError):
                    opened.append(candidate.open("rb"))
    except BaseException:
        _close_all(opened)
        raise
    return opened


class AuditTail:
    """What was appended to the log since the last look, across its rotations: what
    `follow_entries` and the monitor window's agent panel read.

    It remembers the file it read (by device and inode) and how far. When the log was
    rotated meanwhile, it finishes that file where the rotations moved it, reads the files
    rotated after it, then the new one from its start. It keeps no file open between
    looks: on Windows an open file cannot be renamed, and the writers could not rotate.
    """

    def __init__(self, path: Path, *, profile: str | None = None, backlog_bytes: int = 0) -> None:
        """Entries appended from now on; with `backlog_bytes`, the first look also gives
        those in about that many of the file's last bytes."""
        self.path = path
        self.profile = profile
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._pending = b""  # the start of a line whose end is not written yet
        self._skip_partial = False
        # A log rotated a moment ago holds little: the rest of the backlog is the end of
        # the files rotated last, read once, on the first look.
        self._older_backlog = max(0, backlog_bytes)
        try:
            status = os.stat(path)
        except OSError:
            return  # not there yet: all it will hold is new
        self._identity = (status.st_dev, status.st_ino)
        self._older_backlog = max(0, backlog_bytes - status.st_size)
        start = max(0, status.st_size - max(0, backlog_bytes))
        if 0 < start < status.st_size:
            # From the byte before: when that is a newline, no line is cut at `start`.
            self._offset, self._skip_partial = start - 1, True
        else:
            self._offset = start

    def read_new(self) -> list[AuditEntry]:
        """The entries appended since the last call. Raises OSError when the log is there
        but cannot be read."""
        older = self._older_entries() if self._older_backlog else []
        return older + self._read_new()

    def _older_entries(self) -> list[AuditEntry]:
        """The end of the files rotated last, once: a backlog the current file is too short
        for. Read before anything new, so the order stays oldest first."""
        wanted, self._older_backlog = self._older_backlog, 0
        handles: list[IO[bytes]] = []  # newest first: .1, .2, …
        found = 0
        with locked(self.path, create=False):
            try:
                while found < wanted:
                    handle = _open_existing(rotated_path(self.path, len(handles) + 1))
                    if handle is None:
                        break
                    handles.append(handle)
                    found += os.fstat(handle.fileno()).st_size
            except BaseException:
                _close_all(handles)
                raise
        entries: list[AuditEntry] = []
        skip = max(0, found - wanted)  # of the oldest file's start
        try:
            for handle in reversed(handles):
                # From the byte before: when that is a newline, no line is cut at `skip`.
                handle.seek(max(0, skip - 1))
                data = handle.read()
                if skip > 0:
                    data = data.partition(b"\n")[2]
                skip = 0
                entries += self._entries(data.splitlines())
        finally:
            _close_all(handles)
        return entries

    def _read_new(self) -> list[AuditEntry]:
        with locked(self.path, create=False):  # the files as one rotation left them
            current = _open_existing(self.path)
            try:
                identity = _identity_of(current)
                moved = self._moved_files() if identity != self._identity else []
            except BaseException:
                if current is not None:
                    current.close()
                raise
        raws: list[bytes] = []
        for position, handle in enumerate(moved):
            with handle:
                if position == 0:
                    handle.seek(self._offset)
                raws += self._take(handle.read())
                self._pending = b""  # a rotated file is done: a line it cut stays cut
        if identity != self._identity:
            self._identity, self._offset, self._pending = identity, 0, b""
            self._skip_partial = False
        if current is None:
            return self._entries(raws)
        with current:
            size = os.fstat(current.fileno()).st_size
            if size < self._offset:  # cut short in place, by hand: start over
                self._offset, self._pending = 0, b""
            if size > self._offset:
                current.seek(self._offset)
                raws += self._take(current.read(size - self._offset))
        return self._entries(raws)

    def _moved_files(self) -> list[IO[bytes]]:
        """The file last read, wherever the rotations moved it, then the files rotated after
        it, oldest first; none when it was dropped already (or never was)."""
        found: list[IO[bytes]] = []
        try:
            while self._identity is not None:
                handle = _open_existing(rotated_path(self.path, len(found) + 1))
                if handle is None:
                    break
                found.append(handle)
                if _identity_of(handle) == self._identity:
                    return found[::-1]
        except BaseException:
            _close_all(found)
            raise
        _close_all(found)
        return []

    def _take(self, chunk: bytes) -> list[bytes]:
        """The whole lines of what was read, keeping a last line that is not done yet."""
        self._offset += len(chunk)
        if self._skip_partial:
            cut = chunk.find(b"\n")
            if cut < 0:
                return []
            chunk, self._skip_partial = chunk[cut + 1 :], False
        *lines, rest = (self._pending + chunk).split(b"\n")
        self._pending = rest if len(rest) <= MAX_PENDING_BYTES else b""
        return lines

    def _entries(self, raws: list[bytes]) -> list[AuditEntry]:
        return [entry for raw in raws if (entry := _parse(raw, self.profile)) is not None]


def _open_existing(path: Path) -> IO[bytes] | None:
    try:
        return path.open("rb")
    except FileNotFoundError:
        return None


def _close_all(handles: list[IO[bytes]]) -> None:
    for handle in handles:
        handle.close()


def _identity_of(handle: IO[bytes] | None) -> tuple[int, int] | None:
    if handle is None:
        return None
    status = os.fstat(handle.fileno())
    return (status.st_dev, status.st_ino)


async def follow_entries(
    path: Path, *, profile: str | None = None, poll_seconds: float = 0.5
) -> AsyncIterator[AuditEntry]:
    """The entries appended after the first one is asked for, as they come, until the
    caller stops; a rotation meanwhile loses none."""
    import asyncio  # the writers (every server start) and the plain readers do without it

    tail = AuditTail(path, profile=profile)
    while True:
        for entry in tail.read_new():
            yield entry
        await asyncio.sleep(poll_seconds)

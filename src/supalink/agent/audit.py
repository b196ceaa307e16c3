"""The audit of what the agents' servers ran: one JSON line per call in one file that several
server processes (several clients, several profiles) append to at once, rotated by size.

Writers: every append and every rotation happens under the log's exclusive advisory lock
(supalink.files.locked: a lock file beside the log), so no line is torn, interleaved or
written into a file that is being renamed; the line itself is still one
`os.write` on an O_APPEND descriptor. A hold lasts a few microseconds (a rotation: a few
renames), which is why the lock is taken for every line rather than for rotations only:
it is what lets a short write on a full disk be cut back off instead of leaving half a line
for the next one to be glued to. Recording never raises for an OSError: the server keeps
serving without its audit, and says so once in its log.

Readers: `read_entries` for what is there, `follow_entries` and `AuditTail` for what comes.
A line that is not a record (hand-edited, cut by a crash) is skipped, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from supalink.files import HeldLock, lock_path_for, locked

log = logging.getLogger(__name__)

PRIVATE_FILE: Final = 0o600
# A line stays a line: an agent may send megabytes of SQL, and each file is bounded.
MAX_STATEMENT_CHARS: Final = 16_000
MAX_ERROR_CHARS: Final = 2_000
# A follower keeps at most this much of a line whose end is not there yet.
MAX_PENDING_BYTES: Final = 1_000_000
_APPEND_FLAGS: Final = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


# The `tool` of the entry a server records once it has read its login.
LOGIN_TOOL: Final = "(login)"


def utc_stamp(epoch: float | None = None) -> str:
    """`at` for an entry: ISO 8601 in UTC with milliseconds, e.g. 2026-12-01T11:30:00.123Z."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditEntry:
    at: str  # utc_stamp()
    profile: str | None  # None: a server started from a URI in its environment
    tool: str
    statement: str | None  # as the agent sent it, the password masked by the server
    duration_ms: float
    rows: int | None  # returned or affected; None when not applicable or failed
    truncated: bool
    error: str | None  # one line; None when the call succeeded
    writes: bool  # the server let writes through
    pid: int  # the server process
    # A LOGIN entry (the server read its login before its first call): what that login can
    # do that a role made by Supalink could not, and what every role of the database can.
    powers: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        found = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        for name in ("powers", "shared"):  # absent from a call's line, as before
            if found[name]:
                found[name] = list(found[name])
            else:
                del found[name]
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEntry:
        """Read a record back; keys it does not know are ignored (a newer server wrote
        them) and the optional ones may be missing. Raises ValueError for anything that
        is not a record, which readers skip."""
        if not isinstance(data, dict):
            raise ValueError("an audit record is a JSON object")
        return cls(
            at=_get(data, "at", str),
            profile=_get(data, "profile", str, None),
            tool=_get(data, "tool", str),
            statement=_get(data, "statement", str, None),
            duration_ms=float(_get(data, "duration_ms", (int, float))),
            rows=_get(data, "rows", int, None),
            truncated=_get(data, "truncated", bool, False),
            error=_get(data, "error", str, None),
            writes=_get(data, "writes", bool, False),
            pid=_get(data, "pid", int),
            powers=_texts(data, "powers"),
            shared=_texts(data, "shared"),
        )

    @property
    def epoch(self) -> float | None:
        """`at` as seconds since the epoch; None when it is not a time (a hand-edited line)."""
        try:
            moment = datetime.fromisoformat(self.at)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    @property
    def is_login(self) -> bool:
        """Not a call: the server's reading of its login (LOGIN_TOOL)."""
        return self.tool == LOGIN_TOOL

    @property
    def refused(self) -> bool:
        """The guard refused the call before it reached the database: its errors read
        "refused: …" or "refused (KEYWORD): …" (agent/guard.py's StatementRefused)."""
        return self.error is not None and self.error.startswith("refused")


_ENTRY_FIELDS: Final = tuple(field.name for field in fields(AuditEntry))
_MISSING: Final[Any] = object()


def _get(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = _MISSING
) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING or (value is None and default is None):
        if default is _MISSING:
            raise ValueError(f"an audit record needs {key!r}")
        return default
    # bool is an int to isinstance: a flag is no count, and a count is no flag.
    is_bool = isinstance(value, bool)
    wants_bool = kind is bool
    if not isinstance(value, kind) or is_bool != wants_bool:
        raise ValueError(f"{key!r} of an audit record is {type(value).__name__}")
    return value


def _texts(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key!r} of an audit record is not a list of texts")
    return tuple(value)


class AuditLog:
    """The writers' side: `record()` one entry per call."""

    def __init__(self, path: Path, *, max_bytes: int = 5_000_000, backups: int = 3) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.lock_path = lock_path_for(path)
        self._warned = False
        # A line per call: the lock file and (on POSIX) the log itself stay open between
        # calls, which took a third of a query's time through an MCP client when both were
        # opened and closed for every line. Windows cannot rename a file another process
        # holds open, and the writers rotate it: there it is opened for each line.
        self._lock = HeldLock(path)
        self._keep_open = sys.platform != "win32"
        self._fd: int | None = None
        self._fd_identity: tuple[int, int] | None = None

    def record(self, entry: AuditEntry) -> None:
        """Append `entry` as one line, rotating the file once it reaches `max_bytes`. An
        OSError (a read-only folder, a full disk) is logged once and otherwise ignored."""
        line = _encode(_bounded(entry))
        try:
            with self._lock.held():
                if self._append(line) >= self.max_bytes:
                    self._close_log()
                    self._rotate()
        except OSError as error:
            self._close_log()
            self._warn(error)

    def close(self) -> None:
        self._close_log()
        self._lock.close()

    def _append(self, line: bytes) -> int:
        """Write `line`; the file's size after it. Under the lock: the size this measures
        is the file's, and a file another writer rotated away is left for the new one."""
        fd, before = self._log_file()
        try:
            written = os.write(fd, line)
            if written != len(line):
                # Only the lock holder writes: cutting back to `before` removes only ours.
                os.ftruncate(fd, before)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
            return before + written
        finally:
            if not self._keep_open:
                self._close_log()

    def _log_file(self) -> tuple[int, int]:
        """The log's descriptor (the one kept, while it is still the file at `path`) and
        its size."""
        if self._fd is not None:
            try:
                status = os.stat(self.path)
            except FileNotFoundError:
                status = None
            if status is not None and (status.st_dev, status.st_ino) == self._fd_identity:
                return self._fd, status.st_size
            self._close_log()
        fd = os.open(self.path, _APPEND_FLAGS, PRIVATE_FILE)
        status = os.fstat(fd)
        self._fd, self._fd_identity = fd, (status.st_dev, status.st_ino)
        return fd, status.st_size

    def _close_log(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd, self._fd_identity = None, None

    def _rotate(self) -> None:
        """path -> path.1 -> path.2 ...; the oldest beyond `backups` is dropped. The caller
        holds the lock; the size it measured is this lock's, so no one else rotated."""
        if self.backups <= 0:
            os.unlink(self.path)
            return
        for number in range(self.backups - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(rotated_path(self.path, number), rotated_path(self.path, number + 1))
        os.replace(self.path, rotated_path(self.path, 1))

    def _warn(self, error: OSError) -> None:
        if self._warned:
            return
        self._warned = True
        log.warning(
            "the audit log %s cannot be written, the server goes on without it: %s",
            self.path,
            error.strerror or error,
        )


def rotated_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def _bounded(entry: AuditEntry) -> AuditEntry:
    statement, error = entry.statement, entry.error
    if statement is not None and len(statement) > MAX_STATEMENT_CHARS:
        statement = f"{statement[:MAX_STATEMENT_CHARS]}… ({len(statement):,} characters in all)"
    if error is not None:
        error = " ".join(error.splitlines())
        if len(error) > MAX_ERROR_CHARS:
            error = error[:MAX_ERROR_CHARS] + "…"
    if statement is entry.statement and error == entry.error:
        return entry
    return replace(entry, statement=statement, error=error)


# Built once: json.dumps with options builds an encoder for each line, a third of a record's
# cost.
_LINE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ASCII_LINE: Final = json.JSONEncoder(separators=(",", ":"))


def _encode(entry: AuditEntry) -> bytes:
    record = entry.as_json()
    try:
        return (_LINE.encode(record) + "\n").encode()
    except UnicodeEncodeError:  # a lone surrogate from the agent's JSON: escape it instead
        return (_ASCII_LINE.encode(record) + "\n").encode()


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
    try:
        names = [item.name for item in path.parent.iterdir()]
    except FileNotFoundError:
        return []
    prefix = f"{path.name}."
    numbers = sorted(
        (int(name[len(prefix) :]) for name in names
         if name.startswith(prefix) and name[len(prefix) :].isdigit()),
        reverse=True,
    )  # fmt: skip
    candidates = [rotated_path(path, number) for number in numbers] + [path]
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
        # the file rotated last, read once, on the first look.
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
        """The end of the file rotated last, once: a backlog the current file is too short
        for. Read before anything new, so the order stays oldest first."""
        wanted, self._older_backlog = self._older_backlog, 0
        with locked(self.path, create=False):
            handle = _open_existing(rotated_path(self.path, 1))
        if handle is None:
            return []
        with handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - wanted)
            handle.seek(start)
            data = handle.read(size - start)
        if start > 0:  # the first line read is most likely cut
            data = data.partition(b"\n")[2]
        return [
            entry for raw in data.splitlines() if (entry := _parse(raw, self.profile)) is not None
        ]

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

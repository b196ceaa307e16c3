"""Writing the audit: one JSON line per entry in one file that several server processes
(several clients, several profiles) append to at once, rotated by size.

Every append and every rotation happens under the log's exclusive advisory lock
(supalink.files.locked: a lock file beside the log), so no line is torn, interleaved or
written into a file that is being renamed; the line itself is still one `os.write` on an
O_APPEND descriptor. A hold lasts a few microseconds (a rotation: a few renames), which is
why the lock is taken for every line rather than for rotations only: it is what lets a
short write on a full disk be cut back off instead of leaving half a line for the next one
to be glued to. Recording never raises for an OSError: the server keeps serving without its
audit, and says so once in its log.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Final

from supalink.agent.audit_entry import AuditEntry
from supalink.files import HeldLock, lock_path_for

log = logging.getLogger(__name__)

PRIVATE_FILE: Final = 0o600
# A line stays a line: an agent may send megabytes of SQL, and each file is bounded.
MAX_STATEMENT_CHARS: Final = 16_000
MAX_ERROR_CHARS: Final = 2_000
_APPEND_FLAGS: Final = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


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

"""Writing the audit: one JSON line per entry in files that several server processes
(several clients, several profiles) append to at once, kept within a bound on disk.

Retention: the log is `audit.jsonl` and up to `max_files - 1` rotated files beside it
(`audit.jsonl.1` the newest). A line that would take the current file past `max_bytes`
first moves it to `.1` (and `.1` to `.2`, …), and only a rotation that would make more than
`max_files` files drops the oldest: the files never pass `max_files * max_bytes` (the
defaults: 20 files of 5 MB, 100 MB). Nothing is dropped for its age. As no line passes
MAX_LINE_BYTES whatever it holds, full files keep at least `entries_kept_at_least()` lines
(the defaults: 10,090) and 19 files of more than 4,990,600 bytes: a week of calls stays
unless that week wrote more than that.

Each entry goes through BurstSummary (audit_bursts.py), which keeps a burst of refused calls
as its first calls and summaries, and is written as encode_line's line (audit_line.py).

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
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from supalink.agent.audit_bursts import BurstSummary
from supalink.agent.audit_entry import AuditEntry
from supalink.agent.audit_line import MAX_LINE_BYTES, AnswerLines, encode_line
from supalink.files import HeldLock, lock_path_for

log = logging.getLogger(__name__)

PRIVATE_FILE: Final = 0o600
DEFAULT_MAX_BYTES: Final = 5_000_000
DEFAULT_MAX_FILES: Final = 20  # 100 MB at most

_APPEND_FLAGS: Final = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def entries_kept_at_least(max_bytes: int, max_files: int) -> int:
    """The fewest lines the files keep once they are full: a rotated file holds more than
    `max_bytes - MAX_LINE_BYTES` bytes (the next line did not fit), the current at least
    the last line."""
    return (max_files - 1) * (max_bytes // MAX_LINE_BYTES) + 1


class AuditLog:
    """The writers' side: `record()` one entry per call; `close()` at the server's end."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_bytes < 1 or max_files < 1:
            raise ValueError("an audit log needs max_bytes >= 1 and max_files >= 1")
        self.path = path
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.lock_path = lock_path_for(path)
        self.bursts = BurstSummary(clock)
        self.answer_lines = AnswerLines()  # what `record_line` takes, made the quick way
        self._warned = False
        # A line per call: the lock file and (on POSIX) the log itself stay open between
        # calls, which took a third of a query's time through an MCP client when both were
        # opened and closed for every line. Windows cannot rename a file another process
        # holds open, and the writers rotate it: there it is opened for each line.
        self._lock = HeldLock(path)
        self._keep_open = sys.platform != "win32"
        self._fd: int | None = None
        self._fd_identity: tuple[int, int] | None = None

    @property
    def max_disk_bytes(self) -> int:
        """What the log's files take at most, all together."""
        return self.max_files * self.max_bytes

    def record(self, entry: AuditEntry) -> None:
        """Append `entry` as one line (a refused call in a burst: counted into the burst's
        summary instead), rotating first when the line would take the file past
        `max_bytes`. An OSError (a read-only folder, a full disk) is logged once and
        otherwise ignored."""
        self._write(self.bursts.admit(entry))

    def record_line(self, line: bytes) -> None:
        """Append the line of an entry that was not refused, already encoded (`answer_lines`
        gives `encode_line`'s bytes): as `record` would, after whatever summary is due."""
        self._write_lines([*map(encode_line, self.bursts.admit_unrefused()), line])

    def flush_if_quiet(self) -> None:
        """Write the summary of a burst that has ended, without waiting for the next call:
        what a server with an event loop calls at BurstSummary.quiet_at."""
        self._write(self.bursts.flush_if_quiet())

    def close(self) -> None:
        """Write the summary of a burst still going on, and let go of the files."""
        self._write(self.bursts.flush())
        self._close_log()
        self._lock.close()

    def _write(self, entries: list[AuditEntry]) -> None:
        if entries:
            self._write_lines([encode_line(entry) for entry in entries])

    def _write_lines(self, lines: list[bytes]) -> None:
        try:
            with self._lock.held():
                for line in lines:
                    self._append(line)
        except OSError as error:
            self._close_log()
            self._warn(error)

    def _append(self, line: bytes) -> None:
        """Write `line`, after a rotation when the file cannot take it. Under the lock: the
        size this measures is the file's, and a file another writer rotated away is left
        for the new one."""
        assert len(line) <= MAX_LINE_BYTES, len(line)
        fd, before = self._log_file()
        try:
            if before > 0 and before + len(line) > self.max_bytes:
                self._close_log()  # Windows renames no open file
                self._rotate()
                fd, before = self._log_file()
            written = os.write(fd, line)
            if written != len(line):
                # Only the lock holder writes: cutting back to `before` removes only ours.
                os.ftruncate(fd, before)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
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
        """path -> path.1 -> path.2 ...; the file that would be the (max_files + 1)-th is
        dropped, and any numbered past it (left by a setting of more files). The caller
        holds the lock; the size it measured is this lock's, so no one else rotated."""
        kept = self.max_files - 1  # rotated files beside the current one
        for number in rotated_numbers(self.path):
            if number >= kept:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(rotated_path(self.path, number))
        if kept == 0:
            os.unlink(self.path)
            return
        for number in range(kept - 1, 0, -1):
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


def rotated_numbers(path: Path) -> list[int]:
    """The numbers of the rotated files beside `path`, lowest (newest) first."""
    try:
        names = [item.name for item in path.parent.iterdir()]
    except FileNotFoundError:
        return []
    prefix = f"{path.name}."
    suffixes = (name[len(prefix) :] for name in names if name.startswith(prefix))
    # Only the names rotated_path() gives: not "01", "0" or "²" (a digit to str.isdigit).
    return sorted(
        int(suffix)
        for suffix in suffixes
        if suffix.isascii() and suffix.isdigit() and not suffix.startswith("0")
    )

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

A burst of refused calls (BurstSummary) is kept as its first calls and summaries that stand
for the rest, so a flood of them cannot push what came before out of the files.

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
import hashlib
import json
import logging
import os
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Final

from supalink.agent.audit_entry import AuditEntry
from supalink.agent.byte_budget import utf8_len
from supalink.files import HeldLock, lock_path_for

log = logging.getLogger(__name__)

PRIVATE_FILE: Final = 0o600
DEFAULT_MAX_BYTES: Final = 5_000_000
DEFAULT_MAX_FILES: Final = 20  # 100 MB at most

# ----- one line's bound ------------------------------------------------------------------
# Counted as written, JSON escapes included: a control character takes 6 bytes (\u001f),
# an emoji 4, so a cap in characters or in UTF-8 alone would not bound the line. With the
# defaults, (20 - 1) files * (5,000,000 // 9,400) lines + 1 >= 10,000 entries are kept.
MAX_LINE_BYTES: Final = 9_400
MAX_STATEMENT_BYTES: Final = 8_192  # of UTF-8; what the line cannot hold is cut too
MAX_ERROR_BYTES: Final = 1_024
MIN_ERROR_BYTES: Final = 256  # what a long error keeps when the statement needs its room
MAX_TEXT_BYTES: Final = 128  # any other text: a time, a profile, a tool, a rule, a client…
MAX_POWER_BYTES: Final = 512  # one item of `powers` or `shared`
MAX_POWERS_BYTES: Final = 4_096  # both lists together
CUT: Final = "…"
_MORE_BYTES: Final = 24  # room for the item that says how many more were left out
_MAX_INT: Final = 2**63 - 1  # a count past any database's, and at most 20 characters

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
        if not entries:
            return
        lines = [encode_line(entry) for entry in entries]
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


# ----- bursts of refused calls -------------------------------------------------------------
# A burst: more than BURST_CALLS refused calls within BURST_SECONDS. An agent's model takes
# a turn to write each call; even with calls made in parallel, ten refusals within ten
# seconds is a script, or a loop retrying what will not pass.
BURST_CALLS: Final = 10
BURST_SECONDS: Final = 10.0
BURST_SHOWN: Final = 10  # a burst's first calls, written as they come with its id
BURST_QUIET_SECONDS: Final = 10.0  # no refused call for this long ends a burst
# A long burst still shows while it goes on: its summary so far is written this often.
SUMMARY_SECONDS: Final = 60.0
SUMMARY_CALLS: Final = 1_000


@dataclass
class _Pending:
    first: AuditEntry
    last: AuditEntry
    count: int
    since: float  # the clock's time of its first call


class BurstSummary:
    """What becomes of refused calls that come fast, in the writer's process (one server).

    The calls before a burst is seen are written as usual (nothing marks them: no one knew
    yet); the call that makes it a burst and the next ones, BURST_SHOWN in all, are written
    as they come with the burst's `burst` id; the rest are counted into one summary entry
    with that id: the last call's entry with `count`, `at` its first call's time and
    `last_at` its last's. Any other call is written at once, a burst or not.

    It needs no timer of its own (the writer has no event loop): a summary is written at the
    first `admit()` after BURST_QUIET_SECONDS without a refused call, at `flush()` (the
    log's close), and while the burst goes on once it stands for SUMMARY_CALLS calls or its
    first is SUMMARY_SECONDS old (at the next call). A server killed outright loses at most
    that one summary; the burst's first calls are on disk already.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.burst: str | None = None  # the id of the burst going on
        self._recent: deque[float] = deque(maxlen=BURST_CALLS + 1)  # refused calls' times
        self._last_refused = -float("inf")
        self._shown = 0
        self._pending: _Pending | None = None

    def admit(self, entry: AuditEntry) -> list[AuditEntry]:
        """What to write now that `entry` was recorded, oldest first."""
        now = self.clock()
        due = []
        if now - self._last_refused >= BURST_QUIET_SECONDS:
            due += self.flush()
        elif self._pending is not None and now - self._pending.since >= SUMMARY_SECONDS:
            due += self._summary()
        if not entry.refused:
            return [*due, entry]
        self._last_refused = now
        if self.burst is None:
            self._recent.append(now)
            if len(self._recent) <= BURST_CALLS or now - self._recent[0] > BURST_SECONDS:
                return [*due, entry]
            self.burst, self._shown = secrets.token_hex(4), 0
        if self._shown < BURST_SHOWN:
            self._shown += 1
            return [*due, replace(entry, burst=self.burst)]
        if self._pending is None:
            self._pending = _Pending(entry, entry, 1, now)
        else:
            self._pending.last, self._pending.count = entry, self._pending.count + 1
        if self._pending.count >= SUMMARY_CALLS:
            due += self._summary()
        return due

    @property
    def quiet_at(self) -> float | None:
        """When the burst going on ends unless another refused call comes (on `clock`), if a
        summary is waiting for it; None: nothing waits."""
        if self._pending is None:
            return None
        return self._last_refused + BURST_QUIET_SECONDS

    def flush_if_quiet(self) -> list[AuditEntry]:
        """The summary, once the burst has been quiet long enough to be over."""
        due = self.quiet_at
        return self.flush() if due is not None and self.clock() >= due else []

    def flush(self) -> list[AuditEntry]:
        """The summary of the burst going on, if any, which ends it."""
        due = self._summary()
        self.burst = None
        self._recent.clear()
        return due

    def _summary(self) -> list[AuditEntry]:
        pending, self._pending = self._pending, None
        if pending is None:
            return []
        if pending.count == 1:
            return [replace(pending.last, burst=self.burst)]
        return [
            replace(
                pending.last,
                at=pending.first.at,
                last_at=pending.last.at,
                count=pending.count,
                burst=self.burst,
            )
        ]


# ----- the line ----------------------------------------------------------------------------
# Built once: json.dumps with options builds an encoder for each line, a third of a record's
# cost. A lone surrogate (from the agent's JSON) cannot be UTF-8: it is written as its JSON
# escape (\ud800), which reads back as itself; the rest of the line stays as it is.
_LINE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dump(record: dict[str, Any]) -> bytes:
    return (_LINE.encode(record) + "\n").encode("utf-8", "backslashreplace")


def _json_bytes(text: str) -> int:
    """What `text` takes inside a line, its quotes left out."""
    return len(_LINE.encode(text).encode("utf-8", "backslashreplace")) - 2


def _fields_of(*kinds: str) -> tuple[str, ...]:
    """The entry's fields declared as one of `kinds`: a field added later is bounded too."""
    return tuple(field.name for field in fields(AuditEntry) if field.type in kinds)


_SHORT_TEXTS: Final = tuple(
    name for name in _fields_of("str", "str | None") if name not in ("statement", "error")
)
_NUMBERS: Final = _fields_of("int", "int | None")
_TEXT_LISTS: Final = _fields_of("tuple[str, ...]")


def encode_line(entry: AuditEntry) -> bytes:
    """`entry` as its line in the log, at most MAX_LINE_BYTES: each text cut to its bound on
    a character boundary (the cut marked with CUT), the error on one line, the lists and the
    numbers bounded. What the line still cannot hold is taken from the error's end, down to
    MIN_ERROR_BYTES, then from the statement's: the statement is the call's evidence, and an
    error says what it is in its first words. A statement cut here that was not cut before
    gets the whole one's length and SHA-256 (`statement_chars`, `statement_sha256`)."""
    record = entry.as_json()
    for key in _SHORT_TEXTS:
        if record.get(key) is not None:
            record[key] = _fit(record[key], MAX_TEXT_BYTES)
    for key in _NUMBERS:
        if record.get(key) is not None:
            record[key] = max(-_MAX_INT, min(_MAX_INT, record[key]))
    error = record["error"]
    if error is not None:
        error = record["error"] = _fit(" ".join(error.splitlines()), MAX_ERROR_BYTES)
    room = MAX_POWERS_BYTES
    for key in _TEXT_LISTS:
        if key in record:
            record[key], room = _fit_texts(record[key], room)
    statement = record["statement"]
    if statement is None:
        return _dump(record)
    if len(statement) * 4 <= MAX_STATEMENT_BYTES:
        # Within its own bound whatever it holds: most calls' lines are measured once.
        line = _dump(record)
        if len(line) <= MAX_LINE_BYTES:
            return line
    capped = _fit(statement, utf8_bytes=MAX_STATEMENT_BYTES)
    record["statement"] = ""
    over = len(_dump(record)) + _json_bytes(capped) - MAX_LINE_BYTES
    if over > 0 and error is not None:
        record["error"] = _fit(error, max(MIN_ERROR_BYTES, _json_bytes(error) - over))
    fitted = _fit_statement(record, capped)
    if fitted != statement and record.get("statement_chars") is None:
        record["statement_chars"] = len(statement)
        record["statement_sha256"] = hashlib.sha256(
            statement.encode("utf-8", "surrogatepass")
        ).hexdigest()
        fitted = _fit_statement(record, capped)
    record["statement"] = fitted
    return _dump(record)


def _fit_statement(record: dict[str, Any], statement: str) -> str:
    """The statement within what the rest of the line leaves."""
    record["statement"] = ""
    return _fit(statement, MAX_LINE_BYTES - len(_dump(record)))


def _fit(text: str, json_bytes: int = sys.maxsize, *, utf8_bytes: int = sys.maxsize) -> str:
    """`text`, or its longest head that with CUT after it takes at most `json_bytes` in the
    line and `utf8_bytes` of UTF-8."""

    def fits(candidate: str) -> bool:
        # No character takes more than 4 bytes of UTF-8 or 6 in a line (a control
        # character's escape): a text short enough is not measured.
        if len(candidate) * 4 > utf8_bytes and utf8_len(candidate) > utf8_bytes:
            return False
        return len(candidate) * 6 <= json_bytes or _json_bytes(candidate) <= json_bytes

    if fits(text):
        return text
    # text[:low] + CUT fits; text[:high] + CUT does not (each character takes a byte or more).
    low, high = 0, min(len(text), json_bytes + 1, utf8_bytes + 1)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(text[:middle] + CUT):
            low = middle
        else:
            high = middle
    return text[:low] + CUT


def _fit_texts(items: list[str], room: int) -> tuple[list[str], int]:
    """The items that fit in `room` bytes of a line, each within MAX_POWER_BYTES, and one
    that says how many more there were; and the room left."""
    kept: list[str] = []
    for index, item in enumerate(items):
        text = _fit(item, MAX_POWER_BYTES)
        cost = _json_bytes(text) + 3  # its quotes and a comma
        if cost > room - _MORE_BYTES:
            kept.append(f"{CUT} and {len(items) - index} more")
            room -= _json_bytes(kept[-1]) + 3
            break
        kept.append(text)
        room -= cost
    return kept, room

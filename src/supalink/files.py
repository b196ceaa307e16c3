"""The one safe read of a user's file (a plain file only, never blocking, bounded in size;
its JSON bounded in nesting), the one atomic file replacement (the old file or the new one,
never half of either) and the one advisory lock that makes a read-modify-write of a shared
file safe across processes."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import json

PRIVATE_MODE = 0o600


# ----- the safe read of a file a user (or another program) may have put anything in -------
# A config or settings file is a few kB; Claude Code's ~/.claude.json, the largest a client
# keeps, some MB. Past this, a "file" is a mistake (a symlink to /dev/zero, a log): refused.
MAX_READ_BYTES: Final = 64 * 1024 * 1024
# JSON nested deeper than this is refused: nothing Supalink reads nests past ten, and
# Python's own parser, its printer and its comparisons recurse (RecursionError, about 1,000).
MAX_JSON_NESTING: Final = 256
_READ_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS_MORE: Final = getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_KINDS: Final = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotAPlainFile(OSError):
    """Something that is not a file stands where a file is read (a FIFO, a device, a
    socket): never opened in a way that could block, never read. `kind` says what it is."""

    def __init__(self, path: Path | str, kind: str) -> None:
        super().__init__(None, f"it is {kind}, not a plain file")
        self.filename = str(path)
        self.kind = kind


class FileTooLarge(OSError):
    """The file holds more than `limit` bytes, the most Supalink reads of it."""

    def __init__(self, path: Path | str, limit: int) -> None:
        super().__init__(errno.EFBIG, f"it is larger than {_size(limit)}, the most Supalink reads")
        self.filename = str(path)
        self.limit = limit


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _check_plain(status: os.stat_result, path: Path | str) -> None:
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a file")
        raise NotAPlainFile(path, kind)


@contextlib.contextmanager
def _opened_plain(path: Path | str) -> Iterator[int]:
    """A descriptor of the plain file at `path` (through symlinks). Checked before the open
    (a FIFO's open waits for a writer, a device's may do anything) and on the descriptor
    after it (the name may have been pointed elsewhere in between: O_NONBLOCK keeps even
    that open from waiting)."""
    _check_plain(os.stat(path), path)
    fd = os.open(path, _READ_FLAGS | _READ_FLAGS_MORE)
    try:
        _check_plain(os.fstat(fd), path)
        yield fd
    finally:
        os.close(fd)


def read_plain_file(path: Path | str, *, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of the plain file at `path`, at most `limit` of them. FileNotFoundError when
    there is none, IsADirectoryError for a folder, NotAPlainFile for a FIFO, device or
    socket, FileTooLarge past `limit`, any other OSError as the OS says it; none of them
    waits on the file."""
    with _opened_plain(path) as fd:
        size = os.fstat(fd).st_size
        if size > limit:
            raise FileTooLarge(path, limit)
        chunks = []
        total = 0
        while chunk := os.read(fd, min(max(size - total, 0) + 65536, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise FileTooLarge(path, limit)
        return b"".join(chunks)


def read_plain_tail(path: Path | str, count: int) -> tuple[bytes, bool]:
    """The last `count` bytes of the plain file at `path` (a log, which may be gigabytes),
    and whether anything came before them; the errors of `read_plain_file`, none past a
    size."""
    with _opened_plain(path) as fd:
        start = max(0, os.fstat(fd).st_size - count)
        os.lseek(fd, start, os.SEEK_SET)
        chunks = []
        total = 0
        while total < count and (chunk := os.read(fd, count - total)):
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks), start > 0


class JsonTooDeep(ValueError):
    """JSON nested deeper than `limit` levels (arrays and objects within each other)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"it is nested deeper than {limit} levels")
        self.limit = limit


def parse_json(text: str, decoder: json.JSONDecoder | None = None, *, jsonc: bool = False) -> Any:
    """`text` decoded (by `decoder`, or json's own), its nesting bounded: JsonTooDeep past
    MAX_JSON_NESTING levels, where the parser would raise RecursionError or what reads the
    value next (a comparison, a printer) could; json.JSONDecodeError as usual. With `jsonc`,
    the comments and trailing commas of JSONC (VS Code's and Zed's settings) are read as the
    whitespace they stand for (`jsonc_as_json`), so an error's line and column are the file's."""
    import json

    if jsonc:
        text = jsonc_as_json(text)
    try:
        value = json.loads(text) if decoder is None else decoder.decode(text)
    except RecursionError:
        raise JsonTooDeep(MAX_JSON_NESTING) from None
    if _nesting_exceeds(value, MAX_JSON_NESTING):
        raise JsonTooDeep(MAX_JSON_NESTING)
    return value


class UnclosedComment(ValueError):
    """A `/*` with no `*/` after it: where the comment starts."""

    def __init__(self, position: int) -> None:
        super().__init__("a comment that is never closed (/* without */)")
        self.position = position


def jsonc_as_json(text: str, *, commas: bool = True) -> str:
    """JSONC as the JSON it means, of the same length, every character where it was: each
    comment (`//` to the line's end, `/* */`) becomes spaces (its line breaks kept), and a
    comma whose next token closes an object or array a space. What reads the result finds
    positions, lines and columns that are the original's, so an editor can cut the original
    text at them and keep every comment outside what it replaces. Without `commas`, trailing
    commas stay (where an editor looks for them). UnclosedComment for a `/*` never closed;
    anything else that is not JSON is left for the JSON parser to name."""
    if "/" not in text and "," not in text:
        return text
    out = list(text)
    index, length = 0, len(text)
    comma: int | None = None  # the last comma outside strings, while only blanks follow it
    while index < length:
        char = text[index]
        if char == '"':
            comma = None
            index += 1
            while index < length and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            index += 1
            continue
        if char == "/" and text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end == -1 else end
            out[index:end] = _blank(text[index:end])
            index = end
            continue
        if char == "/" and text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end == -1:
                raise UnclosedComment(index)
            out[index : end + 2] = _blank(text[index : end + 2])
            index = end + 2
            continue
        if char in "}]" and comma is not None and commas:
            out[comma] = " "
        if char not in " \t\r\n":
            comma = index if char == "," else None
        index += 1
    return "".join(out)


def _blank(comment: str) -> list[str]:
    """A comment's characters as spaces, its line breaks (CR and LF) kept."""
    return [char if char in "\r\n" else " " for char in comment]


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests arrays and objects more than `limit` deep (without recursion)."""
    pending: list[tuple[dict[Any, Any] | list[Any], int]] = []
    if isinstance(value, dict | list):
        pending.append((value, 1))
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def resolve_link(path: Path) -> Path:
    """The file a symlink points at, so a write replaces the target and keeps the link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` through a fsynced temporary file in the same folder.

    An existing file keeps its permission bits (and owner, when we may set it)
    unless `mode` is given; a new file gets `mode` or 0600. Returns the file
    actually written (the symlink's target when `path` is a link).
    """
    target = resolve_link(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    # Here, not at the top: tempfile brings shutil and random (some 7 ms), and a reader of
    # the settings file at the app's start writes nothing.
    import tempfile

    kept_mode = existing.st_mode & 0o7777 if existing else PRIVATE_MODE
    final_mode = mode if mode is not None else kept_mode
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fchmod(temp.fileno(), final_mode)
            if existing is not None and hasattr(os, "fchown"):
                with contextlib.suppress(PermissionError):
                    os.fchown(temp.fileno(), existing.st_uid, existing.st_gid)
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_folder(target.parent)
    return target


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----- the advisory lock of a file that several processes read, change and write back ----
PRIVATE_FOLDER = 0o700
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def lock_path_for(path: Path) -> Path:
    """The lock file beside `path`: `<name>.lock` in the same folder (Supalink's own files)."""
    return path.with_name(f"{path.name}.lock")


def lock_path_in(folder: Path, path: Path) -> Path:
    """The lock file of `path` kept in `folder` (Supalink's), not beside it: for a file in
    another program's folder (an MCP client's config), which should hold nothing of ours.
    Named by the file's resolved path, so every name of one file shares one lock."""
    import hashlib

    digest = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:16]
    return folder / f"{path.name}-{digest}.lock"


@contextlib.contextmanager
def locked(path: Path, *, create: bool = True, lock_file: Path | None = None) -> Iterator[None]:
    """Hold the exclusive advisory lock of `path` (fcntl.flock on POSIX, msvcrt.locking on
    Windows, on its lock file: `lock_file`, or `<name>.lock` beside it) for a
    read-modify-write: every writer of the file re-reads it under this lock, so no change is
    computed from a copy another one replaced.

    The lock guards the file's contents, not its name: lock the file a symlink points at
    (`resolve_link`) so two names of one file share one lock. Without `create`, a reader that
    finds no lock file (nothing was ever written) or may not open or lock it (a folder it may
    only read) goes on without one; with it, a missing folder is made, private."""
    fd = _open_lock(lock_file or lock_path_for(path), create=create)
    held = False
    try:
        if fd is not None:
            try:
                _lock(fd)
                held = True
            except OSError:
                if create:
                    raise
        try:
            yield
        finally:
            if held and fd is not None:
                _unlock(fd)
    finally:
        if fd is not None:
            os.close(fd)


class HeldLock:
    """`locked(path)` for a writer that takes the lock again and again (the agent's audit
    log, once per call): its lock file stays open between holds, a lock and an unlock per
    hold instead of an open and a close as well. A failed hold forgets the file."""

    def __init__(self, path: Path) -> None:
        self.lock_path = lock_path_for(path)
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        try:
            if self._fd is None:
                self._fd = _open_lock(self.lock_path, create=True)
            assert self._fd is not None
            _lock(self._fd)
        except BaseException:
            self.close()
            raise
        try:
            yield
        finally:
            _unlock(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _open_lock(lock_path: Path, *, create: bool) -> int | None:
    if not create:
        try:
            return os.open(lock_path, os.O_RDONLY)
        except (FileNotFoundError, PermissionError):
            return None
    try:
        return os.open(lock_path, _LOCK_FLAGS, PRIVATE_MODE)
    except FileNotFoundError:  # the first write ever: its folder is not there yet
        lock_path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        return os.open(lock_path, _LOCK_FLAGS, PRIVATE_MODE)


if sys.platform == "win32":
    import msvcrt

    # LK_LOCK retries for about 10 s before it raises: a bound on a stuck holder.
    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

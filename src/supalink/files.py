"""The one atomic file replacement (the old file or the new one, never half of either) and
the one advisory lock that makes a read-modify-write of a shared file safe across processes."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRIVATE_MODE = 0o600


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
    final_mode = mode if mode is not None else (
        existing.st_mode & 0o7777 if existing else PRIVATE_MODE
    )  # fmt: skip
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
    """The lock file beside `path`: `<name>.lock` in the same folder."""
    return path.with_name(f"{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, *, create: bool = True) -> Iterator[None]:
    """Hold the exclusive advisory lock of `path` (fcntl.flock on POSIX, msvcrt.locking on
    Windows, on its lock file beside it) for a read-modify-write: every writer of the file
    re-reads it under this lock, so no change is computed from a copy another one replaced.

    The lock guards the file's contents, not its name: lock the file a symlink points at
    (`resolve_link`) so two names of one file share one lock. Without `create`, a reader that
    finds no lock file (nothing was ever written) or may not open or lock it (a folder it may
    only read) goes on without one; with it, a missing folder is made, private."""
    fd = _open_lock(lock_path_for(path), create=create)
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

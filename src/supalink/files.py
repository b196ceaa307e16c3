"""The one atomic file replacement: the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
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

"""Errors whose message is meant for the person at the keyboard."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path


class SupalinkError(Exception):
    """A failure to report as one clear line; the CLI exits 1."""


class UsageError(SupalinkError):
    """Bad input from the user; the CLI exits 2."""


class FileFault(SupalinkError):
    """A file Supalink reads, writes or starts could not be: "cannot ACTION PATH: CAUSE", the
    one sentence the CLI prints and the windows show. Nothing was changed."""

    def __init__(self, action: str, path: Path | str, cause: str, code: int | None = None):
        super().__init__(f"cannot {action} {path}: {cause}")
        self.action = action
        self.path = Path(path)
        self.cause = cause
        self.errno = code

    @classmethod
    def of(cls, action: str, path: Path | str, error: OSError) -> FileFault:
        return cls(action, path, os_error_cause(error, Path(path), action), error.errno)


_CAUSES = {
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop)",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "an input/output error (the disk or its connection failed)",
    errno.EMFILE: "too many open files",
    errno.ENFILE: "too many open files",
    errno.ETXTBSY: "the file is busy (a program runs from it)",
    errno.ENOEXEC: "it is not a program this system can run",
}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _CAUSES[errno.EDQUOT] = "the disk quota is used up"


def os_error_cause(error: OSError, path: Path, action: str = "write") -> str:
    """What went wrong with `path`, in words: the one vocabulary of file-system failures."""
    code = error.errno
    if code in (errno.EACCES, errno.EPERM, errno.EISDIR) and os.path.isdir(path):
        return "it is a folder, not a program" if action == "start" else _CAUSES[errno.EISDIR]
    if code in (errno.EACCES, errno.EPERM):
        failed = Path(error.filename) if isinstance(error.filename, str) else path
        if failed != path and failed.parent == path.parent:
            # The lock or the temporary file beside it: the folder is what refuses.
            return "its folder is read-only (permission denied)"
        if action == "start":
            return "permission denied (it is not executable)"
        return "permission denied"
    if code is not None and code in _CAUSES:
        return _CAUSES[code]
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


@contextlib.contextmanager
def file_faults(action: str, path: Path | str) -> Iterator[None]:
    """Turn an OSError inside into a FileFault naming `path` (the file the user knows, not a
    lock or temporary file beside it) and the cause."""
    try:
        yield
    except OSError as error:
        raise FileFault.of(action, path, error) from None

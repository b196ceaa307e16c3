"""Errors whose message is meant for the person at the keyboard, and the kinds they come in.

An error carries its facts and a kind; the CLI chooses its exit code from the kind
(cli.py), and the sentence an error says is written in sentences.py."""

from __future__ import annotations

import contextlib
import enum
import errno
import os
from collections.abc import Iterator
from pathlib import Path


class Kind(enum.Enum):
    """What sort of failure an error is, whoever raised it."""

    BAD_INPUT = "bad input"  # a value given cannot be used as it is: a name, a setting, a URI
    NOT_FOUND = "not found"  # a saved profile (or what it keeps in the keyring) is not there
    CONFLICT = "conflict"  # a saved profile has that name already
    FAILED = "failed"  # tried, and a server, the keyring or a file refused or failed


class SupalinkError(Exception):
    """A failure to report as one clear line."""

    kind: Kind = Kind.FAILED


# An error of another kind than FAILED derives from the base of its kind.
class BadInput(SupalinkError):
    kind = Kind.BAD_INPUT


class NotFound(SupalinkError):
    kind = Kind.NOT_FOUND


class Conflict(SupalinkError):
    kind = Kind.CONFLICT


class UsageError(BadInput):
    """Bad input a command found in its own arguments (commands/ raise it; a capability
    package raises a BadInput of its own)."""


class Worded(SupalinkError):
    """An error put in a front end's own words (its flags, what to do next), of the kind
    of the error it words."""

    def __init__(self, message: str, kind: Kind) -> None:
        super().__init__(message)
        self.kind = kind


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

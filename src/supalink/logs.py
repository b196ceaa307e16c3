"""Logging to a rotating file, with secrets masked before anything is written."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import string
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging.handlers

MASK = "****"

# user:password@ inside any URI; greedy up to the last '@' of the token, so an
# unencoded '@' in a password is masked too. Found from each "://" (see _mask_uri_passwords):
# one pattern for the whole, scheme first, tried again at every letter of a long word, took
# 17 s for a 100 kB statement.
_LETTERS = frozenset(string.ascii_letters)
_URI_SCHEME_CHARS = _LETTERS | frozenset(string.digits + "+.-")
_URI_USER = re.compile(r"[^:/@\s]*:")
_TOKEN_END = re.compile(r"\s|$")
# ?password=... and &password=... in a URI's query: the value ends where the parameter does
# ('&', '#', whitespace, or the '"' closing a JSON string), so the parameters after it stay.
_QUERY_PASSWORD = re.compile(r'(?P<head>[?&]password=)(?P<secret>(?:\\.|[^&#\s"\\])*)', re.I)
# password=... in a libpq conninfo string (quoted or bare, up to the next space),
# PGPASSWORD=... in env dumps and --password=VALUE; not a URI's query, above.
_KEY_VALUE_PASSWORD = re.compile(
    r"(?P<head>(?<![?&\w])(?:password|PGPASSWORD)\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)",
    re.IGNORECASE,
)
_JSON_PASSWORD = re.compile(r'(?P<head>"password"\s*:\s*)(?P<secret>"(?:[^"\\]|\\.)*")', re.I)
# A `--password VALUE` pair on a command line, and the same pair in a JSON args list.
_ARGUMENT_PASSWORD = re.compile(
    r"(?P<head>(?<![\w-])--password\s+)"
    r"""(?P<secret>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""",
    re.I,
)
# A Supabase personal access token by its shape, wherever it turns up (a second safeguard:
# the token is also added as a secret where it is used).
_ACCESS_TOKEN = re.compile(r"\bsbp_[0-9a-f]{40}\b")
_JSON_ARGUMENT_PASSWORD = re.compile(
    r'(?P<head>"--password"\s*,\s*)(?P<secret>"(?:[^"\\]|\\.)*")', re.I
)


class SecretMasker:
    """Masks URI passwords, conninfo passwords and any secret registered with it."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        # Very short strings would mask ordinary words; they are still masked in URIs.
        if len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            self.add_secret(secret)

    def mask(self, text: str) -> str:
        text = _mask_uri_passwords(text)
        text = _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, text)
        text = _KEY_VALUE_PASSWORD.sub(lambda m: m["head"] + MASK, text)
        text = _ARGUMENT_PASSWORD.sub(lambda m: m["head"] + MASK, text)
        text = _JSON_PASSWORD.sub(lambda m: m["head"] + f'"{MASK}"', text)
        text = _JSON_ARGUMENT_PASSWORD.sub(lambda m: m["head"] + f'"{MASK}"', text)
        text = _ACCESS_TOKEN.sub(MASK, text)
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text


def _mask_uri_passwords(text: str) -> str:
    """What `[A-Za-z][A-Za-z0-9+.-]*://[^:/@\\s]*:` then `\\S*(?=@)` would mask, in time
    linear in the text: the scheme is read back from each "://", the password runs to the
    last '@' of its whitespace-free token."""
    pieces: list[str] = []
    done = 0  # text before this is settled
    token_end = last_at = -1  # of the token the latest "://" is in
    found = text.find("://")
    while found >= 0:
        start = found
        while start > done and text[start - 1] in _URI_SCHEME_CHARS:
            start -= 1
        while start < found and text[start] not in _LETTERS:  # a scheme starts with one
            start += 1
        user = _URI_USER.match(text, found + 3)
        if start < found and user is not None:
            if found >= token_end:
                ending = _TOKEN_END.search(text, found)
                token_end = ending.start() if ending is not None else len(text)
                last_at = text.rfind("@", found, token_end)
            if last_at >= user.end():
                pieces.append(text[done : user.end()])
                pieces.append(MASK)
                done = last_at
                found = text.find("://", last_at)
                continue
        found = text.find("://", found + 3)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record, tracebacks included."""

    def __init__(self, masker: SecretMasker, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.masker = masker

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    log_file: Path,
    masker: SecretMasker,
    *,
    level: int = logging.INFO,
    max_bytes: int = 1_000_000,
    backup_count: int = 5,
) -> logging.Handler:
    """Attach a rotating file handler to the `supalink` logger and return it. A log file
    that cannot be written (a read-only home, a full disk) stops nothing: its records are
    dropped, and nothing is said on stderr."""
    # Here, not at the top: the masker is used everywhere (URIs, the GUI's first paint),
    # and logging.handlers brings socket, pickle and queue with it.
    import logging.handlers

    with contextlib.suppress(OSError):
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # The log holds host names, user names and whatever a mask may miss: readable by its
        # owner only, the rotated files too (an older version left them 0644).
        _private_file(log_file)
        for number in range(1, backup_count + 1):
            rotated = log_file.with_name(f"{log_file.name}.{number}")
            if rotated.exists():
                rotated.chmod(0o600)
    # Opened at the first record: a file that cannot be opened is then a dropped record.
    handler = _quiet_handler_class()(
        log_file, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
    )
    handler.rotator = _rotate_privately
    handler.setFormatter(MaskingFormatter(masker, LOG_FORMAT))
    logger = logging.getLogger("supalink")
    logger.setLevel(level)
    logger.addHandler(handler)
    return handler


def _quiet_handler_class() -> type[logging.handlers.RotatingFileHandler]:
    import logging.handlers

    class QuietRotatingFileHandler(logging.handlers.RotatingFileHandler):
        """A record the file cannot take (a full disk, a log folder gone read-only) is
        dropped: logging's own report of it is a traceback on stderr, which carries only
        our one-line errors, for every record after it too."""

        dropped = 0  # records lost, for whoever wants to know

        def _open(self) -> Any:
            _private_file(self.baseFilename)  # a plain file, or no record goes there
            return super()._open()

        def handleError(self, record: logging.LogRecord) -> None:
            self.dropped += 1

    return QuietRotatingFileHandler


_APPEND_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NONBLOCK", 0)


def _private_file(path: Path | str) -> None:
    """Create `path` 0600 if it is missing (the handler then appends to it), else make it so;
    OSError for anything there but a plain file (a FIFO's open would wait for a reader for
    good: O_NONBLOCK refuses it at once)."""
    fd = os.open(path, _APPEND_FLAGS | getattr(os, "O_NOCTTY", 0), 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a plain file", str(path))
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def _rotate_privately(source: str, dest: str) -> None:
    """The handler's rotation, leaving a fresh 0600 file where it reopens the log."""
    if os.path.exists(source):
        os.replace(source, dest)
    _private_file(source)


def mask_in_log_file(secrets: Iterable[str]) -> None:
    """Mask `secrets` in what the log file receives from now on: libraries (psycopg's pool)
    log messages that quote the connection's input, which our code never sees."""
    for name in ("supalink", "psycopg"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler.formatter, MaskingFormatter):
                handler.formatter.masker.add_secrets(secrets)


def route_library_logs() -> None:
    """psycopg_pool logs every retry as a warning; with no handler of its own Python would
    print them on stderr, which carries only our one-line errors. They go to our masked log
    file instead (or nowhere, without one)."""
    ours = logging.getLogger("supalink")
    theirs = logging.getLogger("psycopg")
    for handler in ours.handlers:
        if handler not in theirs.handlers:
            theirs.addHandler(handler)
    if not theirs.handlers:
        theirs.addHandler(logging.NullHandler())

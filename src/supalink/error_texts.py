"""The texts libpq, PostgreSQL and the poolers answer with, and what each means: they are
matched here and nowhere else. Taken from PostgreSQL 15, pgbouncer 1.18, libpq 18 and
Supavisor's documented errors. Markers are compared with the text in lower case.

The connection test words a diagnosis from them, the monitor decides whether a failure
is worth retrying, and a gap in the notifications says in a few words why it happened.
"""

from __future__ import annotations

import re

_LIBPQ_PREFIX = re.compile(r"^connection to server (?:at|on) .*?failed: ", re.DOTALL)
_SEVERITY = re.compile(r"^(?:FATAL|ERROR|PANIC):\s+")

TENANT_NOT_FOUND = ("tenant or user not found",)  # Supavisor: wrong pooler index or user
TOO_MANY_CLIENTS = (
    "too many clients already",  # PostgreSQL: every slot taken
    "remaining connection slots are reserved",  # PostgreSQL: only superuser slots left
    "too many connections",
    "no more connections allowed",  # pgbouncer max_client_conn
    "max client connections reached",  # Supavisor
    "max clients reached",  # Supavisor session mode: "(EMAXCONNSESSION) max clients reached …"
)
MISSING_CA_FILE = ("root certificate file",)  # libpq: the sslrootcert file is not there
HBA_REFUSED = ("pg_hba.conf",)
AUTH_FAILED = (
    "password authentication failed",  # PostgreSQL (also for a role that does not exist)
    "sasl authentication failed",  # pgbouncer, wrong password or unknown user
    "no password supplied",
    "authentication failed",
)
NO_PASSWORD = ("no password supplied",)
NO_SSL = ("does not support ssl",)
REFUSED = ("connection refused",)
TIMED_OUT = ("timeout expired",)
TLS_WORDS = ("certificate", "ssl", "tls")  # a failure the server's certificate may explain
DATABASE_MISSING = re.compile(r'^database "(?P<name>[^"]*)" does not exist|no such database')
ROLE_MISSING = re.compile(r'^role "[^"]*" does not exist')  # trust auth names a missing role

# A login that will never succeed as configured: retrying only hammers the server and can
# lock the account. Poolers answer with a generic SQLSTATE (pgbouncer says 08P01 for
# everything) and libpq's own errors have none, so the text decides.
PERMANENT = re.compile(
    "|".join(
        (
            r"password authentication failed",
            r"authentication failed",
            r"no password supplied",
            r"SCRAM",
            r"database \".*\" does not exist",
            r"no such database",
            r"no such user",
            r"Tenant or user not found",
            r"certificate verify failed",
            r"does not match host name",
            r"root certificate file",
            r"certificate .* does not exist",
            r"server does not support SSL",
            r"invalid (sslmode|connection option|URI|percent-encoded|integer value)",
            r"missing \"=\"",
            r"role \".*\" is not permitted to log in",
        )
    ),
    re.IGNORECASE,
)

# Why a connection was lost, in a few words (a gap in the notifications shows it).
SERVER_RESTART = "server restart"
# Nothing came back: a stalled network or proxy. The connection was last known alive when
# it was last heard from, not when this was found (see `silent_for`).
WENT_SILENT = "connection went silent"
_LOSS_REASONS = (
    ("administrator command", SERVER_RESTART),
    ("shutting down", SERVER_RESTART),
    ("starting up", SERVER_RESTART),
    ("closed unexpectedly", "connection lost"),
    ("server closed the connection", "connection lost"),
    ("did not answer", WENT_SILENT),  # the monitor's own bounded wait
    ("connection timed out", WENT_SILENT),  # the kernel's: tcp_user_timeout, keepalives
    ("connection refused", "connection refused"),
    ("timeout expired", "connect timed out"),  # libpq's connect_timeout
    ("could not translate host name", "host name not found"),
    *((marker, "too many clients") for marker in TOO_MANY_CLIENTS),
)
_SHORT = 60


def says(text: str, markers: tuple[str, ...]) -> bool:
    """Whether the text holds one of the markers."""
    lower = text.lower()
    return any(marker in lower for marker in markers)


def server_text(message: str) -> str:
    """The server's own words: libpq's 'connection to server … failed:' and FATAL: removed."""
    text = _LIBPQ_PREFIX.sub("", message.strip())
    return _SEVERITY.sub("", text).strip()


def first_line(message: str) -> str:
    return server_text(message).splitlines()[0] if message.strip() else ""


def loss_reason(message: str) -> str | None:
    """What the message says happened to a connection, in a few words; None: it does not."""
    lower = message.lower()
    return next((reason for marker, reason in _LOSS_REASONS if marker in lower), None)


def silent_for(seconds: float) -> str:
    """A gap's reason when nothing was heard for `seconds` before the loss was found."""
    return f"{WENT_SILENT}: no answer for {seconds:.0f} s"


def short_reason(message: str) -> str:
    """`loss_reason`, or the server's own words, cut short for a table row or to lead a
    longer line (the cause first, so a line cut short still says it)."""
    found = loss_reason(message)
    if found is not None:
        return found
    text = server_text(message) or message
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def cause_first(message: str) -> str:
    """`message` led by its cause in a few words, so that a line cut short still says
    it: "connection lost (consuming input failed: server closed the connection …)"."""
    cause = short_reason(message)
    if message.startswith(cause) or cause.endswith("…"):
        return message
    return f"{cause} ({message})"

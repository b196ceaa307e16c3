"""Which connection failures are worth retrying.

Transient ones (the server restarting, the network gone, a timeout, too many clients)
heal by themselves, so they are retried with backoff. Permanent ones (a wrong password,
a database that does not exist, a certificate that does not verify) fail the same way
every time, so retrying only hammers the server and can lock the account: they are
reported and wait for the person to act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import psycopg
import psycopg_pool

from supalink import error_texts
from supalink.logs import SecretMasker


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


# SQLSTATEs a server sends for a login that will never succeed as configured.
_PERMANENT_SQLSTATES = {
    "28000",  # invalid_authorization_specification (no pg_hba entry, role cannot log in)
    "28P01",  # invalid_password
    "3D000",  # invalid_catalog_name: the database does not exist
    "42501",  # insufficient_privilege (e.g. CONNECT revoked)
}


def classify(error: BaseException) -> FailureKind:
    if isinstance(error, psycopg_pool.PoolTimeout | TimeoutError):
        return FailureKind.TRANSIENT
    if isinstance(error, psycopg.ProgrammingError | psycopg.NotSupportedError):
        return FailureKind.PERMANENT  # a conninfo libpq cannot use
    if isinstance(error, psycopg.Error) and error.sqlstate in _PERMANENT_SQLSTATES:
        return FailureKind.PERMANENT
    if error_texts.PERMANENT.search(str(error)):
        return FailureKind.PERMANENT
    return FailureKind.TRANSIENT


@dataclass(frozen=True)
class Failure:
    """A failure as the person sees it: kind, one masked line, when."""

    kind: FailureKind
    message: str
    at: float
    sqlstate: str | None = None

    @property
    def permanent(self) -> bool:
        return self.kind is FailureKind.PERMANENT


def describe(error: BaseException, masker: SecretMasker) -> str:
    """One line: libpq's messages span lines ("connection to server ... failed: FATAL: ...")."""
    text = " ".join(str(error).split()) or type(error).__name__
    return masker.mask(text)


def failure_of(error: BaseException, masker: SecretMasker, at: float) -> Failure:
    sqlstate = error.sqlstate if isinstance(error, psycopg.Error) else None
    return Failure(classify(error), describe(error, masker), at, sqlstate)

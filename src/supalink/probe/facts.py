"""The server facts the test reports, all read in one round trip after the login.

Pooler detection: a pooler such as pgbouncer hands the client its own BackendKeyData (it must
route cancel requests itself), so the process id libpq was given at login differs from the
`pg_backend_pid()` of the server process that runs our query. On a direct connection the two
are the same process. A pooler's mode cannot be seen from one session; for a Supabase profile
it is known from the profile (port 5432 session, 6543 transaction).
"""

from __future__ import annotations

from psycopg.pq.abc import PGresult

from supalink.probe.libpq import QueryFailed, result_error, text_value
from supalink.probe.results import ServerFacts
from supalink.profiles import Profile
from supalink.profiles.supabase import Mode

BASIC_QUERY = "SELECT now(), current_user, version()"
FACTS_QUERY = (
    "SELECT current_setting('max_connections'),"
    " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
    " s.ssl, s.version, pg_backend_pid()"
    " FROM (SELECT 1) AS one LEFT JOIN pg_stat_ssl AS s ON s.pid = pg_backend_pid()"
)
# Both statements in one simple-query message: one round trip, and no prepared statement,
# which a transaction-mode pooler could not keep.
PROBE_SQL = f"{BASIC_QUERY};\n{FACTS_QUERY}"

TRANSACTION_MODE_WARNING = (
    "transaction pooler: prepared statements and LISTEN/NOTIFY do not work here (Supalink "
    "turns prepared statements off); use the session pooler or a direct connection for them"
)
DEDICATED_MODE_WARNING = (
    "dedicated pooler (transaction pooling): LISTEN/NOTIFY does not work here, prepared "
    "statements do; use a direct connection for LISTEN"
)
UNKNOWN_MODE_WARNING = (
    "a connection pooler answers here; if it runs in transaction mode, prepared statements "
    "and LISTEN/NOTIFY will not work"
)
BUSY_SHARE = 0.8


def read_facts(
    results: list[PGresult], *, login_pid: int, encrypted: bool, profile: Profile
) -> ServerFacts:
    """Facts from the two results; raises QueryFailed when the basic query itself failed."""
    if not results:
        raise QueryFailed("the server sent no result")
    if error := result_error(results[0]):
        raise error
    basic = results[0]
    now, user, version = (text_value(basic, 0, column) or "" for column in range(3))
    warnings: list[str] = []
    facts = results[1] if len(results) > 1 else None
    problem = result_error(facts) if facts is not None else QueryFailed("no answer")
    if facts is None or problem is not None or facts.ntuples != 1:
        warnings.append(f"server facts could not be read: {problem or 'no row'}")
        return ServerFacts(now, user, version, encrypted=encrypted, warnings=tuple(warnings))
    max_connections = _int(text_value(facts, 0, 0))
    in_use = _int(text_value(facts, 0, 1))
    backend_ssl = _bool(text_value(facts, 0, 2))
    backend_pid = _int(text_value(facts, 0, 4))
    pooler = backend_pid is not None and backend_pid != login_pid
    # Only a Supabase profile says which mode its pooler runs in.
    mode = str(profile.mode) if profile.is_supabase and profile.mode.is_pooled else None
    if mode == Mode.TRANSACTION:
        warnings.append(TRANSACTION_MODE_WARNING)
    elif mode == Mode.DEDICATED:
        warnings.append(DEDICATED_MODE_WARNING)
    elif pooler and mode is None:
        warnings.append(UNKNOWN_MODE_WARNING)
    if not encrypted:
        warnings.append(f"this connection is not encrypted (sslmode={profile.sslmode})")
    if max_connections and in_use is not None and in_use >= BUSY_SHARE * max_connections:
        warnings.append(f"{in_use} of {max_connections} connections are in use")
    return ServerFacts(
        now,
        user,
        version,
        max_connections=max_connections,
        connections_in_use=in_use,
        encrypted=encrypted,
        backend_ssl=backend_ssl,
        tls_version=text_value(facts, 0, 3),
        pooler=pooler or mode is not None,
        pool_mode=mode,
        warnings=tuple(warnings),
    )


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _bool(text: str | None) -> bool | None:
    return None if text is None else text == "t"

"""Built URIs and connection parameters work against the real SSL test server."""

from __future__ import annotations

import psycopg
import pytest

from supalink.profiles.connect import connection_kwargs
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode
from supalink.profiles.uris import build_uri, parse_uri
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer


def local_profile(pg: PostgresServer, host: str, port: int | None = None) -> Profile:
    return Profile(
        "local",
        host=host,
        port=port or pg.port,
        user=pg.role,
        sslmode="verify-full",
        sslrootcert=str(pg.ca_cert),
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_special_password_authenticates_through_a_built_uri(pg: PostgresServer, host: str) -> None:
    uri = build_uri(local_profile(pg, host), pg.password)
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (pg.role,)
        assert conn.pgconn.ssl_in_use


def test_a_parsed_uri_connects_with_its_own_password(pg: PostgresServer) -> None:
    parsed = parse_uri(pg.uri("::1"))
    assert parsed.password == pg.password
    with psycopg.connect(**connection_kwargs(parsed.profile, parsed.password)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_connection_kwargs_carry_ssl_timeout_keepalives_and_name(pg: PostgresServer) -> None:
    profile = local_profile(pg, "127.0.0.1").replace(application_name="supalink-test")
    with psycopg.connect(**connection_kwargs(profile, pg.password)) as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("supalink-test",)
        assert conn.pgconn.ssl_in_use
    kwargs = connection_kwargs(profile, pg.password)
    assert kwargs["keepalives"] == 1
    assert kwargs["connect_timeout"] == 10
    assert kwargs["sslrootcert"] == str(pg.ca_cert)


def test_through_pgbouncer_as_the_session_pooler(pgbouncer: Pgbouncer) -> None:
    profile = local_profile(pgbouncer.server, "127.0.0.1", pgbouncer.port)
    with psycopg.connect(build_uri(profile, pgbouncer.server.password)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (pgbouncer.server.role,)


def test_transaction_mode_turns_prepared_statements_off() -> None:
    profile = Profile(
        "p", Mode.TRANSACTION, ref="abcdefghijklmnopqrst", region="us-east-1", pooler_index=0
    )
    assert connection_kwargs(profile, None)["prepare_threshold"] is None
    assert "prepare_threshold" not in connection_kwargs(profile.replace(mode=Mode.SESSION), None)


def test_short_timeouts_never_become_zero() -> None:
    # libpq reads connect_timeout=0 as "wait forever".
    profile = Profile("p", host="localhost")
    assert connection_kwargs(profile, None, connect_timeout=0.2)["connect_timeout"] == 1

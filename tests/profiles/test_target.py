"""Built URIs and a target's connection parameters work against the real SSL test server."""

from __future__ import annotations

import psycopg
import pytest

from supalink.profiles import Mode, Profile, Target, UriError, build_uri, parse_uri
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer, local_profile


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_special_password_authenticates_through_a_built_uri(pg: PostgresServer, host: str) -> None:
    uri = build_uri(local_profile(pg, host), pg.password)
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (pg.role,)
        assert conn.pgconn.ssl_in_use


def test_a_parsed_uri_connects_with_its_own_password(pg: PostgresServer) -> None:
    parsed = parse_uri(pg.uri("::1"))
    assert parsed.password == pg.password
    target = Target.from_profile(parsed.profile, parsed.password)
    with psycopg.connect(**target.connection_kwargs()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_connection_kwargs_carry_ssl_timeout_keepalives_and_name(pg: PostgresServer) -> None:
    profile = local_profile(pg, "127.0.0.1").replace(application_name="supalink-test")
    target = Target.from_profile(profile, pg.password)
    with psycopg.connect(**target.connection_kwargs()) as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("supalink-test",)
        assert conn.pgconn.ssl_in_use
    kwargs = target.connection_kwargs()
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
    assert Target.from_profile(profile, None).connection_kwargs()["prepare_threshold"] is None
    session = Target.from_profile(profile.replace(mode=Mode.SESSION), None)
    assert "prepare_threshold" not in session.connection_kwargs()


def test_short_timeouts_never_become_zero() -> None:
    # libpq reads connect_timeout=0 as "wait forever".
    target = Target.from_profile(Profile("p", host="localhost"), None)
    assert target.connection_kwargs(connect_timeout=0.2)["connect_timeout"] == 1


def test_a_uri_target_connects_and_keeps_what_it_was_given(pg: PostgresServer) -> None:
    target = Target.from_conninfo(pg.uri())
    assert target.profile is None
    assert target.source == pg.uri()
    assert target.mode is None
    with psycopg.connect(**target.connection_kwargs(application_name="t")) as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("t",)
        assert conn.pgconn.ssl_in_use


def test_a_profile_target_knows_its_mode_and_a_custom_host_has_none() -> None:
    supabase = Profile(
        "p", Mode.SESSION, ref="abcdefghijklmnopqrst", region="us-east-1", pooler_index=0
    )
    assert Target.from_profile(supabase, None).mode is Mode.SESSION
    assert Target.from_profile(Profile("p", host="localhost"), None).mode is None


def test_a_new_password_replaces_the_old_one_everywhere() -> None:
    target = Target.from_profile(Profile("p", host="localhost"), "old-secret")
    renewed = target.with_password("new/secret")
    assert renewed.password == "new/secret"
    assert renewed.connection_kwargs()["password"] == "new/secret"
    assert set(renewed.secrets) == {"new/secret", "new%2Fsecret"}
    assert "password" not in target.with_password(None).connection_kwargs()


def test_a_client_librarys_parameters_are_set_aside_and_named(pg: PostgresServer) -> None:
    """Supabase's dashboard shows Prisma's URIs (?pgbouncer=true&connection_limit=1), which
    libpq would refuse whole."""
    given = pg.uri() + "&pgbouncer=true&connection_limit=1"
    target = Target.from_conninfo(given)
    assert target.ignored == ("pgbouncer", "connection_limit")
    assert target.source == given  # a server entry still carries the URI as written
    assert "pgbouncer" not in target.params
    with psycopg.connect(**target.connection_kwargs()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(UriError, match="cannot be read"):
        Target.from_conninfo(pg.uri() + "&sslmod=require")  # a typo of libpq's is refused

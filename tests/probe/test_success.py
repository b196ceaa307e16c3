"""The success path against the real servers: every step passes, and the facts are right."""

from __future__ import annotations

import socket

import pytest

from supalink.probe import StepName
from supalink.probe.facts import (
    DEDICATED_MODE_WARNING,
    TRANSACTION_MODE_WARNING,
    UNKNOWN_MODE_WARNING,
)
from supalink.probe.results import DiagnosisKind
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode
from tests.probe.fakes import ALL_STEPS, FakeResolver, names, route_checker, run
from tests.support.monitoring import wait_for
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer, local_profile
from tests.support.supavisor import DIRECT_HOST, POOLER_HOST, REF


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_verify_full_on_both_loopback_stacks(pg: PostgresServer, host: str) -> None:
    result, seen = run(local_profile(pg, host), pg.password)
    assert result.ok, result.diagnosis
    assert names(result) == ALL_STEPS
    assert seen == list(result.steps)  # every step reached the callback, in order
    assert all(step.ms >= 0 for step in result.steps)
    server = result.server
    assert server is not None
    assert server.user == pg.role
    assert server.version.startswith("PostgreSQL ")
    assert server.max_connections == pg.max_connections
    assert server.connections_in_use is not None
    assert server.connections_in_use >= 1
    assert server.encrypted
    assert server.backend_ssl
    assert server.tls_version is not None
    assert server.tls_version.startswith("TLSv1.")
    assert not server.pooler
    assert server.pool_mode is None
    assert server.warnings == ()
    tls = result.steps[ALL_STEPS.index("tls")]
    assert f"verified against {pg.ca_cert}" in tls.detail
    assert f"host name {host} checked" in tls.detail
    assert result.to_dict()["server"]["max_connections"] == pg.max_connections


def test_through_pgbouncer_the_pooler_is_detected(pgbouncer: Pgbouncer) -> None:
    result, _ = run(local_profile(pgbouncer.server, port=pgbouncer.port), pgbouncer.server.password)
    assert result.ok, result.diagnosis
    server = result.server
    assert server is not None
    assert server.pooler
    assert server.pool_mode is None  # a custom host does not say its pooler's mode
    assert UNKNOWN_MODE_WARNING in server.warnings


def test_a_direct_connection_is_not_taken_for_a_pooler(pg: PostgresServer) -> None:
    result, _ = run(local_profile(pg), pg.password)
    assert result.server is not None
    assert not result.server.pooler


def test_supabase_transaction_pooler_warns_about_prepared_statements_and_listen(
    transaction_pooler: Pgbouncer,
) -> None:
    """A Supabase-shaped profile (user postgres-style `<role>.<ref>`, port 6543 role) through
    pgbouncer in transaction mode, its pooler host resolved by a fake resolver."""
    server = transaction_pooler.server
    profile = Profile(
        "sb",
        Mode.TRANSACTION,
        ref=REF,
        region="eu-central-1",
        pooler_index=0,
        port=transaction_pooler.port,
        user="supalink_app",
        sslmode="verify-ca",  # the test certificate is for localhost, not the pooler's name
        sslrootcert=str(server.ca_cert),
    )
    resolver = FakeResolver(ipv4={POOLER_HOST: ["127.0.0.1"]})
    result, _ = run(profile, server.password, resolver=resolver)
    assert result.ok, result.diagnosis
    assert result.server is not None
    assert result.server.user == f"supalink_app.{REF}"
    assert result.server.pooler
    assert result.server.pool_mode == "transaction"
    assert TRANSACTION_MODE_WARNING in result.server.warnings
    assert "LISTEN" in TRANSACTION_MODE_WARNING
    assert "prepared statements" in TRANSACTION_MODE_WARNING
    assert (POOLER_HOST, socket.AF_INET) in resolver.lookups
    assert (POOLER_HOST, socket.AF_INET6) in resolver.lookups
    assert "host name not checked" in result.steps[ALL_STEPS.index("tls")].detail


def test_supabase_dedicated_pooler_warns_that_listen_does_not_work_there(
    transaction_pooler: Pgbouncer,
) -> None:
    """The dedicated pooler is PgBouncer in transaction mode on db.<ref>.supabase.co, the
    role's own name (here the fixture's role, whose name has a dot in it): LISTEN does not
    work, prepared statements do."""
    server = transaction_pooler.server
    host = f"db.{REF}.supabase.co"
    profile = Profile(
        "sb",
        Mode.DEDICATED,
        ref=REF,
        port=transaction_pooler.port,
        user=server.role,
        sslmode="verify-ca",
        sslrootcert=str(server.ca_cert),
    )
    result, _ = run(profile, server.password, resolver=FakeResolver(ipv4={host: ["127.0.0.1"]}))
    assert result.ok, result.diagnosis
    assert result.server is not None
    assert result.server.user == server.role  # as given: no .<ref> added
    assert result.server.pooler
    assert DEDICATED_MODE_WARNING in result.server.warnings
    assert TRANSACTION_MODE_WARNING not in result.server.warnings


def _direct_profile(pg: PostgresServer) -> Profile:
    return Profile(
        "direct",
        Mode.DIRECT,
        ref=REF,
        port=pg.port,
        user=pg.role,
        sslmode="verify-ca",
        sslrootcert=str(pg.ca_cert),
    )


def test_supabase_direct_over_ipv6_when_there_is_a_route(pg: PostgresServer) -> None:
    resolver = FakeResolver(ipv6={DIRECT_HOST: ["::1"]})
    checker = route_checker(True)
    result, _ = run(_direct_profile(pg), pg.password, resolver=resolver, route_checker=checker)
    assert result.ok, result.diagnosis
    assert checker.asked == ["::1"]  # type: ignore[attr-defined]
    assert result.steps[ALL_STEPS.index("route")].detail == "IPv6 route to ::1"
    assert "(::1)" in result.steps[ALL_STEPS.index("tcp")].detail


def test_without_an_ipv6_route_ipv4_is_used_when_the_host_has_it(pg: PostgresServer) -> None:
    resolver = FakeResolver(ipv4={DIRECT_HOST: ["127.0.0.1"]}, ipv6={DIRECT_HOST: ["::1"]})
    result, _ = run(
        _direct_profile(pg), pg.password, resolver=resolver, route_checker=route_checker(False)
    )
    assert result.ok, result.diagnosis
    route = result.steps[ALL_STEPS.index("route")]
    assert route.detail == "no IPv6 route from this machine; using IPv4 127.0.0.1"


def test_sslmode_prefer_against_a_server_without_ssl_passes_with_a_warning(
    nossl_pg: PostgresServer,
) -> None:
    result, _ = run(local_profile(nossl_pg, sslmode="prefer"), nossl_pg.password)
    assert result.ok, result.diagnosis
    assert result.server is not None
    assert not result.server.encrypted
    assert "this connection is not encrypted (sslmode=prefer)" in result.server.warnings
    assert result.steps[ALL_STEPS.index("tls")].detail.startswith("not encrypted")


def test_the_test_leaves_no_connection_open(pg: PostgresServer) -> None:
    name = "supalink-probe-leak-check"
    result, _ = run(local_profile(pg, application_name=name), pg.password)
    assert result.ok
    with pg.admin_connect() as admin:

        def gone() -> bool:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            return admin.execute(sql, (name,)).fetchone() == (0,)

        # The server drops the closed client's backend a moment later: a bounded wait.
        wait_for(gone, 5.0, f"no backend named {name}")


def test_result_json_has_exactly_the_documented_shape(pg: PostgresServer) -> None:
    result, _ = run(local_profile(pg), pg.password)
    data = result.to_dict()
    assert set(data) == {"ok", "steps", "diagnosis", "server"}
    assert data["ok"] is True
    assert data["diagnosis"] is None
    assert all(set(step) == {"name", "ok", "ms", "detail"} for step in data["steps"])
    failed, _ = run(local_profile(pg), "not the password")
    failure = failed.to_dict()
    assert failure["ok"] is False
    assert failure["server"] is None
    assert set(failure["diagnosis"]) == {"kind", "message", "hint", "remedy"}
    assert failure["diagnosis"]["kind"] == DiagnosisKind.AUTH_FAILED
    assert failed.failed_step is not None
    assert failed.failed_step.name is StepName.AUTH

"""The error texts libpq and the poolers send, mapped to kinds; certificate names; psql."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from supalink.error_texts import server_text
from supalink.probe import psql_command
from supalink.probe.diagnosis import Attempt, from_connect_error
from supalink.probe.network import SystemResolver, udp_route_check
from supalink.probe.results import DiagnosisKind, StepName
from supalink.probe.tlsinfo import name_matches
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode
from tests.support.postgres import PostgresServer, local_profile
from tests.support.supavisor import REF
from tests.support.system_tools import SystemTools

Kind = DiagnosisKind
PREFIX = 'connection to server at "h" (10.0.0.1), port 5432 failed: '
TEXTS = [
    # Supavisor
    ("FATAL:  Tenant or user not found", Kind.TENANT_NOT_FOUND),
    (
        "FATAL:  (EMAXCONNSESSION) max clients reached in session mode - max clients are "
        "limited to pool_size: 15",
        Kind.TOO_MANY_CONNECTIONS,
    ),
    (
        "FATAL:  MaxClientsInSessionMode: max clients reached - in Session mode max clients "
        "are limited to pool_size",
        Kind.TOO_MANY_CONNECTIONS,
    ),
    ("FATAL:  Max client connections reached", Kind.TOO_MANY_CONNECTIONS),
    # PostgreSQL
    ("FATAL:  sorry, too many clients already", Kind.TOO_MANY_CONNECTIONS),
    (
        "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
        Kind.TOO_MANY_CONNECTIONS,
    ),
    (
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute",
        Kind.TOO_MANY_CONNECTIONS,
    ),
    ('FATAL:  database "x" does not exist', Kind.DATABASE_MISSING),
    ('FATAL:  password authentication failed for user "postgres"', Kind.AUTH_FAILED),
    ('FATAL:  role "nobody" does not exist', Kind.AUTH_FAILED),  # under trust auth
    (
        'FATAL:  no pg_hba.conf entry for host "1.2.3.4", user "u", database "d", no encryption',
        Kind.AUTH_FAILED,
    ),
    # pgbouncer
    ("FATAL:  SASL authentication failed", Kind.AUTH_FAILED),
    ("FATAL:  no such database: x", Kind.DATABASE_MISSING),
    ("FATAL:  no more connections allowed (max_client_conn)", Kind.TOO_MANY_CONNECTIONS),
    # libpq
    ("fe_sendauth: no password supplied", Kind.AUTH_FAILED),
    ("server does not support SSL, but SSL was required", Kind.TLS_FAILED),
    ('root certificate file "/x/root.crt" does not exist\nEither provide…', Kind.TLS_FAILED),
    (
        "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
        "connections?",
        Kind.CONNECTION_REFUSED,
    ),
    ("timeout expired", Kind.TIMEOUT),
    # left to a closer look at the certificate
    ("SSL error: certificate verify failed", None),
    ('server certificate for "localhost" does not match host name "h"', None),
]


@pytest.mark.parametrize(("text", "kind"), TEXTS)
def test_error_texts(text: str, kind: DiagnosisKind | None) -> None:
    attempt = Attempt(Profile("p", host="h"), "h", 5432, "u", "d", address="10.0.0.1")
    found = from_connect_error(PREFIX + text, StepName.AUTH, attempt)
    assert (found.kind if found else None) is kind


def test_server_text_drops_libpq_framing() -> None:
    assert server_text(PREFIX + "FATAL:  Tenant or user not found\n") == "Tenant or user not found"


def test_too_many_connections_hint_depends_on_the_mode() -> None:
    direct = Profile("d", Mode.DIRECT, ref=REF)
    attempt = Attempt(direct, "h", 5432, "postgres", "postgres")
    found = from_connect_error("FATAL:  sorry, too many clients already", StepName.AUTH, attempt)
    assert found is not None
    assert "session pooler" in found.hint


@pytest.mark.parametrize(
    ("host", "names", "matches"),
    [
        ("localhost", ("localhost",), True),
        ("LocalHost.", ("localhost",), True),
        ("db.x.supabase.co", ("*.x.supabase.co",), True),
        ("a.db.x.supabase.co", ("*.x.supabase.co",), False),
        ("::1", ("localhost", "0:0:0:0:0:0:0:1"), True),
        ("127.0.0.1", ("localhost",), False),
        ("wrong.example.test", ("localhost", "127.0.0.1", "::1"), False),
    ],
)
def test_certificate_name_matching(host: str, names: tuple[str, ...], matches: bool) -> None:
    assert name_matches(host, names) is matches


def test_system_resolver_reads_the_hosts_file_and_addresses() -> None:
    """Only names this machine answers itself (/etc/hosts, literals): no DNS traffic."""
    import asyncio
    import socket

    async def look() -> tuple[list[str], list[str]]:
        resolver = SystemResolver()
        return (
            await resolver.lookup("localhost", socket.AF_INET),
            await resolver.lookup("::1", socket.AF_INET6),
        )

    assert asyncio.run(look()) == (["127.0.0.1"], ["::1"])


def test_the_route_check_finds_loopback() -> None:
    import asyncio

    assert asyncio.run(udp_route_check("::1")) is True


def test_psql_command_takes_the_password_from_the_environment(
    pg: PostgresServer, system_tools: SystemTools
) -> None:
    command = psql_command(local_profile(pg, host="::1"), pg.password)
    assert all(pg.password not in part for part in command.argv)
    assert command.env == {"PGPASSWORD": pg.password}
    assert pg.password not in command.shell()
    assert command.shell().startswith("PGPASSWORD=**** psql 'postgresql://supalink_app@[::1]:")
    psql = Path(system_tools.pg_bindir) / "psql"
    result = subprocess.run(
        [
            str(psql),
            *command.argv[1:],
            "-XAtc",
            "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ],
        env={**os.environ, **command.env, "PGPASSFILE": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{pg.role}|t"


def test_psql_command_without_a_password_sets_no_environment(pg: PostgresServer) -> None:
    command = psql_command(local_profile(pg))
    assert command.env == {}
    assert command.shell().startswith("psql 'postgresql://supalink_app@127.0.0.1:")

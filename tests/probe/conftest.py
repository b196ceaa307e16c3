"""Throwaway servers for the connection test's failure paths, all on loopback.

Real PostgreSQL servers where PostgreSQL can show the failure (SSL off, every slot taken),
pgbouncer in transaction mode as a Supabase-shaped pooler, plain sockets for silence and
refusal, and a small TLS endpoint that speaks Supavisor's one error, which no local program
can produce.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.accounts import service_account
from tests.support.pgbouncer import Pgbouncer
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.supavisor import REF, FakeSupavisor
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

SMALL_MAX_CONNECTIONS = 5  # of which 3 are reserved for superusers (see PostgresServer)


def _server(
    system_tools: SystemTools, root: Path, tls_files: TlsFiles, **options: object
) -> Iterator[PostgresServer]:
    server = start_postgres(system_tools, root, tls_files, **options)
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.fixture(scope="session")
def nossl_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server with ssl = off: verify-full against it must fail at the tls step."""
    yield from _server(system_tools, services_root / "probe-nossl", tls_files, ssl=False)


@pytest.fixture(scope="session")
def small_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server with five connection slots, for filling."""
    yield from _server(
        system_tools,
        services_root / "probe-small",
        tls_files,
        max_connections=SMALL_MAX_CONNECTIONS,
    )


@pytest.fixture(scope="session")
def transaction_pooler(
    system_tools: SystemTools, services_root: Path, pg: PostgresServer
) -> Iterator[Pgbouncer]:
    """pgbouncer in transaction mode with a Supavisor-style user `supalink_app.<ref>`."""
    tenant = dataclasses.replace(pg, role=f"{pg.role}.{REF}")
    tenant.create_role()
    bouncer = Pgbouncer(
        system_tools.pgbouncer,
        services_root / "probe-transaction-pooler",
        tenant,
        service_account(),
        pool_mode="transaction",
    )
    bouncer.configure()
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP (the kernel completes the handshake) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """Drops new connections: a listener with a backlog of 0 whose one queue slot is taken.

    Linux drops the SYN when the accept queue is full, so the TCP connect itself times out,
    as it does behind a firewall that drops packets, without any packet leaving loopback.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            yield port


@pytest.fixture
def refused_port() -> int:
    """A port nothing listens on."""
    return free_port()


@pytest.fixture
def fake_supavisor(tls_files: TlsFiles) -> Iterator[FakeSupavisor]:
    with FakeSupavisor(tls_files) as server:
        yield server

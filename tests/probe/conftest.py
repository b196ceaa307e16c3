"""Throwaway servers for the connection test's failure paths, all on loopback.

Real PostgreSQL servers where PostgreSQL can show the failure (SSL off, every slot taken),
pgbouncer in transaction mode as a Supabase-shaped pooler, plain sockets for silence and
refusal, and a small TLS endpoint that speaks Supavisor's one error, which no local program
can produce.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _start_postgres
from tests.support.accounts import service_account
from tests.support.pgbouncer import Pgbouncer
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

# A project ref for Supabase-shaped profiles; the fake resolver maps its hosts to loopback.
REF = "abcdefghijklmnopqrst"
POOLER_HOST = "aws-0-eu-central-1.pooler.supabase.com"
DIRECT_HOST = f"db.{REF}.supabase.co"
SMALL_MAX_CONNECTIONS = 5  # of which 3 are reserved for superusers (see PostgresServer)


def _server(
    system_tools: SystemTools, root: Path, tls_files: TlsFiles, **options: object
) -> Iterator[PostgresServer]:
    server = _start_postgres(system_tools, root, tls_files, **options)
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


class FakeSupavisor:
    """Answers every login with Supavisor's "Tenant or user not found", after real TLS.

    Supavisor is not installable here; the bytes it sends are a PostgreSQL ErrorResponse,
    so libpq goes through its real TLS and startup path and reports the real text.
    """

    MESSAGE = "Tenant or user not found"

    def __init__(self, tls: TlsFiles) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(tls.server_cert, tls.server_key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-supavisor")

    def __enter__(self) -> FakeSupavisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with client:
                client.settimeout(5)
                # A client that gave up is no failure of the fake.
                with contextlib.suppress(OSError, ssl.SSLError):
                    self._answer(client)

    def _answer(self, client: socket.socket) -> None:
        request = _read_exactly(client, 8)
        if request != struct.pack("!ii", 8, 80877103):
            return
        client.sendall(b"S")
        with self._context.wrap_socket(client, server_side=True) as tls:
            (length,) = struct.unpack("!i", _read_exactly(tls, 4))
            _read_exactly(tls, length - 4)  # the startup packet: user, database, ...
            fields = b"".join(
                code + text.encode() + b"\0"
                for code, text in (
                    (b"S", "FATAL"),
                    (b"V", "FATAL"),
                    (b"C", "XX000"),
                    (b"M", self.MESSAGE),
                )
            )
            body = fields + b"\0"
            tls.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data


@pytest.fixture
def fake_supavisor(tls_files: TlsFiles) -> Iterator[FakeSupavisor]:
    with FakeSupavisor(tls_files) as server:
        yield server

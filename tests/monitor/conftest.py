"""Monitor fixtures: a throwaway server to stop and restart, and a transaction-mode
pgbouncer. The helpers the monitor's tests share are in tests/support/monitoring.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.pgbouncer import Pgbouncer, running_pgbouncer
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

T = TypeVar("T")


@pytest.fixture(scope="module")
def scratch_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server of this module's own, to stop and start without disturbing `pg`."""
    root = services_root / f"monitor-scratch-{uuid.uuid4().hex[:8]}"
    server = start_postgres(system_tools, root, tls_files)
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.fixture(scope="module")
def transaction_bouncer(
    system_tools: SystemTools, services_root: Path, pg: PostgresServer
) -> Iterator[Pgbouncer]:
    root = services_root / f"monitor-txbouncer-{uuid.uuid4().hex[:8]}"
    with running_pgbouncer(system_tools, root, pg, pool_mode="transaction") as bouncer:
        yield bouncer

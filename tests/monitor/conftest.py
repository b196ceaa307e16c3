"""Monitor fixtures: a throwaway server to stop and restart, a transaction-mode pgbouncer,
settings that make the monitor look often, and a collector of delivered events."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from supalink.monitor.events import Event
from supalink.monitor.settings import MonitorSettings, PoolSettings
from tests.conftest import _start_postgres
from tests.support.accounts import service_account
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

T = TypeVar("T")


@pytest.fixture(scope="module")
def scratch_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server of this module's own, to stop and start without disturbing `pg`."""
    root = services_root / f"monitor-scratch-{uuid.uuid4().hex[:8]}"
    server = _start_postgres(system_tools, root, tls_files)
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.fixture(scope="module")
def transaction_bouncer(
    system_tools: SystemTools, services_root: Path, pg: PostgresServer
) -> Iterator[Pgbouncer]:
    root = services_root / f"monitor-txbouncer-{uuid.uuid4().hex[:8]}"
    bouncer = Pgbouncer(
        system_tools.pgbouncer, root, pg, service_account(), pool_mode="transaction"
    )
    bouncer.configure()
    bouncer.start()
    yield bouncer
    bouncer.stop()


def quick_settings(**changes: Any) -> MonitorSettings:
    """Small pools and short intervals: the behaviour of the defaults, in test time."""
    pool_changes = {k: changes.pop(k) for k in list(changes) if k in PoolSettings.__annotations__}
    pool = replace(
        PoolSettings(min_size=1, max_size=4, health_interval=0.5, connect_timeout=5),
        **pool_changes,
    )
    base = MonitorSettings(
        pool=pool,
        health_timeout=2.0,
        stats_interval=0.2,
        server_view_interval=30.0,
        listener_check_interval=5.0,
    )
    return replace(base, **changes)


def channel_name(prefix: str = "ch") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


class Collector:
    """Records every batch an engine delivers, with when it arrived."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, Sequence[Event]]] = []
        self.events: list[Event] = []

    def __call__(self, batch: Sequence[Event]) -> None:
        self.batches.append((time.monotonic(), batch))
        self.events.extend(batch)

    def of(self, kind: str) -> list[Any]:
        return [event for event in self.events if event.event == kind]


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))

"""Two of the README's claims about the monitor, measured against a real server: the pool's
second connection closes within `max_idle` of the last time two reads overlapped, even
while the monitor's one-at-a-time reads go on; and while the server is down, how often
health checks (each waits the connect timeout, then a second)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from supalink.logs import SecretMasker
from supalink.monitor.health import DOWN_RECHECK_SECONDS, Health, HealthChecker
from supalink.monitor.pool import PoolRunner
from supalink.monitor.settings import PoolSettings
from supalink.profiles import Target, defaults
from tests.support.monitoring import run, wait_until
from tests.support.postgres import PostgresServer

MAX_IDLE = 2.0  # the monitor's 60 s, in test time


@pytest.mark.slow
def test_the_second_connection_closes_within_max_idle_of_the_last_overlap(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    settings = replace(
        PoolSettings(), application_name=f"idle-{uuid.uuid4().hex[:8]}", max_idle=MAX_IDLE
    )
    runner = PoolRunner(Target.from_conninfo(pg.uri()), settings, masker=SecretMasker())

    async def read() -> None:
        async with runner.connection() as conn:
            await conn.execute("SELECT 1")

    async def scenario() -> float:
        opened = time.monotonic()
        await runner.start()
        try:
            await read()
            # The overlap lands well inside psycopg_pool's first idle window (its first
            # look comes `max_idle` after the pool opened), the worst case for a pool
            # that only looks back one whole `max_idle` at a time.
            await asyncio.sleep(max(0.0, opened + 1.4 * MAX_IDLE - time.monotonic()))
            async with runner.connection(), runner.connection():
                assert runner.measures().size == 2
            overlap_ended = time.monotonic()
            # The monitor's reads go on one at a time (a server view, a check): each
            # takes one of the two connections in turn, and none needs both.
            while runner.measures().size > 1:
                assert time.monotonic() - overlap_ended < 4 * MAX_IDLE, "never shrank"
                await read()
                await asyncio.sleep(0.05)
            return time.monotonic() - overlap_ended
        finally:
            await runner.stop()

    closed_after = run(qasync_loop, scenario(), timeout=60)
    assert closed_after <= MAX_IDLE + 0.25, f"closed {closed_after:.2f} s after the overlap"


CONNECT_TIMEOUT = 2.0  # the monitor's 10 s, in test time
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.slow
def test_while_down_each_check_waits_the_connect_timeout_then_a_second(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Measured: a check that finds the pool empty waits the whole connect timeout for a
    connection (the pool retries inside it), and the next starts a second after it fails.
    The README says so, with the default figures."""
    settings = replace(
        PoolSettings(),
        application_name=f"down-{uuid.uuid4().hex[:8]}",
        connect_timeout=CONNECT_TIMEOUT,
        health_interval=60.0,
    )
    runner = PoolRunner(Target.from_conninfo(scratch_pg.uri()), settings, masker=SecretMasker())
    reports: list[float] = []
    checker = HealthChecker(
        runner,
        interval=settings.health_interval,
        timeout=CONNECT_TIMEOUT,
        degraded_latency=0.5,
        masker=SecretMasker(),
        on_report=lambda report: reports.append(time.monotonic()),
    )

    async def scenario() -> list[float]:
        await runner.start()
        task = asyncio.create_task(checker.run())
        try:
            await wait_until(lambda: checker.status is Health.HEALTHY, 30, "healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            checker.check_soon()
            await wait_until(lambda: checker.status is Health.DOWN, 30, "down")
            # Once down, every report is a finished check's (lateness only reports worse).
            first = len(reports)
            await wait_until(lambda: len(reports) >= first + 4, 60, "four checks while down")
            times = reports[first:]
            return [later - earlier for earlier, later in itertools.pairwise(times)]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await runner.stop()
            await asyncio.to_thread(scratch_pg.start)

    gaps = run(qasync_loop, scenario(), timeout=120)
    every = CONNECT_TIMEOUT + DOWN_RECHECK_SECONDS
    assert all(every - 0.2 <= gap <= every + 1.0 for gap in gaps), gaps
    default = defaults.CONNECT_TIMEOUT_SECONDS + DOWN_RECHECK_SECONDS
    readme = " ".join(README.read_text().split())
    assert f"one every {default:g} s" in readme

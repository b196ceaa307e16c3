"""What one monitor costs the server: with its own defaults and one channel, at most three
server connections (pool max 2, the listener one), counted in pg_stat_activity while
every read it makes overlaps, before and after an outage; after recovery the pool goes
back to its one connection once the extra is idle. On a throwaway server of this
module's own, stopped for real."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import replace

import psycopg
import pytest

from supalink.monitor import MonitorEngine, footprint
from supalink.monitor.health import Health
from supalink.monitor.listener import ListenerState
from supalink.monitor.settings import MonitorSettings, PoolSettings
from supalink.profiles import Target
from tests.support.monitoring import channel_name, run, wait_until
from tests.support.postgres import PostgresServer

WAIT = 60.0


async def held(uri: str, name: str) -> int:
    """Server connections whose application name starts with `name` (the listener's adds
    "/listen")."""
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
            (name + "%",),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def busiest(engine: MonitorEngine, uri: str, name: str, channel: str) -> int:
    """The most connections seen while the monitor's reads all overlap: health checks,
    server views and test NOTIFYs at once, several times over."""
    peak = 0
    for _ in range(5):
        engine.check_health_now()
        load = asyncio.gather(
            *(engine.refresh_server_view() for _ in range(3)),
            *(engine.send_test_notification(channel) for _ in range(3)),
        )
        while not load.done():
            peak = max(peak, await held(uri, name))
            await asyncio.sleep(0)
        await load
        peak = max(peak, await held(uri, name))
    return peak


@pytest.mark.slow
def test_one_monitor_with_one_channel_holds_at_most_three_connections_and_shrinks_back(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    name = f"fp-{uuid.uuid4().hex[:8]}"
    channel = channel_name()
    uri = scratch_pg.uri()
    # The monitor's default sizes; only the idle time and the connect timeout are short,
    # so that shrinking back takes seconds here instead of a minute, and each request
    # piled up while down fails after 2 s instead of 10.
    pool = replace(PoolSettings(), application_name=name, max_idle=1.0, connect_timeout=2.0)
    assert (pool.min_size, pool.max_size) == (1, 2)
    settings = MonitorSettings(pool=pool)

    async def scenario() -> dict[str, int]:
        engine = MonitorEngine(Target.from_conninfo(uri), settings, channels=[channel])
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, "listening"
            )
            before = await busiest(engine, uri, name, channel)
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            # Requests pile up while it is down (each waits, then fails): the pool may
            # only grow to its max when the server is back.
            for _ in range(3):
                engine.check_health_now()
                with contextlib.suppress(Exception):
                    await engine.refresh_server_view()
            await asyncio.to_thread(scratch_pg.start)
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "back")
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, "listening"
            )
            after = await busiest(engine, uri, name, channel)
            await wait_until(lambda: engine.pool.measures().size == 1, WAIT, "shrunk to 1")
            # A closed backend stays in pg_stat_activity a moment: polled, with a bound.
            settled = await held(uri, name)
            for _ in range(round(WAIT / 0.05)):
                if settled == 2:
                    break
                await asyncio.sleep(0.05)
                settled = await held(uri, name)
            return {"before": before, "after": after, "settled": settled}

    seen = run(qasync_loop, scenario(), timeout=240)
    assert seen["before"] <= 3
    assert seen["after"] <= 3
    assert seen["before"] >= 2  # it was counted: the listener and the pool's one at least
    assert seen["settled"] == 2  # the pool's one and the listener's


def test_the_window_line_says_the_cost_against_the_compute_size() -> None:
    pool = PoolSettings()
    assert footprint(pool, True, 60, None) == (
        "At most 3 server connections (pool max 2, listener 1): 3 of Nano or Micro's 60 (5%)"
    )
    assert footprint(pool, False, 100, None) == (
        "At most 2 server connections (pool max 2): 2 of max_connections 100 (2%)"
    )
    assert footprint(pool, True, None, None) == (
        "At most 3 server connections (pool max 2, listener 1)"
    )


def test_at_the_start_the_pool_opens_one_connection_not_two(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """The first check and the first server view both want a connection at once; they
    share the one the pool makes instead of having it open a second."""
    name = f"fp-start-{uuid.uuid4().hex[:8]}"
    settings = MonitorSettings(pool=replace(PoolSettings(), application_name=name))

    async def scenario() -> tuple[int, int]:
        engine = MonitorEngine(Target.from_conninfo(pg.uri()), settings)
        async with engine:
            await wait_until(lambda: engine.server is not None, WAIT, "the first server view")
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            return engine.pool.measures().size, await held(pg.uri(), name)

    size, connections = run(qasync_loop, scenario(), timeout=120)
    assert (size, connections) == (1, 1)

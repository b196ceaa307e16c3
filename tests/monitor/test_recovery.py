"""The server goes away and comes back: a throwaway server of this module's own."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest

from supalink.error_texts import SERVER_RESTART
from supalink.monitor import MonitorEngine
from supalink.monitor.events import Gap, Notification
from supalink.monitor.health import Health
from supalink.monitor.listener import ListenerState
from supalink.profiles import Target
from tests.support.monitoring import Collector, channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer


@pytest.mark.slow
def test_health_goes_down_with_the_server_and_comes_back_with_it(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(scratch_pg.uri()), quick_settings(min_size=2))
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, what="healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await wait_until(lambda: engine.health.status is Health.DOWN, what="down")
            down = engine.health.last
            await asyncio.to_thread(scratch_pg.start)
            back_at = time.monotonic()
            await wait_until(lambda: engine.health.status is Health.HEALTHY, what="healthy again")
            recovered_in = time.monotonic() - back_at
            # The pool serves again: its dead connections were replaced.
            async with engine.pool.connection() as conn:
                await conn.execute("SELECT 1")
            # Stopping while the server is down is as quick: nothing waits for it.
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await wait_until(lambda: engine.health.status is Health.DOWN, what="down again")
            stop_started = time.monotonic()
        stopped_in = time.monotonic() - stop_started
        await asyncio.to_thread(scratch_pg.start)
        return {
            "collector": collector,
            "down": down,
            "recovered_in": recovered_in,
            "stopped_in": stopped_in,
        }

    figures = run(qasync_loop, scenario(), timeout=90)
    down = figures["down"]
    assert down.latency_ms is None
    assert down.error
    assert down.last_error == down.error
    statuses = [report.status for report in figures["collector"].of("health")]
    assert statuses[0] is Health.HEALTHY
    assert Health.DOWN in statuses
    assert statuses.index(Health.HEALTHY, statuses.index(Health.DOWN)) > 0
    pool_events = [
        event.event
        for event in figures["collector"].events
        if event.event in ("disconnected", "reconnected") and event.source == "pool"
    ]
    assert pool_events[:3] == ["disconnected", "reconnected", "disconnected"]
    assert figures["recovered_in"] < 5.0
    assert figures["stopped_in"] < 5.0


@pytest.mark.slow
def test_after_a_restart_listen_is_back_within_five_seconds_and_a_gap_is_recorded(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name()

    async def send(payload: str) -> None:
        async with await psycopg.AsyncConnection.connect(scratch_pg.uri(), autocommit=True) as c:
            await c.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(
            Target.from_conninfo(scratch_pg.uri()), quick_settings(), channels=[channel]
        )
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            await send("before")
            await wait_until(lambda: engine.log.total == 1, what="before")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await wait_until(lambda: collector.of("disconnected"), what="disconnected")
            # Down long enough for the backoff to reach its cap.
            await asyncio.sleep(3.0)
            await asyncio.to_thread(scratch_pg.start)
            back_at = time.time()
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, what="listening again"
            )
            await send("after")
            await wait_until(lambda: engine.log.total == 2, what="after")
            rows = engine.log.rows()
        return {"collector": collector, "rows": rows, "back_at": back_at}

    figures = run(qasync_loop, scenario(), timeout=60)
    collector = figures["collector"]
    listener_events = [e for e in collector.events if getattr(e, "source", "") == "listener"]
    assert [e.event for e in listener_events][:2] == ["disconnected", "reconnected"]
    reconnected = listener_events[1]
    back_within = reconnected.at - figures["back_at"]
    print(f"listener back {back_within:.2f} s after the server returned")
    assert back_within < 5.0
    rows = figures["rows"]
    assert [type(row) for row in rows] == [Notification, Gap, Notification]
    before, gap, after = rows
    assert (before.payload, after.payload) == ("before", "after")
    assert gap.channels == (channel,)
    assert before.received_at < gap.started_at < gap.ended_at < after.received_at
    assert gap.seconds >= 3.0
    # Over TLS the listener only sees its socket close; a restart is said when it, the
    # pool or the health check heard one ("shutting down", "starting up").
    assert gap.reason in (SERVER_RESTART, "connection lost")
    assert collector.of("gap") == [gap]
    assert before.pid != after.pid  # a new server process listens now

"""A connection that dies without a word (NAT timeout, sleeping laptop) is found too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from supalink.monitor import MonitorEngine
from supalink.monitor.events import Gap, Notification
from supalink.monitor.health import Health
from supalink.monitor.listener import ListenerState
from supalink.profiles import Target
from tests.monitor.blackhole import BlackholeProxy
from tests.support.monitoring import Collector, channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer


@pytest.fixture
def proxy(pg: PostgresServer) -> Iterator[BlackholeProxy]:
    proxy = BlackholeProxy(pg.port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.mark.slow
def test_a_silently_dead_connection_is_found_and_replaced(
    pg: PostgresServer, proxy: BlackholeProxy, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name()
    # The listener's SELECT 1 after half a second of quiet, answered within a second or it
    # is dead.
    settings = quick_settings(
        listener_check_interval=0.5, listener_check_timeout=1, health_timeout=1
    )

    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(
            Target.from_conninfo(pg.uri(port=proxy.port)), settings, channels=[channel]
        )
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            await wait_until(lambda: engine.health.status is Health.HEALTHY, what="healthy")
            silenced_at = time.monotonic()
            assert proxy.silence() >= 2  # the listener's and the pool's
            await wait_until(lambda: collector.of("disconnected"), what="the loss")
            found_in = time.monotonic() - silenced_at
            await wait_until(lambda: len(collector.of("listening")) == 2, what="listening again")
            async with await psycopg.AsyncConnection.connect(pg.uri(), autocommit=True) as c:
                await c.execute("SELECT pg_notify(%s, 'after the silence')", (channel,))
            await wait_until(lambda: engine.log.total == 1, what="the notification")
            # The pool's idle connections went silent too: found on checkout, replaced.
            await wait_until(
                lambda: engine.pool.measures().counters.connections_lost >= 1, what="a loss"
            )
            reports = len(collector.of("health"))
            await wait_until(
                lambda: any(r.status is Health.HEALTHY for r in collector.of("health")[reports:]),
                what="healthy on new connections",
            )
            rows = engine.log.rows()
            stop_started = time.monotonic()
        return {
            "collector": collector,
            "found_in": found_in,
            "rows": rows,
            "stopped_in": time.monotonic() - stop_started,
        }

    figures = run(qasync_loop, scenario())
    listener_lost = [e for e in figures["collector"].of("disconnected") if e.source == "listener"]
    assert "did not answer within 1 s" in listener_lost[0].error
    print(f"silent listener connection found in {figures['found_in']:.2f} s")
    assert figures["found_in"] < 0.5 + 1 + 3  # interval + timeout + margin
    assert [type(row) for row in figures["rows"]] == [Gap, Notification]
    assert figures["stopped_in"] < 5.0  # with every pool connection silent

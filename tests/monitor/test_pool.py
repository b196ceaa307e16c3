"""The pool, its stats, the health check and the server view, against the real server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from typing import Any

import psycopg
import psycopg_pool
import pytest

from supalink.monitor import MonitorEngine
from supalink.monitor.health import DEGRADED_RECHECK_SECONDS, Health, HealthReport
from supalink.monitor.pool import PoolState, PoolUnavailable
from supalink.monitor.settings import MonitorSettings, PoolSettings
from supalink.monitor.stats import StatsSample
from supalink.profiles import Target
from supalink.profiles.supabase import Mode
from tests.support.monitoring import Collector, quick_settings, run, wait_until
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer


def test_stats_follow_connections_checked_out(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> list[StatsSample]:
        collector = Collector()
        async with MonitorEngine(
            Target.from_conninfo(pg.uri()), quick_settings(min_size=2, max_size=5)
        ) as engine:
            engine.subscribe(collector)
            await wait_until(lambda: engine.pool.measures().idle >= 2, what="two idle")
            async with contextlib.AsyncExitStack() as held:
                for _ in range(3):
                    await held.enter_async_context(engine.pool.connection())
                await wait_until(
                    lambda: any(s.in_use == 3 for s in collector.of("stats")), what="in use 3"
                )
            await wait_until(lambda: collector.of("stats")[-1].in_use == 0, what="all given back")
            return list(engine.stats.history)

    history = run(qasync_loop, scenario())
    busy = next(sample for sample in history if sample.in_use == 3)
    assert busy.size >= 3  # it grew past min_size to serve three
    assert busy.idle == busy.size - 3 or busy.idle < busy.size - 3  # the rest idle or connecting
    last = history[-1]
    assert last.in_use == 0
    assert last.requests >= 3
    assert last.errors == 0
    assert (last.min_size, last.max_size) == (2, 5)
    assert last.state == "open"


def test_sessions_get_the_guides_settings(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> tuple[Any, ...]:
        settings = quick_settings(application_name="supalink-test-app", statement_timeout=42)
        async with (
            MonitorEngine(Target.from_conninfo(pg.uri()), settings) as engine,
            engine.pool.connection() as conn,
        ):
            cursor = await conn.execute(
                "SELECT current_setting('statement_timeout'), current_setting('application_name')"
            )
            row = await cursor.fetchone()
            assert row is not None
            # Keepalives are the client socket's: ask the socket itself.
            sock = socket.socket(fileno=os.dup(conn.fileno()))
            with sock:
                keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
                idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            return (*row, bool(keepalive), idle)

    assert run(qasync_loop, scenario()) == ("42s", "supalink-test-app", True, 30)


def test_the_pool_can_be_resized_while_running(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        async with MonitorEngine(
            Target.from_conninfo(pg.uri()), quick_settings(min_size=1, max_size=2)
        ) as engine:
            await engine.resize_pool(3, 6)
            await wait_until(lambda: engine.pool.measures().idle >= 3, what="three idle")
            measures = engine.pool.measures()
            assert (measures.min_size, measures.max_size) == (3, 6)

    run(qasync_loop, scenario())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("uri_changes", "expected"),
    [
        ({"password": "not-the-password"}, "password authentication failed"),
        ({"dbname": "no_such_db"}, 'database "no_such_db" does not exist'),
    ],
    ids=["wrong-password", "missing-database"],
)
def test_permanent_failures_are_reported_and_not_retried_until_the_person_acts(
    pg: PostgresServer,
    qasync_loop: asyncio.AbstractEventLoop,
    uri_changes: dict[str, str],
    expected: str,
) -> None:
    async def scenario() -> None:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(pg.uri(**uri_changes)), quick_settings())  # type: ignore[arg-type]
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.pool.state is PoolState.FAILED, what="failed")
            attempts = engine.pool.measures().counters.connection_attempts
            await asyncio.sleep(1.5)  # the pool's own backoff would have retried by now
            assert engine.pool.measures().counters.connection_attempts == attempts
            with pytest.raises(PoolUnavailable, match="not retrying until you act"):
                async with engine.pool.connection():
                    pass
            await wait_until(lambda: engine.health.status is Health.DOWN, what="health down")
            await engine.retry(Target.from_conninfo(pg.uri()))  # the person fixed the URI
            await wait_until(lambda: engine.health.status is Health.HEALTHY, what="healthy")
        errors = [e for e in collector.of("error") if e.source == "pool"]
        assert len(errors) == 1
        assert errors[0].permanent
        assert expected in errors[0].message
        assert SPECIAL_PASSWORD not in repr(collector.events)

    run(qasync_loop, scenario())


def test_a_server_that_is_not_there_is_retried(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Connection refused is transient: reported once, and the pool keeps trying."""
    from tests.support.ports import free_port

    async def scenario() -> None:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(pg.uri(port=free_port())), quick_settings())
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: collector.of("error"), what="an error event")
            await wait_until(lambda: engine.health.status is Health.DOWN, what="health down")
            assert engine.pool.state is PoolState.OPEN
            # Down at the first refusal; the pool goes on trying after it.
            await wait_until(
                lambda: engine.pool.measures().counters.connection_attempts >= 2,
                what="a second connection attempt",
            )
            assert engine.pool.state is PoolState.OPEN
        errors = collector.of("error")
        assert len(errors) == 1
        assert not errors[0].permanent
        assert "refused" in errors[0].message

    run(qasync_loop, scenario())


def test_health_reports_latency_and_the_server_view_sees_our_connections(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        settings = quick_settings(application_name="supalink-view-test", min_size=2)
        collector = Collector()
        async with MonitorEngine(Target.from_conninfo(pg.uri()), settings) as engine:
            engine.subscribe(collector)
            await wait_until(lambda: engine.pool.measures().idle >= 2, what="two idle")
            snapshot = await engine.refresh_server_view()
            await wait_until(lambda: collector.of("health"), what="a health report")
        ours = [g for g in snapshot.groups if g.application_name == "supalink-view-test"]
        assert 2 <= sum(group.count for group in ours) <= 4  # min 2; checks may grow it
        assert {group.state for group in ours} <= {"idle", "active", "idle in transaction"}
        assert snapshot.max_connections == 100
        assert snapshot.reserved_connections == 3
        assert 0 < snapshot.usage < 1
        assert snapshot.compute_sizes == ()  # 100 is no Supabase compute size
        assert snapshot.notification_queue_usage == 0.0
        report = collector.of("health")[0]
        assert report.status is Health.HEALTHY
        assert report.latency_ms is not None
        assert report.latency_ms > 0
        assert report.as_dict()["status"] == "healthy"

    run(qasync_loop, scenario())


def test_statement_timeout_cancels_long_queries(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        settings = quick_settings(statement_timeout=0.2)
        async with (
            MonitorEngine(Target.from_conninfo(pg.uri()), settings) as engine,
            engine.pool.connection() as conn,
        ):
            with pytest.raises(psycopg.errors.QueryCanceled):
                await conn.execute("SELECT pg_sleep(5)")

    run(qasync_loop, scenario())


def test_through_a_transaction_pooler_no_session_state_is_set(
    transaction_bouncer: Pgbouncer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """A session SET there would land on a shared server connection."""

    async def scenario() -> tuple[Any, ...]:
        settings = quick_settings(statement_timeout=42)
        target = Target.from_conninfo(transaction_bouncer.uri(), mode=Mode.TRANSACTION)
        async with (
            MonitorEngine(target, settings) as engine,
            engine.pool.connection() as conn,
        ):
            cursor = await conn.execute("SELECT current_setting('statement_timeout')")
            row = await cursor.fetchone()
            assert row is not None
            assert conn.prepare_threshold is None  # no prepared statements either
            return tuple(row)

    assert run(qasync_loop, scenario()) == ("0",)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(Mode.SESSION, "7s"), (Mode.TRANSACTION, "0"), (Mode.DEDICATED, "0")],
    ids=["session", "transaction", "dedicated"],
)
def test_the_session_setting_is_left_out_where_a_pooler_shares_server_connections(
    pg: PostgresServer, mode: Mode, expected: str
) -> None:
    """A session SET through a transaction pooler, shared or dedicated, would land on a
    server connection other clients use next."""
    from supalink.monitor.pool import configure_session
    from supalink.monitor.settings import PoolSettings

    async def scenario() -> str:
        async with await psycopg.AsyncConnection.connect(pg.uri()) as conn:
            await configure_session(conn, PoolSettings(statement_timeout=7), mode)
            row = await (await conn.execute("show statement_timeout")).fetchone()
            assert row is not None
            return str(row[0])

    assert asyncio.run(scenario()) == expected


@pytest.mark.slow
def test_degraded_health_is_checked_again_within_seconds_not_at_the_next_tick(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """A request failed since the last check degrades health; with nothing failing since,
    the check a few seconds later says healthy again, though the interval is a minute
    (after an outage, too: the first answer may be slow while the pool reconnects)."""
    # A slow SELECT 1 on a loaded machine must not be what degrades it here.
    settings = MonitorSettings(pool=PoolSettings(min_size=1, max_size=1), degraded_latency=5.0)
    assert settings.pool.health_interval == 60.0

    async def scenario() -> tuple[HealthReport, float]:
        engine = MonitorEngine(Target.from_conninfo(pg.uri()), settings)
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, 30, "healthy")
            async with engine.pool.connection():  # the only one: the next request fails
                with contextlib.suppress(psycopg_pool.PoolTimeout):
                    async with engine.pool.connection(0.2):
                        raise AssertionError("the pool has one connection, taken")
            engine.check_health_now()
            await wait_until(lambda: engine.health.status is Health.DEGRADED, 30, "degraded")
            degraded = engine.health.last
            assert degraded is not None
            started = time.monotonic()
            await wait_until(lambda: engine.health.status is Health.HEALTHY, 30, "healthy")
            return degraded, time.monotonic() - started

    degraded, took = run(qasync_loop, scenario())
    assert degraded.error == "1 pool requests failed since last check"
    assert took < DEGRADED_RECHECK_SECONDS + 5.0, took  # with a wide margin, far from 60 s

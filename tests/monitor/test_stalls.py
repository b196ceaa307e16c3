"""A network that stalls (stalling.py: nothing gets through, nothing is closed) is found:
the listener within 15 s with the default settings, health leaves healthy while a check
waits, the gap starts when the server was last heard from, and all comes back with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from supalink.error_texts import WENT_SILENT
from supalink.logs import SecretMasker
from supalink.monitor import (
    Disconnected,
    Gap,
    Health,
    HealthReport,
    ListenerState,
    MonitorEngine,
    Notification,
)
from supalink.monitor.health import HealthChecker
from supalink.monitor.pool import PoolRunner
from supalink.monitor.settings import MonitorSettings, PoolSettings, session_kwargs
from supalink.profiles import Target
from tests.monitor.stalling import StallingProxy
from tests.support.monitoring import Collector, channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer

# Bounds for what does not measure the stall: generous, for a loaded machine.
WAIT = 30.0
# How late the loop may run a timer, or read bytes that came in just before the stall.
LATE = 1.5
# TCP_USER_TIMEOUT's number on Linux, where the tests run (Python names it there only).
TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)


@pytest.fixture
def proxy(pg: PostgresServer) -> Iterator[StallingProxy]:
    proxy = StallingProxy(pg.port)
    proxy.start()
    yield proxy
    proxy.stop()


async def notify(server: PostgresServer, channel: str, payload: str) -> float:
    """NOTIFY straight to the server (around the proxy); returns when it was committed."""
    async with await psycopg.AsyncConnection.connect(server.uri(), autocommit=True) as conn:
        await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
        return time.time()


async def until_healthy(engine: MonitorEngine) -> None:
    """Healthy, asking again while it is not: on a loaded machine a check can take longer
    than the 0.5 s still called healthy, and the next would come a minute later."""
    deadline = time.monotonic() + WAIT
    while engine.health.status is not Health.HEALTHY:
        assert time.monotonic() < deadline, f"not healthy within {WAIT} s"
        engine.check_health_now()
        with contextlib.suppress(AssertionError):
            await wait_until(lambda: engine.health.status is Health.HEALTHY, 3.0)


def first(collector: Collector, kind: type[Any], after: float, where: Callable[[Any], bool]) -> Any:
    return next(
        (e for e in collector.events if isinstance(e, kind) and e.at >= after and where(e)), None
    )


def from_listener(event: Disconnected) -> bool:
    return event.source == "listener"


def not_healthy(report: HealthReport) -> bool:
    return report.status is not Health.HEALTHY


@pytest.mark.slow
def test_with_the_default_settings_a_stalled_listener_is_found_within_15_seconds(
    pg: PostgresServer, proxy: StallingProxy, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """The defaults' worst case: the last word from the server (a notification) comes just
    before the stall, so the listener waits its full quiet spell before it asks."""
    channel = channel_name()
    settings = MonitorSettings()  # the defaults are what is under test here

    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(
            Target.from_conninfo(pg.uri(port=proxy.port)), settings, channels=[channel]
        )
        engine.subscribe(collector)
        async with engine:
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, what="listening"
            )
            await until_healthy(engine)
            await notify(pg, channel, "before")
            await wait_until(lambda: engine.log.total == 1, WAIT, what="the first notification")
            stalled_at = time.time()
            assert proxy.stall() >= 2  # the listener's connection and the pool's
            lost_sent_at = await notify(pg, channel, "during the stall")
            await wait_until(
                lambda: first(collector, Disconnected, stalled_at, from_listener),
                settings.listener_silence_bound + WAIT,
                what="the listener to find the stall",
            )
            resumed_at = time.time()
            proxy.resume()
            await wait_until(lambda: collector.of("gap"), WAIT, what="listening again")
            await notify(pg, channel, "after")
            await wait_until(lambda: engine.log.total == 2, WAIT, what="the next notification")
            await until_healthy(engine)  # on the pool's connections, which flow again too
            return {
                "collector": collector,
                "rows": engine.log.rows(),
                "stalled_at": stalled_at,
                "resumed_at": resumed_at,
                "lost_sent_at": lost_sent_at,
            }

    got = run(qasync_loop, scenario(), timeout=180)
    collector, stalled_at = got["collector"], got["stalled_at"]
    before, gap, after = got["rows"]
    assert isinstance(before, Notification)
    assert isinstance(after, Notification)
    assert (before.payload, after.payload) == ("before", "after")  # the one during it is lost
    lost = first(collector, Disconnected, stalled_at, from_listener)
    found_in = lost.at - stalled_at
    left_healthy = first(collector, HealthReport, stalled_at, not_healthy)
    left_healthy_in = left_healthy.at - stalled_at
    print(
        f"default settings: stall found in {found_in:.2f} s "
        f"(bound {settings.listener_silence_bound:g} s); health left healthy "
        f"after {left_healthy_in:.2f} s ({left_healthy.status}: {left_healthy.error})"
    )
    assert found_in < 15.0
    assert "did not answer within 3 s" in lost.error
    # Health is not healthy while the listener's check waits: before the listener gives up.
    assert left_healthy_in < found_in
    # The gap starts when the server was last heard from: the notification just before.
    assert isinstance(gap, Gap)
    assert before.received_at <= gap.started_at <= stalled_at + LATE
    assert gap.started_at <= got["lost_sent_at"] <= gap.ended_at
    stall = got["resumed_at"] - stalled_at
    assert stall - LATE <= gap.seconds <= stall + WAIT
    assert gap.reason is not None
    assert gap.reason.startswith(WENT_SILENT)
    assert re.search(r"no answer for 1[2-5] s", gap.reason), gap.reason


@pytest.mark.slow
def test_a_quiet_listener_was_last_alive_at_its_last_check(
    pg: PostgresServer, proxy: StallingProxy, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """No notification: the last word was the answer to the listener's own SELECT 1, which
    it sends after each quiet spell, so the gap starts within one silence bound of the
    stall. Reconnect attempts made during the stall wait in it, and get in once it ends."""
    channel = channel_name()
    # A check after half a second of quiet, two seconds to answer: a loaded machine answers
    # a SELECT 1 well within that, and found within 2.5 s of the last answer.
    settings = quick_settings(listener_check_interval=0.5, listener_check_timeout=2.0)

    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(
            Target.from_conninfo(pg.uri(port=proxy.port)), settings, channels=[channel]
        )
        engine.subscribe(collector)
        async with engine:
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, what="listening"
            )
            stalled_at = time.time()
            proxy.stall()
            await wait_until(
                lambda: first(collector, Disconnected, stalled_at, from_listener),
                WAIT,
                what="the listener to find the stall",
            )
            proxy.resume()
            await wait_until(lambda: collector.of("gap"), WAIT, what="listening again")
            await notify(pg, channel, "after")
            await wait_until(lambda: engine.log.total == 1, WAIT, what="the notification")
        return {"collector": collector, "stalled_at": stalled_at}

    got = run(qasync_loop, scenario(), timeout=120)
    collector, stalled_at = got["collector"], got["stalled_at"]
    lost = first(collector, Disconnected, stalled_at, from_listener)
    found_in = lost.at - stalled_at
    print(f"quick settings: stall found in {found_in:.2f} s")
    assert found_in <= settings.listener_silence_bound + LATE
    [gap] = collector.of("gap")
    assert stalled_at - settings.listener_silence_bound <= gap.started_at <= stalled_at + LATE
    assert gap.started_at < lost.at - settings.listener_check_timeout  # not when found
    assert gap.reason.startswith(WENT_SILENT)


@pytest.mark.slow
def test_a_channel_added_during_a_stall_cannot_hold_the_listener(
    pg: PostgresServer, proxy: StallingProxy, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """LISTEN is bounded like the check: the stall is found within the check's timeout of
    the change, however long the quiet spell before the next check would be."""
    first_channel, second_channel = channel_name(), channel_name()
    settings = quick_settings(listener_check_interval=60.0, listener_check_timeout=2.0)

    async def scenario() -> tuple[Collector, float]:
        collector = Collector()
        engine = MonitorEngine(
            Target.from_conninfo(pg.uri(port=proxy.port)), settings, channels=[first_channel]
        )
        engine.subscribe(collector)
        async with engine:
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, what="listening"
            )
            proxy.stall()
            changed_at = time.time()
            engine.add_channel(second_channel)
            await wait_until(
                lambda: first(collector, Disconnected, changed_at, from_listener),
                WAIT,
                what="the listener to find the stall",
            )
            proxy.resume()
            await wait_until(lambda: collector.of("gap"), WAIT, what="listening again")
            await notify(pg, second_channel, "on the added channel")
            await wait_until(lambda: engine.log.total == 1, WAIT, what="the notification")
        return collector, changed_at

    collector, changed_at = run(qasync_loop, scenario(), timeout=120)
    lost = first(collector, Disconnected, changed_at, from_listener)
    assert lost.at - changed_at <= settings.listener_check_timeout + LATE
    assert collector.of("gap")[0].channels == (first_channel, second_channel)


@pytest.mark.slow
def test_health_leaves_healthy_while_its_check_waits_and_is_down_at_its_timeout(
    pg: PostgresServer, proxy: StallingProxy, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """No listener here, and a check a minute: the check asked for during the stall says
    degraded once it is later than a healthy answer, down once past its timeout, while it
    is still waiting; after the stall the next check is healthy."""
    settings = quick_settings(health_interval=60.0, health_timeout=3.0)

    async def scenario() -> tuple[list[HealthReport], float]:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(pg.uri(port=proxy.port)), settings)
        engine.subscribe(collector)
        async with engine:
            await until_healthy(engine)
            assert proxy.stall() >= 1
            asked_at = time.time()
            engine.check_health_now()
            await wait_until(
                lambda: engine.health.status is Health.DOWN, WAIT, what="down while stalled"
            )
            proxy.resume()
            await until_healthy(engine)
            await wait_until(
                lambda: collector.of("health")[-1].status is Health.HEALTHY,
                WAIT,
                what="the healthy report delivered",
            )
        reports = [r for r in collector.of("health") if r.at >= asked_at]
        return reports, asked_at

    reports, asked_at = run(qasync_loop, scenario(), timeout=120)
    degraded, down = reports[0], next(r for r in reports if r.status is Health.DOWN)
    assert degraded.status is Health.DEGRADED
    assert degraded.error == "SELECT 1 has not answered for 0.5 s"
    assert degraded.at - asked_at <= settings.degraded_latency + LATE
    assert down.error is not None
    assert down.error.startswith("no answer to SELECT 1 within 3 s")
    assert down.at - asked_at <= settings.effective_health_timeout + LATE
    assert reports[-1].status is Health.HEALTHY


def test_the_listen_connection_has_the_kernel_give_up_on_unacknowledged_data(
    pg: PostgresServer,
) -> None:
    """On a real network (no proxy's kernel in between to acknowledge) the kernel ends the
    connection within the check's timeout of sending it data the peer never acknowledged."""
    kwargs = session_kwargs(Target.from_conninfo(pg.uri()), PoolSettings(), listen_check_timeout=3)
    with (
        psycopg.connect(**kwargs) as conn,
        socket.socket(fileno=os.dup(conn.fileno())) as sock,
    ):
        assert sock.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT) == 3000
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


def test_a_late_check_only_ever_makes_health_worse() -> None:
    reports: list[HealthReport] = []
    masker = SecretMasker()
    pool = PoolRunner(Target.from_conninfo("host=h"), PoolSettings(), masker=masker)
    checker = HealthChecker(
        pool, interval=60, timeout=3, degraded_latency=0.5, masker=masker, on_report=reports.append
    )
    checker.note_overdue("the listener's SELECT 1 has not answered for 0.5 s")
    assert reports == []  # not known yet: still connecting, not degraded
    checker.last = HealthReport(Health.HEALTHY, time.time(), 1.0, None, None)
    checker.note_overdue("the listener's SELECT 1 has not answered for 0.5 s")
    checker.note_overdue("again")  # already degraded: nothing new to say
    assert [(r.status, r.error) for r in reports] == [
        (Health.DEGRADED, "the listener's SELECT 1 has not answered for 0.5 s")
    ]
    assert checker.status is Health.DEGRADED

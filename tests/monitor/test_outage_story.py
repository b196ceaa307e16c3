"""An outage told once, by health: it leaves healthy at the first sign (the listener's lost
connection, a refused connect), not at the check's timeout; its reasons lead with the
cause; every report while away says since when; the first answer after it carries the
outage in one line. On a throwaway server of this module's own, stopped for real."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import replace
from typing import Any

import pytest

from supalink.error_texts import SERVER_RESTART, short_reason
from supalink.monitor import MonitorEngine, MonitorSettings, PoolSettings
from supalink.monitor.events import Disconnected, Reconnected
from supalink.monitor.health import Health, HealthReport
from supalink.monitor.listener import ListenerState
from supalink.profiles import Target
from tests.support.monitoring import Collector, channel_name, run, wait_until
from tests.support.postgres import PostgresServer

WAIT = 60.0  # bounds for a loaded 2-core machine, far above what each step takes
CHECK_TIMEOUT = 10.0  # the default: what the health card used to wait before "Down"
# What a stopping server is called: "the database system is shutting down" to a new
# login, its socket closed under a connection, then nobody at the port.
CAUSES = {SERVER_RESTART, "connection lost", "connection refused"}


def default_timings() -> MonitorSettings:
    """The monitor's defaults: a check a minute bounded by 10 s, so that leaving healthy
    within a few seconds can only come from the first signs, not from a check's timeout."""
    return MonitorSettings(pool=PoolSettings(), server_view_interval=30.0)


@pytest.mark.slow
def test_health_leaves_healthy_at_the_first_sign_says_the_cause_and_sums_up_the_outage(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name()
    settings = default_timings()
    assert settings.effective_health_timeout == CHECK_TIMEOUT

    async def scenario() -> dict[str, Any]:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(scratch_pg.uri()), settings, channels=[channel])
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, "listening"
            )
            asked = time.time()
            await asyncio.to_thread(scratch_pg.stop, "fast")
            stopped = time.time()
            await wait_until(lambda: engine.health.status is not Health.HEALTHY, WAIT, "left")
            left_at = time.time()
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            await asyncio.sleep(1.0)  # down long enough to see in the summary
            await asyncio.to_thread(scratch_pg.start)
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "back")
            await wait_until(
                lambda: any(isinstance(e, Reconnected) and e.source == "pool"
                            for e in collector.events),
                WAIT,
                "the pool's reconnected event delivered",
            )  # fmt: skip
            await wait_until(lambda: collector.of("gap"), WAIT, "the listener's gap delivered")
        return {
            "collector": collector,
            "asked": asked,
            "stopped": stopped,
            "left_at": left_at,
        }

    seen = run(qasync_loop, scenario(), timeout=240)
    reports: list[HealthReport] = [
        r for r in seen["collector"].of("health") if r.at >= seen["asked"]
    ]
    away = reports[: next(i for i, r in enumerate(reports) if r.latency_ms is not None)]
    back = reports[len(away)]
    # Left healthy at the first sign: well before a check's 10 s timeout could say so.
    assert away[0].at - seen["asked"] < CHECK_TIMEOUT / 2, away[0]
    assert seen["left_at"] - seen["stopped"] < CHECK_TIMEOUT / 2
    # Every report while away says since when: the moment health left healthy.
    assert all(r.since == away[0].at for r in away), away
    downs = [r for r in away if r.status is Health.DOWN]
    assert downs
    for report in downs:
        # The cause first (a line cut short still says it), in the monitor's few words.
        assert report.error is not None
        cause = short_reason(report.error)
        assert cause in CAUSES, report.error
        assert report.error.startswith(cause), report.error
    # The first answer carries the outage: from leaving healthy to now, with its cause.
    outage = back.recovered
    assert outage is not None
    assert outage.started_at == away[0].at
    assert outage.ended_at == back.at
    assert outage.seconds >= 1.0
    gaps = seen["collector"].of("gap")
    assert len(gaps) == 1
    if gaps[0].reason == SERVER_RESTART and gaps[0].ended_at <= back.at:
        # The listener heard the restart while health was still down: one name for both.
        assert outage.cause == SERVER_RESTART
    else:
        assert outage.cause == short_reason(downs[0].error or "")
    assert re.fullmatch(
        rf"down {outage.seconds:.0f} s \(\d\d:\d\d:\d\d\u2013\d\d:\d\d:\d\d\): {outage.cause}",
        outage.summary,
    )
    assert back.as_dict()["recovered"] == outage.summary
    # The pool's own events tell the same story, with the same times.
    events = seen["collector"].events
    gone = next(e for e in events if isinstance(e, Disconnected) and e.source == "pool")
    returned = next(e for e in events if isinstance(e, Reconnected) and e.source == "pool")
    assert gone.at == downs[0].at
    assert returned.away_seconds == outage.seconds


async def ask_once(engine: MonitorEngine) -> None:
    """A request through the pool; it fails (in up to 10 s): that is the point."""
    with contextlib.suppress(Exception):
        await engine.refresh_server_view()


@pytest.mark.slow
def test_without_a_listener_the_first_refused_connect_is_enough_to_be_down(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """No channel, so no listener to notice: the first request after the stop finds its
    connection dead, the pool's new one refused, and health is down at that refusal, not
    at the 10 s the check it started may wait."""
    settings = default_timings()

    async def scenario() -> tuple[float, HealthReport | None]:
        engine = MonitorEngine(Target.from_conninfo(scratch_pg.uri()), settings)
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            asked = time.monotonic()
            request = asyncio.ensure_future(ask_once(engine))
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            took = time.monotonic() - asked
            report = engine.health.last
            await request
            await asyncio.to_thread(scratch_pg.start)
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "back")
        return took, report

    took, report = run(qasync_loop, scenario(), timeout=240)
    assert took < CHECK_TIMEOUT / 2
    assert report is not None
    assert report.error is not None
    assert short_reason(report.error) in CAUSES, report.error


CONNECT_TIMEOUT = 2.0  # the pool's reconnect attempts last this long: short, for test time


def short_connects() -> MonitorSettings:
    """The default minute between checks, no server view to ask for a connection, and
    reconnect attempts that give up after 2 s."""
    settings = MonitorSettings(
        pool=PoolSettings(connect_timeout=CONNECT_TIMEOUT), server_view_interval=600.0
    )
    assert settings.pool.health_interval == 60.0
    return settings


async def next_report(engine: MonitorEngine) -> HealthReport:
    """The next check's report (while down, only a check reports: nothing is worse)."""
    before = engine.health.last
    await wait_until(lambda: engine.health.last is not before, WAIT, "the next report")
    assert engine.health.last is not None
    return engine.health.last


@pytest.mark.slow
def test_back_within_seconds_of_the_server_after_the_pool_gave_up_reconnecting(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Down longer than the pool's reconnect attempts last: nothing but a request makes
    psycopg_pool try again, so the checks while down are what see the server back, seconds
    after its return, not at the next minute's tick."""

    async def scenario() -> float:
        engine = MonitorEngine(Target.from_conninfo(scratch_pg.uri()), short_connects())
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await ask_once(engine)
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            assert (await next_report(engine)).status is Health.DOWN
            await asyncio.sleep(3 * CONNECT_TIMEOUT)  # every attempt then made gave up
            await asyncio.to_thread(scratch_pg.start)
            started = time.monotonic()
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "back")
            return time.monotonic() - started

    took = run(qasync_loop, scenario(), timeout=240)
    # Seconds, where the next tick would have been a minute away: checks while down are a
    # second apart, and the pool's attempts inside one are at most its timeout apart.
    assert took < 20.0, took


@pytest.mark.slow
def test_a_request_that_failed_while_down_does_not_degrade_the_first_answer(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Failed requests since the last check degrade health, except those of an outage:
    they are its own, and the first answer after it says healthy, with the outage."""
    # Checks while down last their 10 s: the one running when the server is back answers
    # first, and no report comes between the failed request and that answer.
    settings = replace(short_connects(), pool=PoolSettings(connect_timeout=10.0))

    async def scenario() -> tuple[HealthReport, list[HealthReport]]:
        collector = Collector()
        engine = MonitorEngine(Target.from_conninfo(scratch_pg.uri()), settings)
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await ask_once(engine)
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            last_down = await next_report(engine)
            errors = engine.pool.measures().counters.errors
            with contextlib.suppress(Exception):  # fails after the last report, at once
                async with engine.pool.connection(0.2):
                    raise AssertionError("the server is stopped")
            assert engine.pool.measures().counters.errors == errors + 1
            assert engine.health.last is last_down
            await asyncio.to_thread(scratch_pg.start)
            await wait_until(lambda: engine.health.status is not Health.DOWN, WAIT, "answered")

            def delivered() -> list[HealthReport]:
                reports: list[HealthReport] = collector.of("health")
                return reports[reports.index(last_down) + 1 :] if last_down in reports else []

            await wait_until(delivered, WAIT, "the reports after the last one down delivered")
            return last_down, delivered()

    last_down, after = run(qasync_loop, scenario(), timeout=240)
    first = after[0]
    assert first.status is Health.HEALTHY, (last_down, after)
    assert first.recovered is not None

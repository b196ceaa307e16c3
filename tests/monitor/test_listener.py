"""LISTEN on a dedicated connection: order, payloads, channel names, floods, poolers."""

from __future__ import annotations

import asyncio
import itertools
import json
import selectors
import time
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from supalink.errors import UsageError
from supalink.monitor import MonitorEngine
from supalink.monitor.bus import MAX_PENDING
from supalink.monitor.events import Event, Notification
from supalink.monitor.listener import ListenerState
from supalink.monitor.listener_connection import REFUSAL
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target
from supalink.profiles.supabase import Mode
from tests.support.monitoring import Collector, channel_name, quick_settings, run, wait_until
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer

UNICODE = "ünïcödé 漢字 🙂 \"quoted\" 'single' \\ back\nnew line\ttab"
# 7,999 bytes, the most PostgreSQL takes, in two-byte characters with a one-byte tail.
BIG_UNICODE = "é" * 3999 + "x"
BIG_ASCII = "x" * 7999


async def send(uri: str, *notes: tuple[str, str], one_transaction: bool = False) -> None:
    async with await psycopg.AsyncConnection.connect(uri, autocommit=not one_transaction) as conn:
        for channel, payload in notes:
            await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
        if one_transaction:
            await conn.commit()


def received(collector: Collector) -> list[tuple[str, str]]:
    return [(n.channel, n.payload) for n in collector.of("notification")]


def test_notifications_on_two_channels_arrive_in_order_with_payloads_intact(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    # Any name works: it is quoted as an identifier, case and spaces kept.
    odd = f'Jobs "Queue" é {channel_name()}'
    plain = channel_name()
    assert len(BIG_UNICODE.encode()) == 7999
    notes = [
        (odd, "first"),
        (plain, UNICODE),
        (odd, BIG_UNICODE),
        (plain, BIG_ASCII),
        (odd, json.dumps({"id": 7, "tags": ["a", "é"]})),
        (plain, ""),
    ]

    async def scenario() -> tuple[list[tuple[str, str]], Any]:
        collector = Collector()
        async with MonitorEngine(
            Target.from_conninfo(pg.uri()), quick_settings(), channels=[odd, plain]
        ) as engine:
            engine.subscribe(collector)
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            await send(pg.uri(), *notes[:3])  # one transaction each
            await send(pg.uri(), *notes[3:], one_transaction=True)
            await wait_until(lambda: len(received(collector)) >= len(notes), what="all notes")
            await asyncio.sleep(0.2)  # nothing more may come
            return received(collector), engine.log

    got, log = run(qasync_loop, scenario())
    assert got == notes
    assert log.total == len(notes)
    assert log.per_channel == {odd: 3, plain: 3}
    first = next(iter(log))
    assert isinstance(first, Notification)
    assert first.pid > 0
    assert first.as_dict()["received_at"].endswith("+00:00")


def test_channels_can_be_added_and_removed_while_listening(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    first, second = channel_name(), channel_name()

    async def scenario() -> list[tuple[str, str]]:
        collector = Collector()
        async with MonitorEngine(Target.from_conninfo(pg.uri()), quick_settings()) as engine:
            engine.subscribe(collector)
            assert engine.listener.state is ListenerState.IDLE  # no channel, no connection
            engine.add_channel(first)
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            payload = await engine.send_test_notification(first)
            await wait_until(lambda: received(collector), what="the test notification")
            assert json.loads(payload)["test"] is True
            engine.add_channel(second)
            engine.remove_channel(first)
            await asyncio.sleep(0.2)
            await send(pg.uri(), (first, "not listening any more"), (second, "now listening"))
            await wait_until(lambda: len(received(collector)) >= 2, what="the second")
            await asyncio.sleep(0.2)
            return received(collector)

    got = run(qasync_loop, scenario())
    assert got[1:] == [(second, "now listening")]
    assert got[0][0] == first


def test_listening_through_a_session_pooler_works(
    pgbouncer: Pgbouncer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name()

    async def scenario() -> list[tuple[str, str]]:
        collector = Collector()
        async with MonitorEngine(
            Target.from_conninfo(pgbouncer.uri()), quick_settings(), channels=[channel]
        ) as engine:
            engine.subscribe(collector)
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            await send(pgbouncer.uri(), (channel, "via pgbouncer"))
            await wait_until(lambda: received(collector), what="the notification")
            return received(collector)

    assert run(qasync_loop, scenario()) == [(channel, "via pgbouncer")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", [None, Mode.TRANSACTION, Mode.DEDICATED], ids=["detected", "declared", "dedicated"]
)
def test_listening_through_a_transaction_pooler_is_refused_with_a_reason(
    transaction_bouncer: Pgbouncer, qasync_loop: asyncio.AbstractEventLoop, mode: Mode | None
) -> None:
    async def scenario() -> Collector:
        collector = Collector()
        target = Target.from_conninfo(transaction_bouncer.uri(), mode=mode)
        engine = MonitorEngine(target, quick_settings(), channels=[channel_name()])
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: engine.listener.state is ListenerState.REFUSED)
            await wait_until(lambda: collector.of("error"), what="the refusal")
            # The pool itself is fine through it: only LISTEN is refused.
            await wait_until(lambda: collector.of("health"), what="a health report")
        return collector

    collector = run(qasync_loop, scenario())
    [refusal] = collector.of("error")
    assert refusal.source == "listener"
    assert refusal.permanent
    assert refusal.message == REFUSAL
    assert "transaction-mode pooler" in refusal.message
    assert collector.of("health")[0].status == "healthy"
    assert collector.of("notification") == []


class CountingSelector(selectors.DefaultSelector):
    """Counts the loop's trips through select(): one per wakeup."""

    def __init__(self) -> None:
        super().__init__()
        self.selects = 0

    def select(self, timeout: float | None = None) -> Any:
        self.selects += 1
        return super().select(timeout)


@pytest.mark.slow
def test_an_idle_monitor_does_not_poll(pg: PostgresServer) -> None:
    """With the default cadence (stats 1 Hz, health every minute, the listener's own check
    after 10 s of quiet) an idle monitor wakes a few times a second at most; psycopg's own
    notifies() would wake ten."""
    selector = CountingSelector()
    loop = asyncio.SelectorEventLoop(selector)
    defaults = MonitorSettings()
    settings = quick_settings(
        health_interval=60.0,
        stats_interval=1.0,
        listener_check_interval=defaults.listener_check_interval,
        listener_check_timeout=defaults.listener_check_timeout,
    )

    async def scenario() -> int:
        async with MonitorEngine(
            Target.from_conninfo(pg.uri()), settings, channels=[channel_name()]
        ) as engine:
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            await wait_until(lambda: engine.health.last is not None, what="first check")
            await asyncio.sleep(1.0)  # let start-up settle
            before = selector.selects
            await asyncio.sleep(3.0)
            return selector.selects - before

    try:
        wakeups = loop.run_until_complete(asyncio.wait_for(scenario(), 30))
    finally:
        loop.close()
    print(f"idle monitor: {wakeups} loop wakeups in 3 s")
    assert wakeups <= 20


def test_a_flood_is_counted_exactly_and_the_qt_loop_stays_responsive(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    total = 100_000
    channel = channel_name("flood")

    async def scenario() -> dict[str, Any]:
        delivered = 0
        batch_times: list[float] = []
        batch_sizes: list[int] = []

        def on_batch(batch: Sequence[Event]) -> None:
            nonlocal delivered
            batch_times.append(time.monotonic())
            batch_sizes.append(len(batch))
            delivered += sum(1 for event in batch if event.event == "notification")

        async with MonitorEngine(
            Target.from_conninfo(pg.uri()), quick_settings(), channels=[channel]
        ) as engine:
            engine.subscribe(on_batch)
            await wait_until(lambda: engine.listener.state is ListenerState.LISTENING)
            worst_lag = 0.0
            flooding = True

            async def measure_lag() -> None:
                nonlocal worst_lag
                loop = asyncio.get_running_loop()
                while flooding:
                    before = loop.time()
                    await asyncio.sleep(0.01)
                    worst_lag = max(worst_lag, loop.time() - before - 0.01)

            lag_task = asyncio.create_task(measure_lag())
            started = time.monotonic()
            async with await psycopg.AsyncConnection.connect(pg.uri()) as sender:
                # Distinct payloads: PostgreSQL folds identical ones within a transaction.
                await sender.execute(
                    "SELECT pg_notify(%s, i::text) FROM generate_series(1, %s) AS i",
                    (channel, total),
                )
                await sender.commit()
            await wait_until(lambda: delivered >= total, timeout=120, what="the whole flood")
            elapsed = time.monotonic() - started
            flooding = False
            await lag_task
            await asyncio.sleep(0.3)
            log = engine.log
            last = list(log)[-1]
            assert isinstance(last, Notification)
            return {
                "delivered": delivered,
                "total": log.total,
                "kept": len(log),
                "evicted": log.evicted,
                "last": last.payload,
                "elapsed": elapsed,
                "worst_lag": worst_lag,
                # Between the batches that are not full (a full one goes at once).
                "gaps": [
                    b - a
                    for a, b in itertools.pairwise(
                        when
                        for when, size in zip(batch_times, batch_sizes, strict=True)
                        if size < MAX_PENDING
                    )
                ],
                "batches": len(batch_times),
            }

    figures = run(qasync_loop, scenario(), timeout=180)
    print(
        f"flood: {total} notifications in {figures['elapsed']:.2f} s, "
        f"{figures['batches']} batches, worst Qt loop lag {figures['worst_lag'] * 1000:.0f} ms"
    )
    assert figures["delivered"] == total
    assert figures["total"] == total
    assert figures["kept"] == 10_000  # the ring keeps the last N...
    assert figures["evicted"] == total - 10_000  # ...and counts the rest
    assert figures["last"] == str(total)
    # Batched: never more than about ten deliveries a second, but for full batches (a batch
    # holds at most MAX_PENDING: its notifications stay in memory until it is delivered).
    assert min(figures["gaps"], default=1.0) >= 0.08
    # Generous behavioural bound: the window would still repaint during the flood.
    assert figures["worst_lag"] < 1.0


def test_the_largest_test_notification_arrives_and_nothing_is_delivered_after_the_stop(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name()

    async def scenario() -> tuple[Collector, int]:
        engine = MonitorEngine(Target.from_conninfo(pg.uri()), quick_settings(), channels=[channel])
        collector = Collector()
        engine.subscribe(collector)
        async with engine:
            await wait_until(lambda: collector.of("listening"), what="listening")
            await engine.send_test_notification(channel, BIG_UNICODE)
            await wait_until(lambda: collector.of("notification"), what="the notification")
        delivered = len(collector.batches)
        await asyncio.sleep(3 * engine.settings.batch_interval)
        with pytest.raises(UsageError, match="at most 7999 bytes"):
            await engine.send_test_notification(channel, "x" * 8000)
        return collector, delivered

    collector, delivered = run(qasync_loop, scenario())
    assert [n.payload for n in collector.of("notification")] == [BIG_UNICODE]
    assert collector.of("stats")
    assert len(collector.batches) == delivered  # the stop delivered the last batch

"""Floods of notifications, run inside a worker process (tests/benchmarks/worker.py):

- ingest: notifications per second through MonitorEngine under the app's qasync loop,
  against a bare psycopg `notifies()` loop under plain asyncio; each run sends `count`
  notifications in one transaction (generate_series + pg_notify) and times from the
  commit to the consumer holding the last one;
- loop lag: the same flood with the monitor window open, measured as how late a precise
  10 ms Qt timer fires while the flood is taken in and shown;
- soak: resident memory after `total` notifications (10,000,000 in the full run) against
  after the first 10,000, the monitor window open (its table keeps the last 10,000 rows),
  sent in batches so that the server's notification queue never fills.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import psycopg

from supalink.profiles import Target
from tests.benchmarks.figures import median, percentile, rss_mb
from tests.benchmarks.worker import side

T = TypeVar("T")
TICK_MS = 10
BULK_SQL = "SELECT pg_notify(%s, i::text) FROM generate_series(%s::int, %s::int) AS i"
# A realistic event: a small JSON object, distinct each time (PostgreSQL folds duplicates
# within a transaction).
SOAK_SQL = (
    "SELECT pg_notify(%s, json_build_object('event', 'order.created', 'id', i, "
    "'amount', i * 9.99, 'at', now())::text) FROM generate_series(%s::int, %s::int) AS i"
)


def _channel() -> str:
    return f"bench_{uuid.uuid4().hex[:8]}"


async def _wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def _send(uri: str, sql: str, channel: str, first: int, last: int) -> float:
    """Queue the notifications in one transaction; returns when the commit was sent."""
    async with await psycopg.AsyncConnection.connect(uri) as sender:
        await sender.execute(sql, (channel, first, last))
        committing = time.perf_counter()
        await sender.commit()
    return committing


# ----- baseline: bare psycopg under plain asyncio ---------------------------------------


async def _bare_ingest(uri: str, count: int) -> float:
    channel = _channel()
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as listener:
        await listener.execute(f"LISTEN {channel}")
        received = 0

        async def consume() -> float:
            nonlocal received
            async for _ in listener.notifies():
                received += 1
                if received == count:
                    break
            return time.perf_counter()

        consumer = asyncio.create_task(consume())
        try:
            await asyncio.sleep(0.05)  # the consumer is waiting on the socket
            started = await _send(uri, BULK_SQL, channel, 1, count)
            ended = await asyncio.wait_for(consumer, 120)
        finally:
            consumer.cancel()  # it holds the connection: closing would wait for it
            await asyncio.gather(consumer, return_exceptions=True)
    return count / (ended - started)


# ----- the app: MonitorEngine under the qasync loop -------------------------------------


def _qt_run(coro_factory: Callable[[], Coroutine[Any, Any, T]], timeout: float = 600) -> T:
    """Run a coroutine on a fresh app loop (supalink.app.qt.build_event_loop), in a process set
    up as the app's is once started (modules loaded, startup.freeze_loaded_objects)."""
    from PySide6.QtWidgets import QApplication

    from supalink.app.qt import build_event_loop, read_sources_without_keeping

    read_sources_without_keeping()  # as qt_application() does, before the app's modules load
    import supalink.ui.monitors  # noqa: F401 - loaded, as the app loads it when it starts
    from supalink.app.startup import freeze_loaded_objects

    existing = QApplication.instance()
    qt_app = existing if isinstance(existing, QApplication) else QApplication([])
    # As the app (app/quitting.py): closing a scenario's last window must not quit Qt. It
    # did, now and then: the window's close posts a Quit that Qt could take before
    # wait_for's task had finished, and qasync then raised "Event loop stopped before
    # Future completed" (the bare idle worker, about one run in a hundred or two).
    qt_app.setQuitOnLastWindowClosed(False)
    loop = build_event_loop(qt_app)
    asyncio.set_event_loop(loop)
    freeze_loaded_objects()  # what the app does once started, before a monitor opens
    try:
        return loop.run_until_complete(asyncio.wait_for(coro_factory(), timeout))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


async def _listening(engine: Any) -> None:
    from supalink.monitor.listener import ListenerState

    await _wait_until(lambda: engine.listener.state is ListenerState.LISTENING, 30, "the listener")


async def _engine_ingest(uri: str, count: int) -> float:
    from supalink.monitor.engine import MonitorEngine

    channel = _channel()
    engine = MonitorEngine(Target.from_conninfo(uri), channels=[channel])
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_batch(batch: Sequence[object]) -> None:
        if engine.log.total >= count and not done.done():
            done.set_result(time.perf_counter())

    engine.subscribe(on_batch)
    async with engine:
        await _listening(engine)
        started = await _send(uri, BULK_SQL, channel, 1, count)
        ended = await asyncio.wait_for(done, 120)
    return count / (ended - started)


def ingest(uri: str, count: int, runs: int) -> dict[str, Any]:
    def bare_run(count: int) -> float:
        with side("bare"):
            return asyncio.run(_bare_ingest(uri, count))

    def engine_run(count: int) -> float:
        with side("app"):
            return _qt_run(lambda: _engine_ingest(uri, count))

    bare_run(min(count, 10_000))  # warm both paths once
    engine_run(min(count, 10_000))
    bare, engine = [], []
    for _ in range(runs):
        bare.append(bare_run(count))
        engine.append(engine_run(count))
    return {
        "ingest_ratio": median(engine) / median(bare),
        "ingest_engine_per_s": median(engine),
        "ingest_bare_per_s": median(bare),
        "ingest_count": count,
        "ingest_runs": runs,
    }


# ----- loop lag with the window open ----------------------------------------------------


async def _window_flood(uri: str, count: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt, QTimer

    from supalink.monitor.engine import MonitorEngine
    from supalink.ui.monitor_window import MonitorWindow

    channel = _channel()
    window = MonitorWindow(MonitorEngine(Target.from_conninfo(uri), channels=[channel]), "bench")
    window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    window.show()
    await window.start()
    try:
        await _listening(window.engine)
        await asyncio.sleep(0.5)  # the first stats, health and server view are in
        ticks: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(TICK_MS)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        received: list[float] = []  # when the engine had the whole flood

        def on_batch(batch: Sequence[object]) -> None:
            if window.engine.log.total >= count and not received:
                received.append(time.perf_counter())

        window.engine.subscribe(on_batch)
        timer.start()
        started = await _send(uri, BULK_SQL, channel, 1, count)
        shown = f"{count:,} received"
        await _wait_until(
            lambda: shown in window.notifications.counts.text(), 120, "the flood to be shown"
        )
        ended = time.perf_counter()
        # The counts read the engine's log, which can be ahead of the batch that brings the
        # flood's last notifications (a catch-up on the window's own timer): wait for it.
        await _wait_until(lambda: received, 30, "the flood's last batch")
        timer.stop()
    finally:
        window.close()
        await window.stop()
    # p99 while the flood comes in; the worst tick until the window has shown it all (its
    # last catch-up comes up to a second later, and the quiet ticks before it would
    # thin out the percentile).
    lags = _lags([tick for tick in ticks if started <= tick <= received[0]])
    until_shown = _lags([tick for tick in ticks if started <= tick <= ended])
    # A short flood (--quick) can be in before a second tick: then the ticks until shown.
    lags = lags or until_shown
    return {
        "p99": percentile(lags, 0.99) if lags else 0.0,
        "max": max(until_shown, default=0.0),
        "rate": count / max(received[0] - started, 1e-6),
    }


def _lags(ticks: list[float]) -> list[float]:
    return [(b - a) * 1000 - TICK_MS for a, b in itertools.pairwise(ticks)]


def loop_lag(uri: str, count: int, runs: int) -> dict[str, Any]:
    with side("app"):  # its only side: the figure is the app's alone
        _qt_run(lambda: _window_flood(uri, min(count, 10_000)))
        results = [_qt_run(lambda: _window_flood(uri, count)) for _ in range(runs)]
    return {
        "loop_lag_p99_ms": median([r["p99"] for r in results]),
        "loop_lag_max_ms": max(r["max"] for r in results),
        "loop_lag_p99_each_ms": [round(r["p99"], 1) for r in results],
        "ingest_window_per_s": median([r["rate"] for r in results]),
        "loop_lag_runs": runs,
    }


# ----- memory soak ----------------------------------------------------------------------


async def _soak(uri: str, total: int, first: int, chunk: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt

    from supalink.monitor.engine import MonitorEngine
    from supalink.ui.monitor_window import MonitorWindow

    channel = _channel()
    window = MonitorWindow(MonitorEngine(Target.from_conninfo(uri), channels=[channel]), "bench")
    window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    window.show()
    await window.start()
    engine = window.engine

    async def send_until(sender: psycopg.AsyncConnection[Any], last: int) -> None:
        """Batches of `chunk` notifications, one transaction each, on one connection; the
        next one goes once all but one batch sent have arrived, so at most two wait in the
        server's queue (its 8 GB is never the limit) and the window is never idle."""
        sent = engine.log.total
        while sent < last:
            upto = min(last, sent + chunk)

            def caught_up(ahead: int = sent - chunk) -> bool:
                return engine.log.total >= ahead

            await _wait_until(caught_up, 120, f"{sent:,} notifications")
            await sender.execute(SOAK_SQL, (channel, sent + 1, upto))
            await sender.commit()
            sent = upto
        await _wait_until(lambda: engine.log.total >= last, 120, f"{last:,} notifications")
        shown = f"{last:,} received"
        await _wait_until(lambda: shown in window.notifications.counts.text(), 30, "the table")
        await asyncio.sleep(1.0)  # a few idle stats ticks and repaints

    try:
        await _listening(engine)
        async with await psycopg.AsyncConnection.connect(uri) as sender:
            started = time.perf_counter()
            await send_until(sender, first)
            after_first = rss_mb()
            await send_until(sender, total)
            after_all = rss_mb()
            took = time.perf_counter() - started
        assert engine.log.total == total, engine.log.total
    finally:
        window.close()
        await window.stop()
    return {
        "soak_rss_growth_mb": after_all - after_first,
        "soak_rss_after_first_mb": after_first,
        "soak_rss_after_all_mb": after_all,
        "soak_count": total,
        "soak_seconds": took,
    }


def soak(uri: str, total: int, first: int = 10_000, chunk: int = 50_000) -> dict[str, Any]:
    with side("app"):
        return _qt_run(lambda: _soak(uri, total, first, chunk), timeout=3600)

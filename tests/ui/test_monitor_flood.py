"""A flood of 100,000 notifications: counted exactly while the Qt loop stays responsive."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections import Counter
from typing import Any

import psycopg
from PySide6.QtCore import QTimer

from supalink.app.startup import freeze_loaded_objects
from tests.support.monitoring import Collector, channel_name, run, wait_until
from tests.support.postgres import PostgresServer
from tests.ui.monitor_support import live_window, model_payloads

FLOOD = 100_000
TICK_MS = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def test_a_flood_is_counted_exactly_while_the_loop_stays_responsive(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name("flood")

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, pg.uri(), channels=[channel]) as window:
            model, panel = window.notifications.model, window.notifications
            changes: Counter[str] = Counter()
            model.rowsInserted.connect(lambda *_: changes.update(["inserts"]))
            model.modelReset.connect(lambda: changes.update(["resets"]))
            batches = Collector()
            window.engine.subscribe(batches)
            # The loop's lag: how late a 10 ms Qt timer fires while the flood is taken in.
            ticks: list[float] = []
            timer = QTimer()
            timer.setInterval(TICK_MS)
            timer.timeout.connect(lambda: ticks.append(time.monotonic()))
            timer.start()
            started = time.monotonic()
            async with await psycopg.AsyncConnection.connect(pg.uri()) as sender:
                await sender.execute(
                    "SELECT pg_notify(%s, i::text) FROM generate_series(1, %s) AS i",
                    (channel, FLOOD),
                )
                await sender.commit()
            await wait_until(
                lambda: f"{FLOOD:,} received" in panel.counts.text(), timeout=60, what="all"
            )
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
            timer.stop()
            return {
                "took": took,
                "lags": [(b - a) * 1000 - TICK_MS for a, b in itertools.pairwise(ticks)],
                "total": window.engine.log.total,
                "counts": panel.counts.text(),
                "channel": panel.channels.item(0).text(),
                "rows": len(model),
                "last": model.row_at(len(model) - 1),
                "changes": changes,
                "batches": len(batches.batches),
            }

    # As in the app once started (supalink.app.startup.freeze_loaded_objects): otherwise the
    # collector's full passes walk this whole test process (270,000 objects, ~250 ms).
    freeze_loaded_objects()
    try:
        seen = run(qasync_loop, scenario(), timeout=120)
    finally:
        gc.unfreeze()
    lags = seen["lags"]
    p99, worst = percentile(lags, 0.99), max(lags)
    print(
        f"flood of {FLOOD:,}: shown in {seen['took']:.2f} s, {seen['batches']} batches, "
        f"loop lag p50 {percentile(lags, 0.5):.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms"
    )
    assert seen["total"] == FLOOD
    assert f"{FLOOD:,} received" in seen["counts"]
    assert seen["channel"].endswith(f"·  {FLOOD:,}")
    assert seen["rows"] == 10_000  # the ring keeps the last N; everything is counted
    assert seen["last"].payload == str(FLOOD)
    # Batched: at most one insert (or, for a batch larger than the ring, one reset) per batch.
    assert seen["changes"]["inserts"] + seen["changes"]["resets"] <= seen["batches"]
    assert len(lags) > 20
    assert p99 < 250


def test_a_pause_keeps_its_rows_while_a_flood_comes_in(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """The log holds a paused table's rows beyond its capacity (up to twice it): a flood
    of 15,000 after 50 shown rows leaves them all in place, and resuming shows the end."""
    channel = channel_name("paused")
    flood = 15_000

    async def send(first: int, last: int) -> None:
        async with await psycopg.AsyncConnection.connect(pg.uri()) as sender:
            await sender.execute(
                "SELECT pg_notify(%s, i::text) FROM generate_series(%s::int, %s::int) AS i",
                (channel, first, last),
            )
            await sender.commit()

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, pg.uri(), channels=[channel]) as window:
            panel, engine = window.notifications, window.engine
            await send(1, 50)
            await wait_until(lambda: len(panel.model) == 50, what="the first rows")
            panel.pause_action.trigger()
            await send(51, 50 + flood)
            await wait_until(
                lambda: f"paused, {flood:,} new" in panel.counts.text(), timeout=60, what="all"
            )
            paused = {
                "rows": model_payloads(window),
                "counts": panel.counts.text(),
                "held": len(engine.log),
            }
            panel.pause_action.trigger()
            last = panel.model.row_at(len(panel.model) - 1)
            return {**paused, "resumed": len(panel.model), "last": last, "after": len(engine.log)}

    seen = run(qasync_loop, scenario(), timeout=120)
    assert seen["rows"] == [str(n) for n in range(1, 51)]
    assert "let go" not in seen["counts"]
    assert seen["held"] == 50 + flood  # beyond the capacity while paused...
    assert seen["after"] == seen["resumed"] == 10_000  # ...and back to it on resume
    assert seen["last"].payload == str(50 + flood)

"""The monitor window catches up with what comes at most once a second while it keeps
coming: the first rows after a quiet spell show at once, the next within a second, and
what the person may be waiting on (a failure, the listener back) at once, with the rows
held. Driven through the engine's own log and bus, on an engine never started (nothing
else comes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from PySide6.QtCore import QEvent

from supalink.monitor import Batch, ErrorEvent, Listening, MonitorEngine
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target
from supalink.ui import monitor_window
from supalink.ui.monitor_window import MonitorWindow
from tests.support.monitoring import run, wait_until
from tests.ui.monitor_support import keep_loop_running_on_close
from tests.ui.test_live_table import PaintCounter
from tests.ui.test_monitor_model import note


@asynccontextmanager
async def quiet_window(qtbot: Any) -> AsyncIterator[MonitorWindow]:
    """A shown window on an engine never started: only what a test publishes comes."""
    engine = MonitorEngine(
        Target.from_conninfo("postgresql://u@127.0.0.1:1/db"), MonitorSettings(), channels=["jobs"]
    )
    window = MonitorWindow(engine, "Catching up")
    keep_loop_running_on_close(window)
    qtbot.addWidget(window)
    window.show()
    try:
        yield window
    finally:
        window.close()
        await window.stop()


class Deliveries:
    """The batches the bus delivered, seen by a consumer subscribed after the window."""

    def __init__(self, window: MonitorWindow) -> None:
        self.count = 0
        window.engine.subscribe(self._delivered)

    def _delivered(self, batch: Batch) -> None:
        self.count += 1

    async def next(self) -> None:
        before = self.count
        await wait_until(lambda: self.count > before, what="the bus's next delivery")


def arrive(window: MonitorWindow, *numbers: int) -> None:
    """Notifications received, as the engine takes them in: into its log, then the bus."""
    rows = [note(number) for number in numbers]
    window.engine.log.extend(rows)
    window.engine.bus.publish_many(rows)


def shown(window: MonitorWindow) -> int:
    return len(window.notifications.model)


def test_the_first_rows_show_at_once_and_the_next_within_the_second(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> tuple[int, int, float]:
        async with quiet_window(qtbot) as window:
            deliveries = Deliveries(window)
            arrive(window, 0)
            await deliveries.next()
            first = shown(window)  # a quiet spell before it: at once
            arrive(window, 1, 2)
            await deliveries.next()
            held = shown(window)  # delivered a tenth of a second later: waits
            started = time.monotonic()
            await wait_until(lambda: shown(window) == 3, timeout=10, what="the held rows")
            return first, held, time.monotonic() - started

    first, held, waited = run(qasync_loop, scenario())
    assert (first, held) == (1, 1)
    assert waited < monitor_window.CATCH_UP_SECONDS + 0.5  # not the next notification's


@pytest.mark.parametrize(
    "urgent",
    [
        ErrorEvent("pool", "password authentication failed", True, 1_700_000_000.0),
        Listening(("jobs",), 4242, 1_700_000_000.0),
    ],
    ids=["a permanent failure", "the listener back"],
)
def test_what_the_person_may_wait_on_shows_at_once_with_the_rows_held(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, urgent: Any
) -> None:
    async def scenario() -> tuple[int, int, bool, str]:
        async with quiet_window(qtbot) as window:
            deliveries = Deliveries(window)
            arrive(window, 0)
            await deliveries.next()
            arrive(window, 1)
            await deliveries.next()
            held = shown(window)
            window.engine.bus.publish(urgent)
            await deliveries.next()
            listening = window.notifications.listening.text()
            return held, shown(window), window.banner.isVisible(), listening

    held, after, banner, listening = run(qasync_loop, scenario())
    assert (held, after) == (1, 2)
    if isinstance(urgent, ErrorEvent):
        assert banner
    else:
        assert "Listening on jobs" in listening


@pytest.mark.slow
def test_a_steady_trickle_repaints_the_window_about_once_a_second(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Ten notifications a second for three seconds: each one's own batch (the bus's tenth
    of a second), and a window repaint for about every ten of them, not for each. Counted
    once the table overflows (the scroll bar comes) and a quiet spell passed."""
    seconds, rate, before = 3.0, 10, 40

    async def scenario() -> tuple[int, float]:
        async with quiet_window(qtbot) as window:
            arrive(window, *range(before))
            await wait_until(lambda: shown(window) == before, what="the first rows")
            await asyncio.sleep(monitor_window.CATCH_UP_SECONDS + 0.2)
            repaints = PaintCounter(window, QEvent.Type.UpdateRequest)
            started = time.monotonic()
            for number in range(before, before + int(seconds * rate)):
                arrive(window, number)
                await asyncio.sleep(1 / rate)
            everything = before + seconds * rate
            await wait_until(lambda: shown(window) == everything, what="every row")
            return repaints.count, time.monotonic() - started

    count, took = run(qasync_loop, scenario())
    # A catch-up a second and the first at once; a slow machine stretches the seconds
    # (more of them, each still one repaint). Up to four more: the counts' label widens
    # as the rate it shows climbs, and a label that grows lays the window out again.
    catch_ups = took / monitor_window.CATCH_UP_SECONDS + 1
    assert 1 <= count <= catch_ups + 4 < seconds * rate / 2, (count, took)

"""What the monitor's tests share: settings that make the monitor look often, channel names,
a collector of delivered events, and bounded waits on the loop."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from supalink.monitor import Event
from supalink.monitor.settings import MonitorSettings, PoolSettings

T = TypeVar("T")


def quick_settings(**changes: Any) -> MonitorSettings:
    """Small pools and short intervals: the behaviour of the defaults, in test time."""
    pool_changes = {k: changes.pop(k) for k in list(changes) if k in PoolSettings.__annotations__}
    pool = replace(
        PoolSettings(min_size=1, max_size=4, health_interval=0.5, connect_timeout=5),
        **pool_changes,
    )
    base = MonitorSettings(
        pool=pool,
        health_timeout=2.0,
        stats_interval=0.2,
        server_view_interval=30.0,
        listener_check_interval=5.0,
        listener_check_timeout=2.0,
    )
    return replace(base, **changes)


def channel_name(prefix: str = "ch") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


class Collector:
    """Records every batch an engine delivers, with when it arrived."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, Sequence[Event]]] = []
        self.events: list[Event] = []

    def __call__(self, batch: Sequence[Event]) -> None:
        self.batches.append((time.monotonic(), batch))
        self.events.extend(batch)

    def of(self, kind: str) -> list[Any]:
        return [event for event in self.events if event.event == kind]


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """The synchronous `wait_until`: poll `predicate` every 20 ms until it is truthy and
    return its value; fail naming `what` once `timeout` seconds have passed. For server-side
    state that follows a client's action a moment later (a closed client's backend leaves
    `pg_stat_activity` some tens of milliseconds after the close)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return value


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))

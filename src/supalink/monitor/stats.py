"""Pool statistics sampled once a second, with a bounded history for the chart."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from supalink.monitor.events import FieldsEvent
from supalink.monitor.pool import PoolCounters, PoolMeasures, PoolRunner


@dataclass(frozen=True, slots=True)
class StatsSample(FieldsEvent):
    event: ClassVar[str] = "stats"
    at: float
    state: str
    size: int
    idle: int
    in_use: int
    waiting: int
    requests: int  # counters: since the monitor started
    errors: int
    connections_lost: int
    avg_wait_ms: float  # over the requests made since the previous sample
    min_size: int
    max_size: int


def make_sample(
    measures: PoolMeasures, previous: PoolCounters | None, state: str, at: float
) -> StatsSample:
    counters = measures.counters
    before = previous or PoolCounters()
    new_requests = counters.requests - before.requests
    new_wait = counters.wait_ms - before.wait_ms
    return StatsSample(
        at=at,
        state=state,
        size=measures.size,
        idle=measures.idle,
        in_use=measures.in_use,
        waiting=measures.waiting,
        requests=counters.requests,
        errors=counters.errors + counters.connection_errors,
        connections_lost=counters.connections_lost,
        avg_wait_ms=new_wait / new_requests if new_requests > 0 else 0.0,
        min_size=measures.min_size,
        max_size=measures.max_size,
    )


class StatsSampler:
    """Samples `pool` every `interval` seconds on the loop's clock (no drift, no polling
    faster than the interval) and keeps the last `history` samples."""

    def __init__(
        self,
        pool: PoolRunner,
        *,
        interval: float = 1.0,
        history: int = 600,
        on_sample: Callable[[StatsSample], None] = lambda sample: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.history: deque[StatsSample] = deque(maxlen=history)
        self._on_sample = on_sample
        self._clock = clock
        self._previous: PoolCounters | None = None

    def sample(self) -> StatsSample:
        measures = self.pool.measures()
        sample = make_sample(measures, self._previous, str(self.pool.state), self._clock())
        self._previous = measures.counters
        self.history.append(sample)
        return sample

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            self._on_sample(self.sample())
            next_at += self.interval
            now = loop.time()
            if next_at < now:  # the loop was blocked: skip the missed ticks, do not burst
                next_at = now + self.interval
            await asyncio.sleep(next_at - now)

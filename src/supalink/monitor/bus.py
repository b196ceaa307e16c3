"""Batched delivery of events to consumers, so a flood never floods a window.

Producers `publish()` one event at a time, at any rate, or a run of notifications at
once (`publish_many`); each consumer gets them in batches, once per `interval` (0.1 s: a
window catches up on its own clock), or on the next loop turn once `max_pending` events
wait. Nothing is scheduled while nothing happens: an idle bus costs no wakeups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from supalink.monitor.events import Event

log = logging.getLogger(__name__)

# Events a batch holds at most (give or take the listener's slice of 2,000): a flood's
# batch was whatever arrived in an interval, 30,000-38,000 notifications at 200,000 a
# second and more on a faster machine, each kept alive by the batch after the log had let
# it go. That peak stayed in the process as allocator arenas (the soak's 12 MB). Under the
# log's 10,000 rows, a batch holds only rows the log holds anyway.
MAX_PENDING = 8_000


class Batch(tuple[Event, ...]):
    """One delivery: its events in order, and `singles`, those published one at a time
    (all but the runs of notifications). A consumer that reads the rows from the engine's
    log looks at those few instead of scanning a flood's 20,000 (1.5-3 ms a batch)."""

    singles: tuple[Event, ...]

    def __new__(cls, events: Sequence[Event] = (), singles: Sequence[Event] = ()) -> Batch:
        batch = super().__new__(cls, events)
        batch.singles = tuple(singles)
        return batch


BatchCallback = Callable[[Batch], object]


class EventBus:
    def __init__(self, interval: float = 0.1, max_pending: int = MAX_PENDING) -> None:
        self.interval = interval
        self.max_pending = max_pending
        self._pending: list[Event] = []
        self._singles: list[Event] = []  # of those pending, the ones published one by one
        self._callbacks: list[BatchCallback] = []
        self._handle: asyncio.TimerHandle | None = None  # the interval's flush
        self._full: asyncio.Handle | None = None  # a full batch's, on the next loop turn
        self._last_flush = float("-inf")
        self._closed = False

    def publish(self, event: Event) -> None:
        if self._closed:
            return
        self._pending.append(event)
        self._singles.append(event)
        self._schedule()

    def publish_many(self, events: Sequence[Event]) -> None:
        """publish() for a run of events (the listener's slice of a flood), at list speed."""
        if self._closed or not events:
            return
        self._pending.extend(events)
        self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        if self._handle is None:
            delay = max(0.0, self._last_flush + self.interval - loop.time())
            self._handle = loop.call_later(delay, self.flush)
        # The interval's timer keeps its time: a flood's last batch comes as soon as
        # without the bound (restarting the interval added up to 0.1 s to a flood's end).
        if self._full is None and len(self._pending) >= self.max_pending:
            self._full = loop.call_soon(self._flush_full)

    def _flush_full(self) -> None:
        self._full = None
        self._deliver()

    def subscribe(self, callback: BatchCallback) -> Callable[[], None]:
        """Call `callback(batch)` on the loop for every batch; returns the unsubscribe."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def flush(self) -> None:
        """Deliver what is pending now (the interval's timer calls this; `close` does too)."""
        for handle in (self._handle, self._full):
            if handle is not None:
                handle.cancel()
        self._handle = self._full = None
        if not self._pending:
            return
        with contextlib.suppress(RuntimeError):  # closing after the loop stopped
            self._last_flush = asyncio.get_running_loop().time()
        self._deliver()

    def _deliver(self) -> None:
        if not self._pending:
            return
        batch = Batch(self._pending, self._singles)
        self._pending, self._singles = [], []
        for callback in list(self._callbacks):
            try:
                callback(batch)
            except Exception as error:
                # One broken consumer must not starve the others; the loop's handler
                # reports it (and fails the test under the test loop).
                self._report(callback, error)

    def _report(self, callback: BatchCallback, error: Exception) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.exception("event consumer %r failed", callback)
            return
        loop.call_exception_handler(
            {"message": f"event consumer {callback!r} failed", "exception": error}
        )

    def close(self) -> None:
        """Deliver the last batch; nothing is delivered after it."""
        self.flush()
        self._closed = True

"""The listen connection's socket, read directly: notifications handed over in slices.

The socket is read with `pgconn.consume_input()` when the loop says it is readable, rather
than through `AsyncConnection.notifies()`, which wakes ten times a second to poll; an idle
listener wakes once per check interval. The socket keeps one reader between checks, and a
trickle is read in its callback: no task wakes and nothing is registered anew per
notification (under qasync each registration is a new socket notifier, and each wake two
zero-timers). A flood is handed over in slices of `SLICE` notifications, one slice per loop
turn, so the loop (and a window on it) runs in between instead of stalling while a large
buffer drains.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import psycopg
from psycopg import pq

from supalink.monitor.connections import Connection
from supalink.monitor.events import Notification

# Notifications handed over per loop turn: a few milliseconds of work, so that a flood
# leaves the loop free to repaint between slices (it reads several TLS records per turn).
SLICE = 2_000
# ...and a slice ends sooner once it has taken this long (a loaded machine, long
# payloads), looked at every SLICE_CHECK notifications: the loop lag stays under a frame.
SLICE_SECONDS = 0.002
SLICE_CHECK = 250


class SocketReader:
    """Reads one listen connection's socket on `loop`: `on_notifications` gets each slice,
    `on_heard` is called whenever the reader's callback read from the server."""

    def __init__(
        self,
        conn: Connection,
        loop: asyncio.AbstractEventLoop,
        *,
        on_notifications: Callable[[Sequence[Notification]], None],
        on_heard: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._loop = loop
        self._fd = conn.fileno()
        self._pgconn = conn.pgconn
        self._encoding = conn.info.encoding
        self._on_notifications = on_notifications
        self._on_heard = on_heard
        self._clock = clock
        self._waker: asyncio.Future[bool] | None = None
        self._watched = False  # the reader is on the socket
        self._failure: Exception | None = None  # what the reader's callback hit
        self._full = False  # ...or a full slice it read
        # Channel names as they come (bytes) to the text every row of theirs shares: decoded
        # once, not once per notification; one reader per connection (its encoding may vary).
        self._names: dict[bytes, str] = {}

    async def wait(self, timeout: float) -> bool:
        """Read what arrives until `timeout`, a `wake()`, a full slice (True: more may be
        waiting) or a failure (raised here). The socket keeps one reader while the
        connection is quiet or trickling: a notification is read in the reader's callback,
        without waking this task or registering anything anew (a new socket notifier and
        two timers per notification under qasync)."""
        loop = self._loop
        waker: asyncio.Future[bool] = loop.create_future()
        self._waker = waker
        if not self._watched:
            loop.add_reader(self._fd, self._readable)
            self._watched = True
        timer = loop.call_later(timeout, self._settle, False)
        try:
            full = await waker
        finally:
            timer.cancel()
            self._waker = None
        # What the callback found after the waker was settled (by the timer, a wake) and
        # before this task ran again is here, not in the waker.
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        full, self._full = full or self._full, False
        return full

    def wake(self) -> None:
        """End a `wait()` now (the channels changed, or a retry was asked)."""
        self._settle(False)

    def unwatch(self) -> None:
        """Take the reader off the socket: a query's own waits use it."""
        if self._watched:
            self._loop.remove_reader(self._fd)
            self._watched = False

    def read(self) -> bool:
        """Hand over at most SLICE notifications, in one call, reading the socket again
        whenever libpq's list runs dry (one TLS record per read); True when the slice was
        full, so more may be waiting. The socket is read only once the list is empty: a
        slow consumer leaves the rest in the kernel, not in memory."""
        now = self._clock()
        taken: list[Notification] = []
        pgconn, encoding = self._pgconn, self._encoding
        # Bound once: this loop runs for every notification of a flood.
        notifies, append, make = pgconn.notifies, taken.append, Notification
        names = self._names
        deadline = time.perf_counter() + SLICE_SECONDS
        check = SLICE_CHECK
        try:
            while True:
                raw = notifies()
                if raw is None:
                    pgconn.consume_input()  # raises OperationalError when the connection is gone
                    if pgconn.status != pq.ConnStatus.OK:
                        raise psycopg.OperationalError("the server closed the connection")
                    raw = notifies()
                    if raw is None:
                        return False
                channel = names.get(raw.relname)
                if channel is None:
                    channel = names[raw.relname] = raw.relname.decode(encoding)
                append(make(channel, raw.extra.decode(encoding), raw.be_pid, now))
                if len(taken) >= check:
                    if check >= SLICE or time.perf_counter() > deadline:
                        return True
                    check += SLICE_CHECK
        finally:
            if taken:  # what arrived before a failure is delivered too
                self._on_notifications(taken)

    def _settle(self, value: bool) -> None:
        if self._waker is not None and not self._waker.done():
            self._waker.set_result(value)

    def _readable(self) -> None:
        """The reader's callback: read here; a full slice or a failure goes to the task
        (the reader is removed until it waits again, so it is not called meanwhile)."""
        try:
            full = self.read()
        except Exception as error:  # raised in the task, as when the task read
            self._failure = error
            self.unwatch()
            self._settle(False)
            return
        self._on_heard()
        if full:
            self.unwatch()
            self._full = True
            self._settle(True)

"""LISTEN on the person's channels, on a dedicated connection outside the pool.

The connection is watched three ways: the socket (a closed connection wakes the reader
at once), the kernel (TCP keepalives, and `tcp_user_timeout` for data sent and never
acknowledged), and a `SELECT 1` of its own after a quiet spell, bounded, so that a
silent peer (a stalled network or pooler, which keeps the socket open and says nothing)
is found within `MonitorSettings.listener_silence_bound` of last hearing from it. A check
that is late to answer is said at once (`on_overdue`: health leaves healthy meanwhile).
After a drop it reconnects with backoff capped at a couple of seconds (so it is back
within 5 s of the server returning), LISTENs again and records the time it was away as
a gap: NOTIFY is not queued for absent listeners. The gap starts when the connection was
last known alive (for a silent one, when it was last heard from, not when that was
found) and says why in a few words, from what the lost connection said and what was
heard while away (its own reconnect attempts, and the pool and the health check through
`note_outage`).

The socket is read directly (`pgconn.consume_input()` when the loop says it is
readable) rather than through `AsyncConnection.notifies()`, which wakes ten times a
second to poll; an idle listener here wakes once per check interval. The socket keeps one
reader between checks, and a trickle is read in its callback: no task wakes and nothing
is registered anew per notification (under qasync each registration is a new socket
notifier, and each wake two zero-timers). A flood is handed over in slices of `SLICE`
notifications, one slice per loop turn, so the loop (and a window on it) runs in between
instead of stalling while a large buffer drains.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import pq, sql

from supalink import error_texts
from supalink.errors import SupalinkError
from supalink.logs import SecretMasker
from supalink.monitor.connections import Connection, ConnectionSilent, close_quietly, run_bounded
from supalink.monitor.events import (
    Disconnected,
    ErrorEvent,
    Event,
    Gap,
    Listening,
    Notification,
    Reconnected,
)
from supalink.monitor.failures import describe, failure_of
from supalink.monitor.settings import MonitorSettings, check_channel, session_kwargs
from supalink.profiles import Target

log = logging.getLogger(__name__)

SOURCE = "listener"
# Notifications handed over per loop turn: a few milliseconds of work, so that a flood
# leaves the loop free to repaint between slices (it reads several TLS records per turn).
SLICE = 2_000
# ...and a slice ends sooner once it has taken this long (a loaded machine, long
# payloads), looked at every SLICE_CHECK notifications: the loop lag stays under a frame.
SLICE_SECONDS = 0.002
SLICE_CHECK = 250
PROBE_WAIT = 2.0  # a probe notification crosses a session pooler in milliseconds
REFUSAL = (
    "LISTEN needs a server session of its own, and a transaction-mode pooler (Supabase's "
    "port 6543, shared or dedicated) hands each transaction to whichever server connection "
    "is free, so "
    "notifications would be lost. Use the direct connection or the session pooler "
    "(port 5432) for the monitor."
)


class ListenerRefused(SupalinkError):
    """Listening through this connection cannot work (a transaction-mode pooler)."""


class ListenerState(StrEnum):
    IDLE = "idle"  # no channels yet
    CONNECTING = "connecting"
    LISTENING = "listening"
    RECONNECTING = "reconnecting"
    REFUSED = "refused"  # transaction pooler: waits for retry()
    FAILED = "failed"  # a permanent failure: waits for retry()


class Backoff:
    """Doubling delays up to a cap, jittered downwards so the cap is a real bound."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial = initial
        self.cap = cap
        self._next = initial

    def reset(self) -> None:
        self._next = self.initial

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self.cap, self._next * 2)
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 - spreading retries, not secrecy


class Listener:
    def __init__(
        self,
        target: Target,
        settings: MonitorSettings,
        *,
        masker: SecretMasker,
        channels: Iterable[str] = (),
        on_notifications: Callable[[Sequence[Notification]], None],
        on_event: Callable[[Event], None],
        on_overdue: Callable[[str], None] = lambda message: None,
        notify: Callable[[str, str], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`notify(channel, payload)`: how the pooler probe is sent (the engine's pool, so
        the probe costs no server connection of its own); None: a connection of its own."""
        self.target = target
        self.settings = settings
        self.state = ListenerState.IDLE
        self._masker = masker
        self._wanted: list[str] = []  # in the order added
        for channel in channels:
            if channel not in self._wanted:
                self._wanted.append(check_channel(channel))
        self._on_notifications = on_notifications
        self._on_event = on_event
        self._on_overdue = on_overdue
        self._notify = notify
        self._clock = clock
        # When the server was last heard from on the current connection: epoch seconds for
        # the gap, loop time for scheduling the next check.
        self._heard_at = 0.0
        self._heard_loop_time = 0.0
        self._changed = asyncio.Event()  # channels changed, or retry() asked
        self._retry = asyncio.Event()
        self._waker: asyncio.Future[bool] | None = None
        self._watched: int | None = None  # the socket the reader is on, while it is
        self._failure: Exception | None = None  # what the reader's callback hit
        self._full = False  # ...or a full slice it read
        self._down_since: float | None = None
        self._reason: str | None = None  # why the listener is away, for the gap
        self._pooler_checked = False
        self._reported = False
        self._backoff = Backoff(settings.reconnect_initial_delay, settings.reconnect_max_delay)
        self.backend_pid: int | None = None  # the server process listening, when listening
        # Channel names as they come (bytes) to the text every row of theirs shares: decoded
        # once, not once per notification. Cleared per connection (its encoding may change).
        self._names: dict[bytes, str] = {}

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._wanted)

    def add_channel(self, channel: str) -> None:
        if channel not in self._wanted:
            self._wanted.append(check_channel(channel))
            self._poke()

    def remove_channel(self, channel: str) -> None:
        if channel in self._wanted:
            self._wanted.remove(channel)
            self._poke()

    def retry(self, target: Target | None = None) -> None:
        """After a refusal or a permanent failure: the person changed something."""
        if target is not None:
            self.target = target
            self._pooler_checked = False
        self._retry.set()
        self._poke()

    def note_outage(self, message: str) -> None:
        """Another failure heard while the listener is away can say more about why: over
        TLS the listener only sees its socket close, while the pool hears "the database
        system is shutting down". A message that means a restart makes the gap say so;
        any other, or any message while listening, changes nothing."""
        if (
            self._down_since is not None
            and error_texts.loss_reason(message) == error_texts.SERVER_RESTART
        ):
            self._reason = error_texts.SERVER_RESTART

    def _poke(self) -> None:
        self._changed.set()
        if self._waker is not None and not self._waker.done():
            self._waker.set_result(False)

    async def run(self) -> None:
        while True:
            while not self._wanted:
                self.state = ListenerState.IDLE
                self._changed.clear()
                await self._changed.wait()
            self.state = (
                ListenerState.CONNECTING if self._down_since is None else ListenerState.RECONNECTING
            )
            conn = await self._connect_or_wait()
            if conn is None:
                continue
            try:
                await self._serve(conn)
            except (psycopg.Error, OSError) as error:
                self._lost(error)
            finally:
                self.backend_pid = None
                await close_quietly(conn)

    async def _connect_or_wait(self) -> Connection | None:
        try:
            return await self._connect()
        except ListenerRefused as error:
            self.state = ListenerState.REFUSED
            self._report_error(str(error), permanent=True)
        except (psycopg.Error, OSError, TimeoutError, SupalinkError) as error:
            # SupalinkError: the probe's pool is not there (PoolUnavailable says why).
            failure = failure_of(error, self._masker, self._clock())
            if not failure.permanent:
                self.note_outage(failure.message)
                if not self._reported:  # one error event per outage, not one per attempt
                    self._reported = True
                    self._report_error(failure.message, permanent=False)
                await asyncio.sleep(self._backoff.next_delay())
                return None
            self.state = ListenerState.FAILED
            self._report_error(failure.message, permanent=True)
        log.warning("listener waits for the person to act")
        self._retry.clear()
        await self._retry.wait()
        self._backoff.reset()
        return None

    async def _connect(self) -> Connection:
        if self.target.mode is not None and not self.target.mode.supports_listen:
            raise ListenerRefused(REFUSAL)
        kwargs = session_kwargs(
            self.target,
            self.settings.pool,
            listen_check_timeout=self.settings.listener_check_timeout,
        )
        # Bounded as a whole: the pooler check below runs queries too.
        async with asyncio.timeout(self.settings.pool.connect_timeout * 2 + PROBE_WAIT):
            conn = await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)
            try:
                if not self._pooler_checked:
                    await self._refuse_transaction_pooler(conn, kwargs)
                    self._pooler_checked = True
            except BaseException:
                await close_quietly(conn)
                raise
        return conn

    async def _refuse_transaction_pooler(self, conn: Connection, kwargs: dict[str, Any]) -> None:
        """A pooler answers with its own process id at login, so a mismatch with
        pg_backend_pid() means one is in between. Its mode is then tested the only way
        that holds for every pooler: a probe NOTIFY from another client must arrive.
        Through a transaction pooler it cannot, as the LISTEN stays behind on a server
        connection that is no longer ours."""
        if await _server_pid(conn) == conn.info.backend_pid:
            return  # no pooler
        probe = f"supalink_probe_{secrets.token_hex(6)}"
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(probe)))
        if self._notify is not None:
            await self._notify(probe, "probe")
        else:
            sender = await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)
            try:
                await sender.execute("SELECT pg_notify(%s, 'probe')", (probe,))
            finally:
                await close_quietly(sender)
        arrived = False
        async for _ in conn.notifies(timeout=PROBE_WAIT, stop_after=1):
            arrived = True
        if not arrived:
            raise ListenerRefused(REFUSAL)
        await conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(probe)))

    async def _serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        self._heard(loop)  # it just answered the login
        conn.add_notify_handler(self._on_psycopg_notify)  # what arrives during our queries
        listening: list[str] = []
        await self._sync_channels(conn, listening)
        timeout = self.settings.listener_check_timeout
        pid = self.backend_pid = await run_bounded(conn, _server_pid(conn), timeout)
        self.state = ListenerState.LISTENING
        self._backoff.reset()
        self._reported = False
        if self._down_since is not None:
            now = self._clock()
            self._on_event(Reconnected(SOURCE, now, now - self._down_since))
            self._on_event(Gap(self._down_since, now, tuple(listening), self._reason))
            self._down_since = None
            self._reason = None
        self._on_event(Listening(tuple(listening), pid, self._clock()))
        log.info("listening on %d channel(s)", len(listening))

        fd = conn.fileno()
        encoding = conn.info.encoding
        pgconn = conn.pgconn
        self._names = {}
        interval = self.settings.listener_check_interval
        backlog = False  # the last slice was full: more may be waiting
        self._failure, self._full = None, False
        try:
            while True:
                if set(listening) != set(self._wanted):  # sets: the order may differ
                    self._unwatch(loop)  # the queries' own waits use the socket
                    await self._sync_channels(conn, listening)
                    self._on_event(Listening(tuple(listening), pid, self._clock()))
                    continue
                # Checked only after a quiet spell: a busy channel proves the line is alive.
                remaining = self._heard_loop_time + interval - loop.time()
                if remaining <= 0:
                    self._unwatch(loop)
                    await self._check(conn)
                    self._heard(loop)
                    continue
                self._changed.clear()
                if backlog:
                    self._unwatch(loop)
                    await asyncio.sleep(0)  # one slice per loop turn
                    backlog = self._read(pgconn, encoding)
                    self._heard(loop)
                else:
                    backlog = await self._wait_and_read(loop, fd, pgconn, encoding, remaining)
        finally:
            self._unwatch(loop)

    def _heard(self, loop: asyncio.AbstractEventLoop) -> None:
        self._heard_at = self._clock()
        self._heard_loop_time = loop.time()

    async def _bounded(self, conn: Connection, query: sql.Composed | str) -> None:
        await run_bounded(conn, conn.execute(query), self.settings.listener_check_timeout)

    async def _check(self, conn: Connection) -> None:
        """SELECT 1, bounded by the check timeout; said to be overdue (`on_overdue`) once
        it has waited longer than a healthy answer takes."""
        late = min(self.settings.degraded_latency, self.settings.listener_check_timeout)
        message = f"the listener's SELECT 1 has not answered for {late:g} s"
        timer = asyncio.get_running_loop().call_later(late, self._on_overdue, message)
        try:
            await self._bounded(conn, "SELECT 1")
        finally:
            timer.cancel()

    async def _sync_channels(self, conn: Connection, listening: list[str]) -> None:
        # Bounded like the check: a silent connection must not hold a channel change.
        wanted = list(self._wanted)
        for channel in wanted:
            if channel not in listening:
                await self._bounded(conn, sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                listening.append(channel)
        for channel in list(listening):
            if channel not in wanted:
                await self._bounded(conn, sql.SQL("UNLISTEN {}").format(sql.Identifier(channel)))
                listening.remove(channel)
        self._heard(asyncio.get_running_loop())

    async def _wait_and_read(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        pgconn: pq.abc.PGconn,
        encoding: str,
        timeout: float,
    ) -> bool:
        """Read what arrives until `timeout`, a poke, a full slice (True: more may be
        waiting) or a failure (raised here). The socket keeps one reader while the
        connection is quiet or trickling: a notification is read in the reader's callback,
        without waking this task or registering anything anew (a new socket notifier and
        two timers per notification under qasync)."""
        waker: asyncio.Future[bool] = loop.create_future()
        self._waker = waker
        if self._watched is None:
            loop.add_reader(fd, self._readable, loop, pgconn, encoding)
            self._watched = fd
        timer = loop.call_later(timeout, self._settle, False)
        try:
            full = await waker
        finally:
            timer.cancel()
            self._waker = None
        # What the callback found after the waker was settled (by the timer, a poke) and
        # before this task ran again is here, not in the waker.
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        full, self._full = full or self._full, False
        return full

    def _settle(self, value: bool) -> None:
        if self._waker is not None and not self._waker.done():
            self._waker.set_result(value)

    def _readable(
        self, loop: asyncio.AbstractEventLoop, pgconn: pq.abc.PGconn, encoding: str
    ) -> None:
        """The reader's callback: read here; a full slice or a failure goes to the task
        (the reader is removed until it waits again, so it is not called meanwhile)."""
        try:
            full = self._read(pgconn, encoding)
        except Exception as error:  # raised in the task, as when the task read
            self._failure = error
            self._unwatch(loop)
            self._settle(False)
            return
        self._heard(loop)
        if full:
            self._unwatch(loop)
            self._full = True
            self._settle(True)

    def _unwatch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._watched is not None:
            loop.remove_reader(self._watched)
            self._watched = None

    def _read(self, pgconn: pq.abc.PGconn, encoding: str) -> bool:
        """Hand over at most SLICE notifications, in one call, reading the socket again
        whenever libpq's list runs dry (one TLS record per read); True when the slice was
        full, so more may be waiting. The socket is read only once the list is empty: a
        slow consumer leaves the rest in the kernel, not in memory."""
        now = self._clock()
        taken: list[Notification] = []
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

    def _on_psycopg_notify(self, notify: psycopg.Notify) -> None:
        self._on_notifications(
            [Notification(notify.channel, notify.payload, notify.pid, self._clock())]
        )

    def _lost(self, error: BaseException) -> None:
        """A closed connection was alive until it said so; a silent one only until it was
        last heard from: anything sent since may be lost, so the gap starts there."""
        now = self._clock()
        self._reported = True  # the Disconnected event says it; failed attempts add nothing
        message = describe(error, self._masker)
        silent = isinstance(error, ConnectionSilent) or (
            error_texts.loss_reason(message) == error_texts.WENT_SILENT
        )
        alive_until = min(self._heard_at, now) if silent else now
        if silent:
            message += f" (nothing heard from the server for {now - alive_until:.1f} s)"
        if self._down_since is None:  # lost again before it was back: the first gap goes on
            self._down_since = alive_until
            if silent:
                self._reason = error_texts.silent_for(now - alive_until)
            else:
                self._reason = error_texts.short_reason(message)
        log.warning("listener lost its connection: %s", message)
        self.state = ListenerState.RECONNECTING
        self._on_event(Disconnected(SOURCE, message, now))

    def _report_error(self, message: str, *, permanent: bool) -> None:
        log.warning("listener: %s", message)
        self._on_event(ErrorEvent(SOURCE, message, permanent, self._clock()))


async def _server_pid(conn: Connection) -> int:
    cursor = await conn.execute("SELECT pg_backend_pid()")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0

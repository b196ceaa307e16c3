"""LISTEN on the person's channels, on a dedicated connection outside the pool.

The listener keeps its channels listened to through drops: its connection
(listener_connection.py) is checked after each quiet spell (listener_checks.py) and read
in slices (listener_reader.py). After a drop it reconnects with backoff capped at a couple
of seconds (so it is back within 5 s of the server returning), LISTENs again and records
the time it was away as a gap: NOTIFY is not queued for absent listeners. The gap starts
when the connection was last known alive (for a silent one, when it was last heard from,
not when that was found) and says why in a few words, from what the lost connection said
and what was heard while away (its own reconnect attempts, and the pool and the health
check through `note_outage`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

import psycopg
from psycopg import sql

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
from supalink.monitor.listener_checks import ListenerChecks
from supalink.monitor.listener_connection import (
    ListenerRefused,
    Notify,
    open_listen_connection,
    server_pid,
)
from supalink.monitor.listener_reader import SocketReader
from supalink.monitor.settings import MonitorSettings, check_channel
from supalink.profiles import Target

log = logging.getLogger(__name__)

SOURCE = "listener"


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
        notify: Notify | None = None,
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
        self._notify = notify
        self._clock = clock
        self._checks = ListenerChecks(settings, on_overdue=on_overdue, clock=clock)
        self._reader: SocketReader | None = None  # while serving a connection
        self._changed = asyncio.Event()  # channels changed, or retry() asked
        self._retry = asyncio.Event()
        self._down_since: float | None = None
        self._reason: str | None = None  # why the listener is away, for the gap
        self._pooler_checked = False
        self._reported = False
        self._backoff = Backoff(settings.reconnect_initial_delay, settings.reconnect_max_delay)
        self.backend_pid: int | None = None  # the server process listening, when listening

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
        if self._reader is not None:
            self._reader.wake()

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
        # Cleared before the attempt, not after its failure: a retry asked for while an
        # attempt with the old settings is under way must not be forgotten.
        self._retry.clear()
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
        await self._retry.wait()
        self._backoff.reset()
        return None

    async def _connect(self) -> Connection:
        conn = await open_listen_connection(
            self.target, self.settings, check_pooler=not self._pooler_checked, notify=self._notify
        )
        self._pooler_checked = True
        return conn

    async def _serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        checks = self._checks
        checks.heard(loop)  # it just answered the login
        conn.add_notify_handler(self._on_psycopg_notify)  # what arrives during our queries
        listening: list[str] = []
        await self._sync_channels(conn, listening)
        timeout = self.settings.listener_check_timeout
        pid = self.backend_pid = await run_bounded(conn, server_pid(conn), timeout)
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

        reader = self._reader = SocketReader(
            conn,
            loop,
            on_notifications=self._on_notifications,
            on_heard=lambda: checks.heard(loop),
            clock=self._clock,
        )
        backlog = False  # the last slice was full: more may be waiting
        try:
            while True:
                if set(listening) != set(self._wanted):  # sets: the order may differ
                    reader.unwatch()  # the queries' own waits use the socket
                    await self._sync_channels(conn, listening)
                    self._on_event(Listening(tuple(listening), pid, self._clock()))
                    continue
                remaining = checks.due_in(loop)
                if remaining <= 0:
                    reader.unwatch()
                    await checks.check(conn)
                    checks.heard(loop)
                    continue
                self._changed.clear()
                if backlog:
                    reader.unwatch()
                    await asyncio.sleep(0)  # one slice per loop turn
                    backlog = reader.read()
                    checks.heard(loop)
                else:
                    backlog = await reader.wait(remaining)
        finally:
            reader.unwatch()
            self._reader = None

    async def _sync_channels(self, conn: Connection, listening: list[str]) -> None:
        # Bounded like the check: a silent connection must not hold a channel change.
        wanted = list(self._wanted)
        for channel in wanted:
            if channel not in listening:
                await self._checks.bounded(
                    conn, sql.SQL("LISTEN {}").format(sql.Identifier(channel))
                )
                listening.append(channel)
        for channel in list(listening):
            if channel not in wanted:
                await self._checks.bounded(
                    conn, sql.SQL("UNLISTEN {}").format(sql.Identifier(channel))
                )
                listening.remove(channel)
        self._checks.heard(asyncio.get_running_loop())

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
        alive_until = min(self._checks.heard_at, now) if silent else now
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

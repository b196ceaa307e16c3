"""The monitored pool: psycopg_pool's AsyncConnectionPool with the monitor's settings,
connections checked on checkout, and failures sorted into transient and permanent.

psycopg_pool already reconnects with backoff after transient failures. What it cannot
know is that a wrong password will never start working: it would keep trying for
`reconnect_timeout`. So every connection attempt it makes is observed; the first
permanent failure closes the pool and it stays closed until `retry()` (the person
changed something). Transient failures are reported once per outage and left to the
pool's own backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from supalink.errors import SupalinkError
from supalink.logs import SecretMasker
from supalink.monitor.connections import Connection, run_bounded
from supalink.monitor.failures import Failure, failure_of
from supalink.monitor.settings import PoolSettings, session_kwargs
from supalink.profiles import Mode, Target

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 3.0  # of the 5 s the whole monitor has to stop


class PoolState(StrEnum):
    STOPPED = "stopped"
    OPEN = "open"
    FAILED = "failed"  # a permanent failure: closed until retry()


class PoolUnavailable(SupalinkError):
    """The pool is stopped, or closed by a permanent failure (the message says which)."""


@dataclass(frozen=True)
class PoolCounters:
    """psycopg_pool's counters, summed over every pool this runner opened."""

    requests: int = 0
    errors: int = 0
    connections_lost: int = 0
    wait_ms: int = 0
    connection_attempts: int = 0
    connection_errors: int = 0

    @classmethod
    def of(cls, stats: dict[str, int]) -> PoolCounters:
        return cls(
            requests=stats.get("requests_num", 0),
            errors=stats.get("requests_errors", 0),
            connections_lost=stats.get("connections_lost", 0) + stats.get("returns_bad", 0),
            wait_ms=stats.get("requests_wait_ms", 0),
            connection_attempts=stats.get("connections_num", 0),
            connection_errors=stats.get("connections_errors", 0),
        )

    def __add__(self, other: PoolCounters) -> PoolCounters:
        return PoolCounters(
            self.requests + other.requests,
            self.errors + other.errors,
            self.connections_lost + other.connections_lost,
            self.wait_ms + other.wait_ms,
            self.connection_attempts + other.connection_attempts,
            self.connection_errors + other.connection_errors,
        )


@dataclass(frozen=True)
class PoolMeasures:
    size: int  # connections open or being opened
    idle: int
    in_use: int
    waiting: int
    min_size: int
    max_size: int
    counters: PoolCounters


async def configure_session(conn: Connection, settings: PoolSettings, mode: Mode | None) -> None:
    """Per-session settings, sent as SQL because poolers drop the `options` parameter.
    Not through a transaction pooler: a session SET there lands on a shared server
    connection and would change other clients' sessions."""
    if mode is not None and mode.pools_transactions:
        return
    milliseconds = round(settings.statement_timeout * 1000)
    await conn.execute("SELECT set_config('statement_timeout', %s, false)", (f"{milliseconds}",))
    await conn.commit()  # the pool refuses a connection left inside a transaction


def _bounded_pool_class(timeout: float) -> type[AsyncConnectionPool[Connection]]:
    """psycopg_pool's `check()` tests idle connections with `check_connection`, unbounded:
    on a silent network it would hold them for a minute, and swallow cancellation."""

    class BoundedCheckPool(AsyncConnectionPool[Connection]):
        @staticmethod
        async def check_connection(conn: Connection) -> None:
            await run_bounded(conn, AsyncConnectionPool.check_connection(conn), timeout)

    return BoundedCheckPool


def _observed_connection_class(
    on_success: Callable[[], None], on_failure: Callable[[BaseException], None]
) -> type[Connection]:
    """An AsyncConnection whose `connect` reports its outcome: the pool's only hook that
    sees why its background connection attempts fail."""

    class ObservedConnection(psycopg.AsyncConnection[TupleRow]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            try:
                conn = await super().connect(conninfo, **kwargs)
            except Exception as error:
                on_failure(error)
                raise
            on_success()
            return conn

    return ObservedConnection


class PoolRunner:
    def __init__(
        self,
        target: Target,
        settings: PoolSettings,
        *,
        masker: SecretMasker,
        on_failure: Callable[[Failure], None] = lambda failure: None,
        on_recovered: Callable[[], None] = lambda: None,
    ) -> None:
        self.target = target
        self.settings = settings
        self.state = PoolState.STOPPED
        self.last_failure: Failure | None = None
        self._masker = masker
        self._on_failure = on_failure
        self._on_recovered = on_recovered
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._pool_class = _bounded_pool_class(settings.connect_timeout)
        self._closed_counters = PoolCounters()  # from pools closed before this one
        self._in_use = 0
        self._failing = False  # between a failure and the next successful connect
        self._tasks: set[asyncio.Task[None]] = set()
        self._checking = False
        self._ready = asyncio.Event()  # the pool has made its first connection

    async def start(self) -> None:
        """Open the pool; connections are made in the background, not awaited here."""
        if self.state is PoolState.OPEN:
            return
        # Autocommit: the monitor's own reads never hold a transaction open, so "idle in
        # transaction" in the server view always means someone else's leak.
        kwargs = {**session_kwargs(self.target, self.settings), "autocommit": True}
        self._pool_class = _bounded_pool_class(self.settings.connect_timeout)
        pool = self._pool_class(
            kwargs=kwargs,
            connection_class=_observed_connection_class(self._connected, self._connect_failed),
            min_size=self.settings.min_size,
            max_size=self.settings.max_size,
            # psycopg_pool closes a spare connection only when one stayed unused for a
            # whole window of `max_idle`, its windows fixed from the pool's opening: a
            # spare last needed early in one closed nearly twice max_idle later. Windows of
            # half make it "within max_idle of the last time both were in use".
            max_idle=self.settings.max_idle / 2,
            timeout=self.settings.connect_timeout,
            # psycopg_pool's own retries double from 1 s for this long (300 s by default),
            # so after a long outage its next try could come minutes after the server is
            # back. Given up sooner, the next request (a check, the server view every
            # 10 s, the check the listener asks for when it is back) connects at once.
            reconnect_timeout=self.settings.connect_timeout,
            configure=self._configure,
            check=self._check,
            name="supalink-monitor",
            open=False,
        )
        self._pool = pool
        self.state = PoolState.OPEN
        self._ready.clear()
        await pool.open(wait=False)
        log.info("pool opened (min %s, max %s)", self.settings.min_size, self.settings.max_size)

    async def stop(self, timeout: float = CLOSE_TIMEOUT) -> None:
        # A check or close in flight is waited for first: cut short, either would
        # leave connections open with no owner.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=timeout / 2)
            # psycopg_pool's check() takes a cancellation for a failed check and goes on
            # to the next connection: cancel until it runs out of them.
            while late and loop.time() < deadline:
                for task in late:
                    task.cancel()
                _, late = await asyncio.wait(late, timeout=0.1)
        remaining = max(0.5, deadline - loop.time())
        await self._close_pool(remaining)
        self.state = PoolState.STOPPED

    async def retry(self, target: Target | None = None) -> None:
        """The person acted (new password, database created...): try again from scratch."""
        if target is not None:
            self.target = target
        await self._close_pool(CLOSE_TIMEOUT)
        self.last_failure = None
        self._failing = False
        self.state = PoolState.STOPPED
        await self.start()

    async def resize(self, min_size: int, max_size: int) -> None:
        self.settings = self.settings.resized(min_size, max_size)  # validates
        if self._pool is not None and self.state is PoolState.OPEN:
            await self._pool.resize(min_size, max_size)

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[Connection]:
        """A checked connection from the pool; PoolUnavailable when there is no pool."""
        pool = self._require_pool()
        if not self._ready.is_set():
            # At the start, wait for the pool's first connection rather than ask while it
            # is being made: psycopg_pool opens one more for a request that finds none
            # ready, and a monitor that needs one would hold two until they idle out.
            started = time.monotonic()
            wait = self.settings.connect_timeout if timeout is None else timeout
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), wait)
            timeout = max(0.1, wait - (time.monotonic() - started))
            pool = self._require_pool()
        async with pool.connection(timeout) as conn:
            self._in_use += 1
            try:
                yield conn
            finally:
                self._in_use -= 1

    def check_soon(self) -> None:
        """Verify the idle connections now (e.g. the server just came back), once at a time.
        Shielded from cancellation: psycopg_pool loses connections if check() is cut."""
        if self._checking or self._pool is None or self.state is not PoolState.OPEN:
            return
        self._checking = True
        task = asyncio.create_task(self._run_check(self._pool), name="supalink-pool-check")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_check(self, pool: AsyncConnectionPool[Connection]) -> None:
        try:
            await pool.check()
        except Exception:  # a closed pool; the next health check reports the state
            log.debug("pool check failed", exc_info=True)
        finally:
            self._checking = False

    def measures(self) -> PoolMeasures:
        counters = self._closed_counters
        if self._pool is None:
            return PoolMeasures(
                0, 0, 0, 0, self.settings.min_size, self.settings.max_size, counters
            )
        stats = self._pool.get_stats()
        return PoolMeasures(
            size=stats.get("pool_size", 0),
            idle=stats.get("pool_available", 0),
            in_use=self._in_use,
            waiting=stats.get("requests_waiting", 0),
            min_size=stats.get("pool_min", self.settings.min_size),
            max_size=stats.get("pool_max", self.settings.max_size),
            counters=counters + PoolCounters.of(stats),
        )

    def _require_pool(self) -> AsyncConnectionPool[Connection]:
        if self.state is PoolState.FAILED and self.last_failure is not None:
            raise PoolUnavailable(f"not retrying until you act: {self.last_failure.message}")
        if self._pool is None or self.state is not PoolState.OPEN:
            raise PoolUnavailable("the pool is not running")
        return self._pool

    async def _configure(self, conn: Connection) -> None:
        await configure_session(conn, self.settings, self.target.mode)
        # Set before the pool takes it in, but the waiters run only after it has.
        self._ready.set()

    async def _check(self, conn: Connection) -> None:
        try:
            await self._pool_class.check_connection(conn)
        except Exception:
            # One dead idle connection usually means all of them died with the server;
            # checking them at once spares the caller a backoff per dead connection.
            self.check_soon()
            raise

    def _connected(self) -> None:
        if self.state is PoolState.OPEN:  # over: health must not blame an old failure
            self.last_failure = None
        if self._failing:
            self._failing = False
            log.info("pool connections work again")
            self._on_recovered()

    def _connect_failed(self, error: BaseException) -> None:
        failure = failure_of(error, self._masker, time.time())
        self.last_failure = failure
        if failure.permanent:
            if self.state is PoolState.OPEN:
                self.state = PoolState.FAILED
                log.warning("pool stopped, not retrying: %s", failure.message)
                self._on_failure(failure)
                # Not awaited here: this runs inside one of the pool's own workers,
                # which close() waits for.
                task = asyncio.create_task(
                    self._close_pool(CLOSE_TIMEOUT), name="supalink-pool-close"
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        if not self._failing:
            self._failing = True
            log.warning("pool cannot connect, retrying with backoff: %s", failure.message)
            self._on_failure(failure)

    async def _close_pool(self, timeout: float) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        self._closed_counters += PoolCounters.of(pool.get_stats())
        await pool.close(timeout=timeout)
        log.info("pool closed")

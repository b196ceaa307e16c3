"""The guide's health check: `SELECT 1` through the pool every N seconds, timed.

healthy: answered within `degraded_latency`; degraded: answered, but slowly or while the
pool reported failed requests since the last check; down: no answer, with the reason.

A check is watched while it runs, so health never says healthy while one is overdue: it
is degraded once the check has waited longer than `degraded_latency`, down once it has
waited `timeout`, then the check's own result follows. The listener's own check, late to
answer, degrades it too (`note_overdue`) and starts a check at once, which says whether
the database behind the pool is still there.

Health is the monitor's one account of an outage: the first failed connection attempt
or the listener's lost connection is enough to leave healthy (`note_failure`,
`note_lost`), each reason leads with its cause, every report that is not healthy says
since when (`since`), and the first answer after a time down carries the `Outage`
("down 27 s (08:29:21 to 08:29:48): connection refused", with an en dash).

Until healthy again, checks come sooner than the interval: while down, a second after each
failed check (`DOWN_RECHECK_SECONDS`), and a check that finds the pool empty waits the
timeout for it, so one every timeout + 1 s (11 s by default): psycopg_pool gives up
reconnecting after the connect timeout, and then nothing but a request makes it try again,
so the check is what notices the server is back; while degraded, `DEGRADED_RECHECK_SECONDS`
apart: the first answer after an outage may be slow (it waits for a new connection), and
the light must not stay amber for the minute to the next tick. The requests that failed
while down are the outage's own: they do not degrade its first answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import psycopg_pool

from supalink import error_texts
from supalink.logs import SecretMasker
from supalink.monitor.connections import ConnectionSilent, run_bounded
from supalink.monitor.events import iso_time
from supalink.monitor.failures import describe
from supalink.monitor.pool import PoolRunner, PoolState, PoolUnavailable


class Health(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"


# How bad each status is, best first: the one order for health, a late check and the light
# that stands for several monitors.
_BEST_FIRST = (Health.HEALTHY, Health.UNKNOWN, Health.DEGRADED, Health.DOWN)


def severity(status: Health) -> int:
    """How bad `status` is: 0 for healthy, more for each step towards down."""
    return _BEST_FIRST.index(status)


def worst(statuses: Iterable[Health]) -> Health:
    """The worst of `statuses` (several monitors, one light); unknown when there is none."""
    return max(statuses, key=severity, default=Health.UNKNOWN)


# Between two checks while down (see the module's text). A check that finds the pool
# empty waits its timeout while the pool's attempts back off inside it, so the database
# is tried a few times per timeout, and back within a few seconds of its return.
DOWN_RECHECK_SECONDS = 1.0
DEGRADED_RECHECK_SECONDS = 5.0  # a SELECT 1 every 5 s costs a slow server nothing


def clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


@dataclass(frozen=True, slots=True)
class Outage:
    """A time down: from when health left healthy to the first answer after it."""

    started_at: float
    ended_at: float
    cause: str  # the first reason it was down, in a few words

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def summary(self) -> str:
        return (
            f"down {self.seconds:.0f} s ({clock_time(self.started_at)}\u2013"
            f"{clock_time(self.ended_at)}): {self.cause}"
        )


@dataclass(frozen=True, slots=True)
class HealthReport:
    event: ClassVar[str] = "health"
    status: Health
    at: float
    latency_ms: float | None  # None when the check got no answer
    error: str | None  # why it is down, or degraded
    last_error: str | None  # the last error seen, kept after recovery for the status light
    since: float | None = None  # not healthy: since when (figures read before are old)
    recovered: Outage | None = None  # the first answer after a time down: that outage

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "status": str(self.status),
            "at": iso_time(self.at),
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "error": self.error,
            "last_error": self.last_error,
            "since": None if self.since is None else iso_time(self.since),
            "recovered": None if self.recovered is None else self.recovered.summary,
        }


class HealthChecker:
    def __init__(
        self,
        pool: PoolRunner,
        *,
        interval: float,
        timeout: float,
        degraded_latency: float,
        masker: SecretMasker,
        on_report: Callable[[HealthReport], None] = lambda report: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.timeout = timeout
        self.degraded_latency = degraded_latency
        self.last: HealthReport | None = None
        self._masker = masker
        self._on_report = on_report
        self._clock = clock
        self._wake = asyncio.Event()
        self._last_error: str | None = None
        self._errors_before = 0
        self._since: float | None = None  # when health last left healthy
        self._down_cause: str | None = None  # set once down: this outage's first cause

    @property
    def status(self) -> Health:
        return self.last.status if self.last else Health.UNKNOWN

    def check_soon(self) -> None:
        """Check now instead of at the next tick (the listener saw the server go or come)."""
        self._wake.set()

    def note_overdue(self, message: str) -> None:
        """Another check on the same database is late to answer (the listener's): no longer
        healthy, and a check of our own now says how things are."""
        self._overdue(Health.DEGRADED, message)
        self.check_soon()

    def note_failure(self, message: str, *, permanent: bool = False) -> None:
        """A connection attempt to the database failed (the pool's): down at once, as
        no new session can be had, unless the server only said it is full (degraded)."""
        cause = error_texts.short_reason(message)
        full = not permanent and error_texts.says(message, error_texts.TOO_MANY_CLIENTS)
        self._overdue(Health.DEGRADED if full else Health.DOWN, cause)
        self.check_soon()

    def note_restart(self) -> None:
        """Something heard while down says the server restarted (the listener's reconnect
        met "starting up"): the outage is named so, as the listener's gap is."""
        if self._down_cause is not None:
            self._down_cause = error_texts.SERVER_RESTART

    def note_lost(self, message: str) -> None:
        """The listener lost its connection: not healthy, and a check says the rest."""
        self._overdue(Health.DEGRADED, f"listener lost its connection: {message}")
        self.check_soon()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            report = await self._watched_check()
            self._on_report(report)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._pause_after(report))

    def _pause_after(self, report: HealthReport) -> float:
        # A pool closed by a permanent failure waits for the person (retry wakes us).
        retrying = self.pool.state is PoolState.OPEN
        if report.status is Health.DOWN and retrying:
            return min(self.interval, DOWN_RECHECK_SECONDS)
        if report.status is Health.DEGRADED:
            return min(self.interval, DEGRADED_RECHECK_SECONDS)
        return self.interval

    async def _watched_check(self) -> HealthReport:
        """`check()`, with its lateness reported as it happens (see the module's text)."""
        loop = asyncio.get_running_loop()
        late = min(self.degraded_latency, self.timeout)
        timers = (
            loop.call_later(
                late, self._overdue, Health.DEGRADED, f"SELECT 1 has not answered for {late:g} s"
            ),
            loop.call_later(self.timeout, lambda: self._overdue(Health.DOWN, self._no_answer())),
        )
        try:
            return await self.check()
        finally:
            for timer in timers:
                timer.cancel()

    def _overdue(self, status: Health, error: str) -> None:
        """Report `status` now, unless health already says as bad or worse. Not known yet
        (the first check waits for the pool's first connection) counts as degraded here: a
        slow start is still "connecting", and down at the check's timeout."""
        shown = Health.DEGRADED if self.status is Health.UNKNOWN else self.status
        if severity(status) <= severity(shown):
            return
        self._last_error = error
        # The failed-requests baseline stays: it belongs to the check still running.
        now = self._clock()
        self.last = HealthReport(status, now, None, error, error, self._left_healthy(now))
        self._note_down(status, error)
        self._on_report(self.last)

    def _left_healthy(self, now: float) -> float:
        if self._since is None:
            self._since = now
        return self._since

    def _note_down(self, status: Health, error: str | None) -> None:
        if status is Health.DOWN and self._down_cause is None:
            self._down_cause = error_texts.short_reason(error or "no answer")

    async def check(self) -> HealthReport:
        started = time.monotonic()
        try:
            # Each step is bounded: the wait for a connection, the pool's checkout check
            # and the query (a silently dead network would hold them for a minute).
            async with self.pool.connection(self.timeout) as conn:
                await run_bounded(conn, conn.execute("SELECT 1"), self.timeout)
                await conn.rollback()  # a health check leaves nothing behind
        except PoolUnavailable as error:
            return self._report(Health.DOWN, None, describe(error, self._masker))
        except Exception as error:
            reason = error_texts.cause_first(describe(error, self._masker))
            if isinstance(error, psycopg_pool.PoolTimeout | ConnectionSilent):
                reason = self._no_answer()
            # One failed: the idle ones probably died with it. Replace them at once.
            self.pool.check_soon()
            return self._report(Health.DOWN, None, reason)
        latency = time.monotonic() - started
        new_errors = self.pool.measures().counters.errors - self._errors_before
        if latency > self.degraded_latency:
            return self._report(Health.DEGRADED, latency, f"SELECT 1 took {latency * 1000:.0f} ms")
        if new_errors > 0 and self.last is not None and self._down_cause is None:
            return self._report(
                Health.DEGRADED, latency, f"{new_errors} pool requests failed since last check"
            )
        return self._report(Health.HEALTHY, latency, None)

    def _no_answer(self) -> str:
        """The cause first (a cut-short line must keep it): the pool's last failed
        connection attempt, when there was one, says why nothing answered."""
        reason = f"no answer to SELECT 1 within {self.timeout:g} s"
        if (failure := self.pool.last_failure) is not None:
            return f"{error_texts.short_reason(failure.message)} ({reason})"
        return reason

    def _report(self, status: Health, latency: float | None, error: str | None) -> HealthReport:
        if error is not None:
            self._last_error = error
        now = self._clock()
        recovered = None
        if latency is not None and self._down_cause is not None and self._since is not None:
            recovered = Outage(self._since, now, self._down_cause)
        if status is Health.HEALTHY or recovered is not None:
            self._since = self._down_cause = None
        since = None if status is Health.HEALTHY else self._left_healthy(now)
        self._note_down(status, error)
        report = HealthReport(
            status=status,
            at=now,
            latency_ms=None if latency is None else latency * 1000,
            error=error,
            last_error=self._last_error,
            since=since,
            recovered=recovered,
        )
        self.last = report
        # Failed requests are counted from here on, so this check's own are not.
        self._errors_before = self.pool.measures().counters.errors
        return report

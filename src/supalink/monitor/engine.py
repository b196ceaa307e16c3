"""The monitor as one object: pool, stats, health, server view and listener, each a named
asyncio task, delivering their events in batches to whoever subscribes (the window's
presenter, the CLI), and stopping together within 5 seconds.

    async with MonitorEngine(Target.from_profile(profile, password), channels=["jobs"]) as engine:
        engine.subscribe(presenter.on_batch)
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Self

from supalink import error_texts
from supalink.errors import UsageError
from supalink.logs import SecretMasker
from supalink.monitor.bus import BatchCallback, EventBus
from supalink.monitor.connections import run_bounded
from supalink.monitor.events import (
    Disconnected,
    ErrorEvent,
    Event,
    EventLog,
    Gap,
    Notification,
    Reconnected,
)
from supalink.monitor.failures import Failure, describe
from supalink.monitor.health import Health, HealthChecker, HealthReport
from supalink.monitor.listener import Listener
from supalink.monitor.pool import PoolRunner
from supalink.monitor.server_view import ServerSnapshot, read_server
from supalink.monitor.settings import MonitorSettings, check_channel
from supalink.monitor.stats import StatsSampler
from supalink.profiles import Target

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0
MAX_PAYLOAD_BYTES = 7999  # PostgreSQL refuses 8000 and more


class MonitorEngine:
    """Qt-free: a presenter subscribes to batches and calls the action methods."""

    def __init__(
        self,
        target: Target,
        settings: MonitorSettings | None = None,
        *,
        channels: Iterable[str] = (),
        masker: SecretMasker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.settings = settings or MonitorSettings()
        self.masker = masker or SecretMasker()
        self.masker.add_secrets(target.secrets)
        self.bus = EventBus(self.settings.batch_interval)
        self.log = EventLog(self.settings.log_capacity)
        self.pool = PoolRunner(
            target,
            self.settings.pool,
            masker=self.masker,
            on_failure=self._pool_failed,
            on_recovered=self._pool_recovered,
        )
        self.stats = StatsSampler(
            self.pool,
            interval=self.settings.stats_interval,
            history=self.settings.stats_history,
            on_sample=self.bus.publish,
            clock=clock,
        )
        self.health = HealthChecker(
            self.pool,
            interval=self.settings.pool.health_interval,
            timeout=self.settings.effective_health_timeout,
            degraded_latency=self.settings.degraded_latency,
            masker=self.masker,
            on_report=self._health_reported,
            clock=clock,
        )
        self.listener = Listener(
            target,
            self.settings,
            masker=self.masker,
            channels=channels,
            on_notifications=self._notified,
            on_event=self._listener_event,
            on_overdue=self.health.note_overdue,  # health is not healthy while it waits
            notify=self._notify,  # its probe through the pool: no connection of its own
            clock=clock,
        )
        self.server: ServerSnapshot | None = None
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pool_down_since: float | None = None
        self._first_report = asyncio.Event()
        self._running = False

    # Lifecycle

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        await self.pool.start()
        self._spawn("stats", self.stats.run())
        self._spawn("health", self.health.run())
        self._spawn("server-view", self._server_view_loop())
        self._spawn("listener", self.listener.run())
        log.info("monitor started")

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every task and close every connection, within `timeout` seconds."""
        if not self._running:
            return
        self._running = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Cancelled again until done: on Python 3.11 asyncio.wait_for swallows a
        # cancellation that lands as its inner wait completes (psycopg_pool's getconn
        # uses it), and a task that lost its cancellation would run on.
        pending = {task for task in self._tasks.values() if not task.done()}
        tasks_deadline = loop.time() + timeout / 5
        while pending and loop.time() < tasks_deadline:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.1)
        await self.pool.stop(max(0.5, deadline - loop.time() - 0.5))
        self.bus.close()
        log.info("monitor stopped")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._running

    # Consumers

    def subscribe(self, callback: BatchCallback) -> Callable[[], None]:
        """`callback(batch)` on the loop, at most ten times a second; returns unsubscribe."""
        return self.bus.subscribe(callback)

    # Actions

    def add_channel(self, channel: str) -> None:
        self.listener.add_channel(channel)

    def remove_channel(self, channel: str) -> None:
        self.listener.remove_channel(channel)

    async def retry(self, target: Target | None = None) -> None:
        """After a permanent failure or a refusal, once the person changed something."""
        if target is not None:
            self.masker.add_secrets(target.secrets)
        await self.pool.retry(target)
        self.listener.retry(target)
        self.health.check_soon()

    async def resize_pool(self, min_size: int, max_size: int) -> None:
        await self.pool.resize(min_size, max_size)

    def check_health_now(self) -> None:
        self.health.check_soon()

    async def send_test_notification(self, channel: str, payload: str | None = None) -> str:
        """NOTIFY through the pool (pg_notify works through any pooler); returns the payload."""
        check_channel(channel)
        if payload is None:
            payload = json.dumps(
                {"test": True, "sent_at": datetime.now(UTC).isoformat(), "from": "supalink"}
            )
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise UsageError(f"a payload is at most {MAX_PAYLOAD_BYTES} bytes")
        await self._notify(channel, payload)
        return payload

    async def _notify(self, channel: str, payload: str) -> None:
        async with self.pool.connection(self.settings.effective_health_timeout) as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
            await conn.commit()

    async def refresh_server_view(self) -> ServerSnapshot:
        timeout = self.settings.effective_health_timeout
        async with self.pool.connection(timeout) as conn:
            # Bounded: on a stalled network it would hold a pool connection until it ends.
            snapshot = await run_bounded(conn, read_server(conn), timeout)
        self.server = snapshot
        self.bus.publish(snapshot)
        return snapshot

    # Internals

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=f"supalink-monitor-{name}")
        self._tasks[name] = task
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """The one place that reports a task that died: shown as an error event."""
        error = None if task.cancelled() else task.exception()
        if error is None:
            return
        message = describe(error, self.masker)
        log.error("monitor task %s failed: %s", task.get_name(), message)
        if self._running:
            self.bus.publish(
                ErrorEvent(task.get_name(), f"internal error: {message}", True, self._clock())
            )

    async def _server_view_loop(self) -> None:
        # The first read waits for the first check: asked for at once, the two would find
        # the pool's one connection taken and have it open a second.
        await self._first_report.wait()
        while True:
            with contextlib.suppress(Exception):  # health reports why the pool is not there
                await self.refresh_server_view()
            await asyncio.sleep(self.settings.server_view_interval)

    def _notified(self, notifications: Sequence[Notification]) -> None:
        self.log.extend(notifications)
        self.bus.publish_many(notifications)

    def _listener_event(self, event: Event) -> None:
        if isinstance(event, Gap):
            self.log.append(event)
            if event.reason == error_texts.SERVER_RESTART:
                self.health.note_restart()  # one name for the outage and its gap
        if isinstance(event, Disconnected):
            # The server probably went with it: health leaves healthy and checks.
            self.health.note_lost(error_texts.short_reason(event.error))
        if isinstance(event, Reconnected):
            self.health.check_soon()  # the server probably came back with it
        if isinstance(event, Reconnected):
            self.pool.check_soon()
        self.bus.publish(event)

    def _pool_failed(self, failure: Failure) -> None:
        self.listener.note_outage(failure.message)  # it may say why the listener is away
        self.bus.publish(ErrorEvent("pool", failure.message, failure.permanent, failure.at))
        self.health.note_failure(failure.message, permanent=failure.permanent)

    def _pool_recovered(self) -> None:
        self.health.check_soon()

    def _health_reported(self, report: HealthReport) -> None:
        self._first_report.set()
        if report.error:
            self.listener.note_outage(report.error)
        if report.status is Health.DOWN and self._pool_down_since is None:
            self._pool_down_since = report.since or report.at
            self.bus.publish(Disconnected("pool", report.error or "down", report.at))
        elif report.status is not Health.DOWN and self._pool_down_since is not None:
            self._pool_down_since = None
            away = report.recovered.seconds if report.recovered else 0.0
            self.bus.publish(Reconnected("pool", report.at, away))
        self.bus.publish(report)

"""The listener's own health checks: when the server was last heard from on the listen
connection, and a `SELECT 1` after a quiet spell.

The socket wakes the reader at once when a connection closes, and the kernel ends one
whose data goes unacknowledged (TCP keepalives, `tcp_user_timeout`). A silent peer (a
stalled network or pooler, which keeps the socket open and says nothing) is found by these
checks: a `SELECT 1`, bounded, after `listener_check_interval` seconds without a word, so
that it is found within `MonitorSettings.listener_silence_bound` of last hearing from it.
A check that is late to answer is said at once (`on_overdue`: health leaves healthy
meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from psycopg import sql

from supalink.monitor.connections import Connection, run_bounded
from supalink.monitor.settings import MonitorSettings


class ListenerChecks:
    def __init__(
        self,
        settings: MonitorSettings,
        *,
        on_overdue: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._interval = settings.listener_check_interval
        self._timeout = settings.listener_check_timeout
        self._late = min(settings.degraded_latency, settings.listener_check_timeout)
        self._on_overdue = on_overdue
        self._clock = clock
        # When the server was last heard from on the current connection: epoch seconds for
        # the gap, loop time for scheduling the next check.
        self.heard_at = 0.0
        self._heard_loop_time = 0.0

    def heard(self, loop: asyncio.AbstractEventLoop) -> None:
        self.heard_at = self._clock()
        self._heard_loop_time = loop.time()

    def due_in(self, loop: asyncio.AbstractEventLoop) -> float:
        """Seconds until the next check (none or less: due now). Only a quiet spell calls
        for one: a busy channel proves the line is alive."""
        return self._heard_loop_time + self._interval - loop.time()

    async def bounded(self, conn: Connection, query: sql.Composed | str) -> None:
        """Run `query` within the check's timeout: a silent connection must not hold it."""
        await run_bounded(conn, conn.execute(query), self._timeout)

    async def check(self, conn: Connection) -> None:
        """SELECT 1, bounded by the check timeout; said to be overdue (`on_overdue`) once
        it has waited longer than a healthy answer takes."""
        message = f"the listener's SELECT 1 has not answered for {self._late:g} s"
        timer = asyncio.get_running_loop().call_later(self._late, self._on_overdue, message)
        try:
            await self.bounded(conn, "SELECT 1")
        finally:
            timer.cancel()

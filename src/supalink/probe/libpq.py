"""One libpq connection, polled by hand so each phase (TCP, TLS, login) is seen as it ends.

psycopg's own connect hides the phases; driving `PQconnectPoll` ourselves gives each step its
real time and says in which phase a failure or a silence happened, from the one connect.
libpq enforces `connect_timeout` only in its blocking connect, so the deadline is ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psycopg
from psycopg import pq
from psycopg.pq.abc import PGconn, PGresult

from supalink.probe.results import StepName

ConnStatus = pq.ConnStatus
PollingStatus = pq.PollingStatus

# States in which libpq has not yet finished the TLS negotiation (or decided against it).
_BEFORE_TLS = {ConnStatus.STARTED, ConnStatus.MADE, ConnStatus.SSL_STARTUP, ConnStatus.GSS_STARTUP}
_NEGOTIATING = {ConnStatus.SSL_STARTUP, ConnStatus.GSS_STARTUP}


class ConnectFailed(Exception):
    """The connect failed (or stayed silent past the deadline) during `phase`."""

    def __init__(self, phase: StepName, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.phase = phase
        self.message = message
        self.timed_out = timed_out


class QueryFailed(Exception):
    def __init__(self, message: str, sqlstate: str | None = None, *, timed_out: bool = False):
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.timed_out = timed_out


class _PhaseTracker:
    """Turns the status libpq reports after each poll into phase endings."""

    def __init__(self, pgconn: PGconn, on_phase: Callable[[StepName, PGconn], None]) -> None:
        self.phase = StepName.TCP
        self._pgconn = pgconn
        self._on_phase = on_phase
        self._negotiated = False

    def observe(self, status: int) -> None:
        if status == ConnStatus.BAD:
            return  # failed: the phase it failed in is the one to report
        if self.phase is StepName.TCP and status != ConnStatus.STARTED:
            self._finish(StepName.TLS)
        if self.phase is StepName.TLS:
            if status in _NEGOTIATING:
                self._negotiated = True
            # Back to MADE after negotiating, or on to the startup packet: TLS is settled.
            elif (status == ConnStatus.MADE and self._negotiated) or status not in _BEFORE_TLS:
                self._finish(StepName.AUTH)
        if self.phase is StepName.AUTH and status == ConnStatus.OK:
            self._finish(StepName.QUERY)

    def _finish(self, following: StepName) -> None:
        done, self.phase = self.phase, following
        self._on_phase(done, self._pgconn)


async def connect(
    conninfo: str, deadline: float, on_phase: Callable[[StepName, PGconn], None]
) -> PGconn:
    """Connect, calling `on_phase(TCP|TLS|AUTH)` as each phase ends; `deadline` is loop time.

    Raises ConnectFailed; on any exit but success (cancellation included) the connection is
    closed, so nothing is left on the server.
    """
    pgconn = pq.PGconn.connect_start(conninfo.encode())
    tracker = _PhaseTracker(pgconn, on_phase)
    try:
        async with asyncio.timeout_at(deadline):
            # libpq's rule: right after connect_start, wait as if the poll had said WRITING.
            # Polling at once would read "no error yet" as a finished TCP connect.
            poll: int = PollingStatus.WRITING
            while True:
                if pgconn.status == ConnStatus.BAD:
                    raise ConnectFailed(tracker.phase, _error_text(pgconn.error_message))
                await _wait_fd(pgconn.socket, read=poll == PollingStatus.READING)
                poll = pgconn.connect_poll()
                tracker.observe(pgconn.status)
                if poll == PollingStatus.OK:
                    pgconn.nonblocking = 1
                    return pgconn
                if poll == PollingStatus.FAILED:
                    raise ConnectFailed(tracker.phase, _error_text(pgconn.error_message))
    except TimeoutError:
        pgconn.finish()
        raise ConnectFailed(tracker.phase, "timed out", timed_out=True) from None
    except BaseException:
        pgconn.finish()
        raise


async def query(pgconn: PGconn, sql: str, deadline: float) -> list[PGresult]:
    """Send several statements as one simple query (one round trip); every result back."""
    results: list[PGresult] = []
    try:
        async with asyncio.timeout_at(deadline):
            pgconn.send_query(sql.encode())
            while pgconn.flush():
                await _wait_fd(pgconn.socket, read=False)
            while True:
                while pgconn.is_busy():
                    await _wait_fd(pgconn.socket, read=True)
                    pgconn.consume_input()
                result = pgconn.get_result()
                if result is None:
                    return results
                results.append(result)
    except TimeoutError:
        raise QueryFailed("timed out", timed_out=True) from None
    except OSError as error:
        raise QueryFailed(str(error)) from None
    except psycopg.Error as error:  # the connection broke mid-query
        raise QueryFailed(_error_text(pgconn.error_message) or str(error)) from None


def result_error(result: PGresult) -> QueryFailed | None:
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return None
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    return QueryFailed(_error_text(result.error_message), sqlstate.decode() if sqlstate else None)


def text_value(result: PGresult, row: int, column: int) -> str | None:
    value = result.get_value(row, column)
    return None if value is None else value.decode("utf-8", "replace")


def _error_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()


async def _wait_fd(fd: int, *, read: bool) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if read:
        loop.add_reader(fd, wake)
    else:
        loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        if read:
            loop.remove_reader(fd)
        else:
            loop.remove_writer(fd)

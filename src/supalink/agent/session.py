"""The agent's connection to the database, and the layers of the read-only guard that the
database enforces.

- Before the first call the login is read (supalink.roles.powers): a superuser is refused,
  a privileged login is served read-only, and the call plan takes the login's own limits as
  ceilings (agent/plan.py). The connection that read it becomes the pool's first.
- Every statement goes over the extended query protocol, unnamed: the server refuses a text
  with several statements, and a transaction pooler keeps nothing between calls.
- Every call runs in a transaction of its own: `BEGIN READ ONLY`, the statement, then
  `ROLLBACK` and the reset, in one round trip (agent/pipeline.py); with writes allowed,
  `BEGIN READ WRITE` … `COMMIT`, a round trip each.
- A call that ends early ends its statement: a cancelled call (the client's cancel, its
  end, the server's shutdown) sends libpq's cancel request, so no backend runs on for it
  and no lock it took is held after; the connection comes back clean, or is closed.
- A call is retried only when its connection broke before the statement could have reached
  the server (the server never acknowledged the call's BEGIN): an answer the server gave,
  an error among them, is the answer, and no call runs its statement twice. A connection
  that answered less than ALIVE_SECONDS ago and has nothing to read (a server that ends a
  connection says so, and its end can be read) is taken as alive, as a pool that skips its
  check of a connection used a moment ago does: its read-only call is sent without waiting
  for the BEGIN's answer (a wake-up less), and is not sent again if the connection breaks
  after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from supalink.agent.connections import (
    BACKOFF,
    CONNECTION_WAIT_SECONDS,
    Connections,
    LoginRead,
    Unavailable,
    retrieved,
    run_own,
)
from supalink.agent.options import ServeOptions
from supalink.agent.plan import CallPlan
from supalink.agent.values import ROW_TOO_LARGE, RowBudget, Rows, capped_rows, row_too_large
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    import psycopg

    from supalink.profiles import Target
    from supalink.roles import LoginPowers

log = logging.getLogger(__name__)

# A cancelled call: how long each cancel request may take, how often it is sent again while
# the statement runs on (one sent before the statement started is ignored by the server),
# and how long in all before the connection is closed instead.
CANCEL_REQUEST_SECONDS: Final = 1.0
CANCEL_AGAIN_SECONDS: Final = 0.2
CANCEL_GIVE_UP_SECONDS: Final = 2.0
# How long after a call's answer its connection is taken as alive (see above): within it,
# only a break that sent no end at all (a host or a route gone in that moment) goes unseen.
ALIVE_SECONDS: Final = 0.5
# An error is an answer too, and bounded like one: a server's error can quote megabytes.
MAX_ERROR_CHARS: Final = 4000


class DatabaseError(SupalinkError):
    """The server refused or failed the statement: its own words, for the agent, and its
    SQLSTATE for the audit (None: no answer came, the connection was lost)."""

    def __init__(self, text: str, sqlstate: str | None = None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


# What a cancelled call did (the audit's `cancel`): said once its statement has stopped.
NOT_SENT: Final = "before it was sent"
STOPPED_THERE: Final = "after it reached the server; the server stopped it in {ms} ms"
ALREADY_RAN: Final = "after it had run; its answer was not sent"
CLOSED: Final = "after it reached the server; it did not stop, so its connection was closed"


def _capped(text: str) -> str:
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return f"{text[:MAX_ERROR_CHARS]}… ({len(text) - MAX_ERROR_CHARS} more characters)"


@dataclass
class _Call:
    """One call's progress, for whoever must stop it."""

    conn: psycopg.AsyncConnection[Any] | None = None  # while its statement may run
    acknowledged: bool = False  # the server began the call's transaction
    broken: bool = False  # the attempt's connection broke
    abandoned: bool = False  # its caller is gone: send nothing more


class AgentDatabase:
    """The calls: each statement in a transaction of its own, on the pool of `connections`."""

    def __init__(
        self,
        target: Target,
        options: ServeOptions,
        *,
        on_login: Callable[[LoginRead], None] | None = None,
    ) -> None:
        self.target = target
        self.options = options
        self.connections = Connections(target, options, on_login)
        self._stopping: set[asyncio.Future[None]] = set()
        # When each pooled connection last finished a read-only call's pipeline.
        self._answered: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def own_session(self) -> bool:
        """A transaction pooler (shared or dedicated) would carry a session SET to others."""
        return self.target.mode is None or not self.target.mode.pools_transactions

    @property
    def powers(self) -> LoginPowers | None:
        return self.connections.powers

    @property
    def plan(self) -> CallPlan | None:
        return self.connections.plan

    async def open(self) -> None:
        """Start connecting in the background (agent/connections.py)."""
        await self.connections.open()

    async def close(self) -> None:
        """Let cancelled calls finish stopping their statements, then close."""
        if self._stopping:
            await asyncio.wait(set(self._stopping), timeout=CANCEL_GIVE_UP_SECONDS + 1.0)
        await self.connections.close()

    async def ready(self) -> CallPlan:
        """The call plan once the login has been read (or why it cannot be)."""
        return await self.connections.planned(time.monotonic() + CONNECTION_WAIT_SECONDS)

    # -- one call ---------------------------------------------------------------------

    async def run(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        max_rows: int | None = None,
        bounded_rows: bool = False,
        on_cancelled: Callable[[str], None] | None = None,
    ) -> Rows:
        """Run one statement in a transaction of its own. `bounded_rows` (for a plain query)
        has the server refuse a row larger than the answer's budget rather than send it.

        Cancelling this coroutine stops the statement on the server: the call goes on in a
        task of its own until the server has cancelled it; then `on_cancelled` is told what
        became of it (NOT_SENT, STOPPED_THERE, ALREADY_RAN or CLOSED)."""
        call = _Call()
        # The caller waits for `answer`, not for `work`: cancelling the caller leaves the
        # task running, as asyncio.shield would, and the task hands its outcome over itself,
        # a loop turn sooner than through its own completion (which shield waits for).
        answer: asyncio.Future[Rows] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(retrieved)
        work = asyncio.ensure_future(
            self._answer(answer, sql, params, max_rows, bounded_rows, call)
        )
        work.add_done_callback(retrieved)
        try:
            return await answer
        except asyncio.CancelledError:
            call.abandoned = True
            if work.done():
                _tell(on_cancelled, ALREADY_RAN)
            else:
                stopping = asyncio.ensure_future(self._stop(work, call, on_cancelled))
                self._stopping.add(stopping)
                stopping.add_done_callback(self._stopping.discard)
            raise

    async def _answer(
        self,
        answer: asyncio.Future[Rows],
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
        bounded_rows: bool,
        call: _Call,
    ) -> Rows:
        """`_run`, its outcome also given to `answer` (unless its caller has gone)."""
        try:
            rows = await self._run(sql, params, max_rows, bounded_rows, call)
        except asyncio.CancelledError:
            answer.cancel()
            raise
        except BaseException as error:
            if not answer.done():
                answer.set_exception(error)
            raise
        if not answer.done():
            answer.set_result(rows)
        return rows

    async def _stop(
        self, work: asyncio.Future[Rows], call: _Call, on_cancelled: Callable[[str], None] | None
    ) -> None:
        """Cancel the statement on the server until it stops; past the bound, close the
        connection (its backend then ends at its next check of the client)."""
        started = time.monotonic()
        give_up = started + CANCEL_GIVE_UP_SECONDS
        sent = call.conn is not None
        while not work.done() and time.monotonic() < give_up:
            conn = call.conn
            if conn is None:
                break  # nothing was sent: stopping the task is enough
            with contextlib.suppress(Exception):
                await conn.cancel_safe(timeout=CANCEL_REQUEST_SECONDS)
            await asyncio.wait({work}, timeout=CANCEL_AGAIN_SECONDS)
        stopped_there = work.done()
        if not work.done():
            work.cancel()
            await asyncio.wait({work}, timeout=CANCEL_GIVE_UP_SECONDS)
        conn = call.conn
        if not work.done() and conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
        if not sent:
            detail = NOT_SENT
        elif not stopped_there:
            detail = CLOSED
        elif work.cancelled() or isinstance(work.exception(), DatabaseError):
            detail = STOPPED_THERE.format(ms=round((time.monotonic() - started) * 1000))
        else:
            detail = ALREADY_RAN
        _tell(on_cancelled, detail)

    async def _run(
        self,
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
        bounded_rows: bool,
        call: _Call,
    ) -> Rows:
        import psycopg

        deadline = time.monotonic() + CONNECTION_WAIT_SECONDS
        plan = await self.connections.planned(deadline)
        if self.connections.probe:
            await self.connections.check_again()
        budget_bytes = self.options.max_answer_bytes
        text = capped_rows(sql, budget_bytes) if bounded_rows else sql
        attempt = 0
        while True:
            try:
                return await self._attempt(plan, text, params, max_rows, call)
            except psycopg.Error as error:
                if not self._retryable(error, call) or time.monotonic() >= deadline:
                    raise self._worded(error) from None
            if call.abandoned:
                raise asyncio.CancelledError
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            log.info(
                "agent: connection lost before the statement was sent, retrying in %.2f s", delay
            )
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))

    def _retryable(self, error: Exception, call: _Call) -> bool:
        """Only a connection that broke before the server began the call: whatever the
        server answered, an error too, is the call's answer."""
        from psycopg_pool import PoolTimeout

        if isinstance(error, PoolTimeout) or call.acknowledged:
            return False
        return call.broken

    def _worded(self, error: Exception) -> SupalinkError:
        from psycopg_pool import PoolTimeout

        if isinstance(error, PoolTimeout):
            self.connections.probe = True
            return Unavailable(
                f"no connection to the database within {CONNECTION_WAIT_SECONDS:g} s"
            )
        text = str(error).strip() or type(error).__name__
        sqlstate = getattr(error, "sqlstate", None)
        if ROW_TOO_LARGE in text:
            return DatabaseError(row_too_large(text, self.options.max_answer_bytes), sqlstate)
        return DatabaseError(_capped(text), sqlstate)

    async def _attempt(
        self,
        plan: CallPlan,
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
        call: _Call,
    ) -> Rows:
        import psycopg

        pool = self.connections.pool
        assert pool is not None
        # getconn and putconn rather than pool.connection(), whose `async with` of the
        # connection commits it on the way out: a lock and a wait for nothing, as every
        # call ends its own transaction (and the pool rolls back one returned in one).
        conn = await pool.getconn()
        try:
            if call.abandoned:
                raise asyncio.CancelledError
            call.conn, call.broken = conn, False
            try:
                if not plan.allow_writes:
                    return await self._read_only(plan, conn, sql, params, max_rows, call)
                await run_own(conn, plan.begin_sql)
                call.acknowledged = True
                try:
                    rows = await self._write_statement(conn, sql, params, max_rows)
                except BaseException:
                    await self._end(plan, conn, commit=False)
                    raise
                await self._end(plan, conn, commit=True)
                return rows
            except psycopg.Error:
                call.broken = conn.closed or conn.broken
                raise
            finally:
                call.conn = None
                # A cancel request may still be on its way to this backend: the connection
                # goes to no other call.
                if call.abandoned and not conn.closed:
                    await conn.close()
        finally:
            await pool.putconn(conn)

    async def _read_only(
        self,
        plan: CallPlan,
        conn: psycopg.AsyncConnection[Any],
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
        call: _Call,
    ) -> Rows:
        """BEGIN READ ONLY, the statement, ROLLBACK and the reset in one round trip; where
        a piece failed or the budget stopped the rows, the end and reset in a second."""
        from supalink.agent.pipeline import Outcome, nothing_to_read, read_only_call

        budget = RowBudget(max_rows or self.options.max_rows, self.options.max_answer_bytes)
        outcome = Outcome()
        answered = self._answered.get(conn)
        alive = (
            answered is not None
            and time.monotonic() - answered < ALIVE_SECONDS
            and nothing_to_read(conn)
        )
        try:
            await read_only_call(
                conn,
                plan.begin_pieces,
                sql,
                params,
                ["ROLLBACK", *plan.after_pieces],
                budget,
                outcome,
                confirm_begin=not alive,
            )
        finally:
            call.acknowledged = outcome.acknowledged
        self._answered[conn] = time.monotonic()
        if not outcome.clean:
            await self._end(plan, conn, commit=False)
        # A cut result ends in the cancel's error: the rows before it are the answer.
        if outcome.error is not None and not outcome.stopped:
            raise outcome.error
        rowcount = budget.seen if outcome.columns else _affected(outcome.status)
        return Rows(
            outcome.columns,
            budget.rows,
            budget.truncated,
            outcome.status,
            rowcount,
            budget.rows_json(),
        )

    async def _write_statement(
        self,
        conn: psycopg.AsyncConnection[Any],
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
    ) -> Rows:
        """A write, over the extended protocol, unnamed, in a pipeline, run to its end, with
        its command tag (UPDATE 3). Read-only calls go through agent/pipeline.py."""
        import psycopg

        budget = RowBudget(max_rows or self.options.max_rows, self.options.max_answer_bytes)
        cursor = psycopg.AsyncRawCursor(conn)
        values = list(params) if params else None
        async with cursor:
            async with conn.pipeline():
                await cursor.execute(sql, values)
            if cursor.description:
                for row in await cursor.fetchall():
                    budget.add(row)
            columns = tuple(column.name for column in cursor.description or ())
            status = cursor.statusmessage or ""
        rowcount = budget.seen if columns else _affected(status)
        return Rows(columns, budget.rows, budget.truncated, status, rowcount, budget.rows_json())

    async def _end(
        self, plan: CallPlan, conn: psycopg.AsyncConnection[Any], *, commit: bool
    ) -> None:
        """Finish the call's transaction and reset the session; after a failed statement
        this never raises (the statement's own error is the one to report)."""
        import psycopg
        from psycopg import pq

        status = conn.info.transaction_status
        if conn.closed or status in (pq.TransactionStatus.UNKNOWN, pq.TransactionStatus.ACTIVE):
            return  # lost or still busy: the pool discards it when it comes back
        finish = "ROLLBACK"
        if commit and plan.allow_writes and status is pq.TransactionStatus.INTRANS:
            finish = "COMMIT"
        try:
            await run_own(conn, f"{finish}; {plan.after_sql}")
        except psycopg.Error:
            # A failed COMMIT (a deferred constraint) skips the reset that followed it.
            if not conn.closed and plan.own_session:
                with contextlib.suppress(psycopg.Error):
                    await run_own(conn, f"ROLLBACK; {plan.after_sql}")
            if commit:
                raise


def _tell(on_cancelled: Callable[[str], None] | None, detail: str) -> None:
    if on_cancelled is not None:
        on_cancelled(detail)


def _affected(status: str) -> int | None:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else None

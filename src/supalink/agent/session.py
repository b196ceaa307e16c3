"""The agent's connection to the database, and layers 1 to 3 of the read-only guard as the
database enforces them.

- Every statement goes over the extended query protocol, unnamed (a raw cursor's
  `stream()`): the server refuses a text with several statements, and a transaction pooler
  keeps nothing between calls (no named prepared statement is ever made).
- Every call runs in a transaction of its own: `BEGIN READ ONLY`, the statement, then
  `ROLLBACK`; so even a write that slipped past READ ONLY (PostgreSQL 15's large-object
  functions) is undone. A read-only call sends all of it, and the reset after it, in one
  round trip (agent/pipeline.py). With writes allowed: `BEGIN READ WRITE` … `COMMIT`, a
  round trip each.
- A connection that is a session of its own (direct, session pooler) carries
  `default_transaction_read_only` and the timeouts as session settings, and after each call
  whatever session state the call left (settings, role, prepared statements, cursors,
  advisory locks) is reset before the connection serves the next one. Through a
  transaction pooler, session state belongs to whichever server connection the pooler
  picks: the call's own transaction is the only scope, so its limits and role are
  `SET LOCAL` in it, and only advisory locks are released after it (one query message stays
  on one server connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from supalink.agent.options import ServeOptions
from supalink.agent.values import RowBudget, Rows
from supalink.error_texts import PERMANENT, first_line
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from supalink.profiles import Target

log = logging.getLogger(__name__)

# How long a call waits for a connection, in all, while the server is away (a restart).
CONNECTION_WAIT_SECONDS: Final = 15.0
_BACKOFF: Final = (0.1, 0.25, 0.5, 1.0, 2.0)
# SQLSTATEs of a connection that went away: class 08, and the server shutting down.
_LOST_STATES: Final = ("57P01", "57P02", "57P03")
# Session advisory locks outlive a ROLLBACK. Through a transaction pooler too, a query
# message stays on one server connection, so the unlock reaches the call's own.
UNLOCK: Final = "SELECT pg_advisory_unlock_all()"


class DatabaseError(SupalinkError):
    """The server refused or failed the statement: its own words, for the agent."""


class Unavailable(SupalinkError):
    """No connection to the database within the wait."""


def _quote_setting(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class AgentDatabase:
    def __init__(self, target: Target, options: ServeOptions) -> None:
        self.target = target
        self.options = options
        # A transaction pooler (shared or dedicated) would carry a session SET to others.
        self.own_session = target.mode is None or not target.mode.pools_transactions
        settings = options.session_settings()
        begin = "BEGIN READ WRITE" if options.allow_writes else "BEGIN READ ONLY"
        session = dict(settings)
        session["default_transaction_read_only"] = "off" if options.allow_writes else "on"
        self.session_sql = "; ".join(f"SET {n} = {_quote_setting(v)}" for n, v in session.items())
        if self.own_session:
            # The session carries the limits, and what a call changes is undone after it.
            self.begin_pieces = [begin]
        else:
            # A pooler's server connection carries whatever its last client left, a
            # committed SET ROLE among it: the call's limits and role come first.
            local = [f"SET LOCAL {name} = {_quote_setting(v)}" for name, v in settings.items()]
            self.begin_pieces = [begin, *local, "SET LOCAL ROLE NONE"]
        # After each call. A read-only call is rolled back, and with it every setting, role
        # and cursor it made: what outlives a ROLLBACK is prepared statements and advisory
        # locks. A committed call may have changed anything: RESET ALL (role and session
        # authorization with it), then the session's own settings again.
        if not self.own_session:
            self.after_pieces = [UNLOCK]
        elif not options.allow_writes:
            self.after_pieces = ["DEALLOCATE ALL", UNLOCK]
        else:
            self.after_pieces = [
                "DEALLOCATE ALL",
                "CLOSE ALL",
                UNLOCK,
                "RESET ALL",
                "RESET ROLE",
                self.session_sql,
            ]
        self.begin_sql = "; ".join(self.begin_pieces)
        self.after_sql = "; ".join(self.after_pieces)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._kwargs: dict[str, Any] = {}
        # Until a connection has been made (and again after the pool timed out), a call first
        # tries one itself: a login that can never succeed is said at once, not after the
        # pool's whole wait, and the pool stops asking the server (an account can lock).
        self._unproven = True
        self._refused: DatabaseError | None = None

    # -- the pool ---------------------------------------------------------------------

    async def open(self) -> None:
        """Start connecting in the background: the server answers `initialize` at once."""
        from psycopg_pool import AsyncConnectionPool

        kwargs = self.target.connection_kwargs()
        kwargs["autocommit"] = True  # the calls' transactions are this module's own
        kwargs["prepare_threshold"] = None  # nothing named is left on any server connection
        self._kwargs = kwargs
        self._pool = AsyncConnectionPool(
            kwargs=kwargs,
            min_size=self.options.pool_min_size,
            max_size=self.options.pool_max_size,
            open=False,
            configure=self._configure,
            timeout=CONNECTION_WAIT_SECONDS,
            name="supalink-agent",
        )
        await self._pool.open(wait=False)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close(timeout=2.0)

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if self.own_session:
            await conn.execute(self.session_sql)
        self._unproven = False

    async def _check_login(self) -> None:
        """Refuse at once when the login can never succeed (a wrong password, a missing
        database, a certificate that does not verify)."""
        import psycopg

        if self._refused is not None:
            raise self._refused
        if not self._unproven:
            return
        try:
            conn = await psycopg.AsyncConnection.connect(**self._kwargs)
        except psycopg.OperationalError as error:
            if PERMANENT.search(str(error)):
                self._refused = DatabaseError(
                    f"the database refused this login: {first_line(str(error))}; fix the "
                    "profile in Supalink, then restart the client"
                )
                assert self._pool is not None
                await self._pool.close(timeout=0)
                raise self._refused from None
            return  # unreachable for now: the pool's own wait decides
        await conn.close()
        self._unproven = False

    # -- one call ---------------------------------------------------------------------

    async def run(
        self, sql: str, params: Sequence[Any] | None = None, *, max_rows: int | None = None
    ) -> Rows:
        """Run one statement in a transaction of its own; retry a lost connection, never a
        statement the server cancelled or that may have written."""
        import psycopg

        assert self._pool is not None, "open() first"
        await self._check_login()
        deadline = time.monotonic() + CONNECTION_WAIT_SECONDS
        attempt = 0
        while True:
            sent = [False]
            try:
                return await self._attempt(sql, params, max_rows, sent)
            except psycopg.Error as error:
                if not self._retryable(error, sent[0]) or time.monotonic() >= deadline:
                    raise self._worded(error) from None
            delay = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
            attempt += 1
            log.info("agent: connection lost, retrying in %.2f s", delay)
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))

    def _retryable(self, error: Exception, sent: bool) -> bool:
        from psycopg_pool import PoolTimeout

        if isinstance(error, PoolTimeout):
            return False  # the pool already waited the whole budget
        if PERMANENT.search(str(error)):
            return False
        state = getattr(error, "sqlstate", None)
        lost = state is None or state.startswith("08") or state in _LOST_STATES
        if not lost:
            return False  # the server answered: a refusal, a timeout, a cancel
        # A read-only call is rolled back whatever happened; a write may have committed.
        return not sent or not self.options.allow_writes

    def _worded(self, error: Exception) -> SupalinkError:
        from psycopg_pool import PoolTimeout

        if isinstance(error, PoolTimeout):
            self._unproven = True
            return Unavailable(
                f"no connection to the database within {CONNECTION_WAIT_SECONDS:g} s"
            )
        text = str(error).strip() or type(error).__name__
        return DatabaseError(text)

    async def _attempt(
        self, sql: str, params: Sequence[Any] | None, max_rows: int | None, sent: list[bool]
    ) -> Rows:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            if not self.options.allow_writes:
                sent[0] = True
                return await self._read_only(conn, sql, params, max_rows)
            await _own(conn, self.begin_sql)
            sent[0] = True
            try:
                rows = await self._write_statement(conn, sql, params, max_rows)
            except BaseException:
                await self._end(conn, commit=False)
                raise
            await self._end(conn, commit=True)
            return rows

    async def _read_only(
        self,
        conn: psycopg.AsyncConnection[Any],
        sql: str,
        params: Sequence[Any] | None,
        max_rows: int | None,
    ) -> Rows:
        """BEGIN READ ONLY, the statement, ROLLBACK and the reset in one round trip; where
        a piece failed or the budget stopped the rows, the end and reset in a second."""
        from supalink.agent.pipeline import read_only_call

        budget = RowBudget(max_rows or self.options.max_rows, self.options.max_answer_bytes)
        outcome = await read_only_call(
            conn, self.begin_pieces, sql, params, ["ROLLBACK", *self.after_pieces], budget
        )
        if not outcome.clean:
            await self._end(conn, commit=False)
        # A cut result ends in the cancel's error: the rows before it are the answer.
        if outcome.error is not None and not outcome.stopped:
            raise outcome.error
        rowcount = budget.seen if outcome.columns else _affected(outcome.status)
        return Rows(outcome.columns, budget.rows, budget.truncated, outcome.status, rowcount)

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
        return Rows(columns, budget.rows, budget.truncated, status, rowcount)

    async def _end(self, conn: psycopg.AsyncConnection[Any], *, commit: bool) -> None:
        """Finish the call's transaction and reset the session; after a failed statement
        this never raises (the statement's own error is the one to report)."""
        import psycopg
        from psycopg import pq

        status = conn.info.transaction_status
        if conn.closed or status in (pq.TransactionStatus.UNKNOWN, pq.TransactionStatus.ACTIVE):
            return  # lost or still busy: the pool discards it when it comes back
        finish = "ROLLBACK"
        if commit and self.options.allow_writes and status is pq.TransactionStatus.INTRANS:
            finish = "COMMIT"
        try:
            await _own(conn, f"{finish}; {self.after_sql}")
        except psycopg.Error:
            # A failed COMMIT (a deferred constraint) skips the reset that followed it.
            if not conn.closed and self.own_session:
                with contextlib.suppress(psycopg.Error):
                    await _own(conn, f"ROLLBACK; {self.after_sql}")
            if commit:
                raise


async def _own(conn: psycopg.AsyncConnection[Any], sql: str) -> None:
    """Supalink's own fixed statements around a call, over the simple protocol and without a
    cursor: a cursor's set-up cost about as much as the round trip itself, twice a call."""
    from psycopg import errors, generators, pq

    async with conn.lock:
        conn.pgconn.send_query(sql.encode())
        results = await conn.wait(generators.execute(conn.pgconn))
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=conn.info.encoding)


def _affected(status: str) -> int | None:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else None

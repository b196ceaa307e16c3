"""A read-only call in one round trip: its opening statements, the agent's statement, the
`ROLLBACK` and the reset that follow it, sent together in libpq's pipeline mode.

Each piece is a message of its own over the extended protocol (unnamed: nothing is left on a
pooler's server connection), so the agent's text is still one statement that the server
parses alone. A statement that fails makes the server skip the rest up to the sync; the
caller then ends the transaction and resets the session in a second round trip. The rows
arrive in chunks, so a huge result stops at the answer's budget and is cancelled.

A flush request follows the opening pieces, so the server answers them before it runs the
statement: a call whose BEGIN was never answered never reached the statement, and only such
a call may be sent again on a new connection. That answer costs a wake-up of its own (40 µs
of a call here), so the caller may leave the flush out on a connection it takes as alive
(`confirm_begin`): the call then counts as begun once it is sent, and is never sent again.
The parameters are turned into bytes before anything is sent, so one that cannot be sent
fails the call and not the connection.

Three round trips (BEGIN, the statement, ROLLBACK and reset) cost 0.53 ms on loopback TLS
here, against 0.19 ms for a bare execute; this costs 0.28 ms. Cross-core wake-ups, not the
server's work, are most of each round trip.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg import errors, generators, pq
from psycopg.adapt import PyFormat, Transformer

from supalink.agent.values import RowBudget

if TYPE_CHECKING:
    from psycopg.abc import PQGen
    from psycopg.pq.abc import PGresult

# Rows per result in libpq's chunked mode (17 and later; else one row per result): few
# enough that a huge result stops soon after the budget, many enough to cost little.
CHUNK_ROWS: Final = 200
CANCEL_WAIT_SECONDS: Final = 5.0
_ROWS: Final = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)
_COPY: Final = (pq.ExecStatus.COPY_OUT, pq.ExecStatus.COPY_IN, pq.ExecStatus.COPY_BOTH)
# What a loader raises for a value beyond Python's types.
_UNLOADABLE: Final = (psycopg.DataError, ValueError, OverflowError)


@dataclass
class Outcome:
    """What the pipeline brought back; `error` is the first failure the server reported."""

    columns: tuple[str, ...] = ()
    status: str = ""
    error: psycopg.Error | None = None
    stopped: bool = False  # the budget ran out and the rest was cancelled
    clean: bool = True  # every piece after the statement ran: the session is as it was
    acknowledged: bool = False  # the server began the transaction: the statement may run


async def read_only_call(
    conn: psycopg.AsyncConnection[Any],
    before: Sequence[str],
    sql: str,
    params: Sequence[Any] | None,
    after: Sequence[str],
    budget: RowBudget,
    outcome: Outcome,
    *,
    confirm_begin: bool = True,
) -> None:
    """Send everything at once and read the answers into `outcome`, in order (filled in as
    they come: after a failure it still says whether the server began the call). The
    connection leaves pipeline mode before this returns; if it cannot (it broke), it is
    closed, so the pool never hands it out half-way through a pipeline. Without
    `confirm_begin` the server is not asked to answer the opening pieces first, and the call
    is `acknowledged` from the moment anything is sent.

    The reading is one generator that psycopg's `wait` drives: a `wait` of its own for each
    answer cost about as much as the server's work for the four extra pieces."""
    pgconn = conn.pgconn
    encoding = conn.info.encoding
    reader = _Reader(conn, outcome, budget)
    statement = _Statement(conn, sql, params)
    async with conn.lock:
        pgconn.enter_pipeline_mode()
        try:
            for text in before:
                pgconn.send_query_params(text.encode(encoding), None)
            if confirm_begin:
                pgconn.send_flush_request()
            else:
                outcome.acknowledged = True
            statement.send()
            for text in after:
                pgconn.send_query_params(text.encode(encoding), None)
            pgconn.pipeline_sync()
            await conn.wait(reader.call(len(before), len(after)))
            if outcome.stopped:
                await _cancel(conn)
                await conn.wait(reader.after_cancel(len(after)))
        except BaseException:
            await _discard(conn)
            raise
        try:
            pgconn.exit_pipeline_mode()
        except Exception:
            await _discard(conn)
            raise


def nothing_to_read(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server has sent nothing on an idle connection: all it sends there
    unasked is why it is going (an error) and its end, and a connection reset reads as its
    end too. False where that cannot be looked at."""
    try:
        fileno = conn.pgconn.socket
        readable, _, failed = select.select([fileno], [], [fileno], 0)
    except (OSError, ValueError, psycopg.Error):  # closed; a descriptor past select's limit
        return False
    return not readable and not failed


class _Statement:
    """The agent's statement as a raw cursor sends it: $1, $2 ... bound by psycopg's own
    dumpers, the rows as text; made into bytes when built, sent later."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any], sql: str, params: Sequence[Any] | None
    ) -> None:
        self.pgconn = conn.pgconn
        self.query = sql.encode(conn.info.encoding)
        self.values: Sequence[Any] | None = None
        self.types: Sequence[int] | None = None
        self.formats: Sequence[Any] | None = None
        if params:
            transformer = Transformer(conn)
            self.values = transformer.dump_sequence(list(params), [PyFormat.AUTO] * len(params))
            self.types, self.formats = transformer.types or None, transformer.formats

    def send(self) -> None:
        if self.values is None:
            self.pgconn.send_query_params(self.query, None)
            return
        self.pgconn.send_query_params(
            self.query, self.values, param_types=self.types, param_formats=self.formats
        )


class _Reader:
    """The answers to one pipeline, read as generators for psycopg's `wait` to drive."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any], outcome: Outcome, budget: RowBudget
    ) -> None:
        self.pgconn = conn.pgconn
        self.encoding = conn.info.encoding
        self.outcome = outcome
        self.budget = budget
        self.transformer = Transformer(conn)
        self.first = True

    def call(self, opening: int, closing: int) -> PQGen[None]:
        """Everything, sent and read; only where the budget stopped the rows, up to there
        (the caller cancels the statement, then reads on with `after_cancel`)."""
        yield from generators.send(self.pgconn)
        yield from self._statement(opening)
        if not self.outcome.stopped:
            yield from self._end(closing)

    def after_cancel(self, closing: int) -> PQGen[None]:
        """The rows still on their way, dropped, then the rest."""
        yield from self._rows()
        yield from self._end(closing)

    def _statement(self, opening: int) -> PQGen[None]:
        for _ in range(opening):
            results = yield from generators.fetch_many(self.pgconn)
            if results and results[0].status == pq.ExecStatus.COMMAND_OK:
                self.outcome.acknowledged = True
            self._note(results)
        if self.outcome.error is not None:
            yield from generators.fetch_many(self.pgconn)  # the statement's: aborted
            return
        if pq.version() >= 170000:
            self.pgconn.set_chunked_rows_mode(CHUNK_ROWS)
        else:  # pragma: no cover (psycopg's wheels carry libpq 17 and later)
            self.pgconn.set_single_row_mode()
        yield from self._rows()

    def _end(self, closing: int) -> PQGen[None]:
        for _ in range(closing):
            self._note((yield from generators.fetch_many(self.pgconn)))
        result = yield from generators.fetch(self.pgconn)
        if result is None or result.status != pq.ExecStatus.PIPELINE_SYNC:
            # The server went away with answers still owed (a restart): a lost connection,
            # which a read-only call may retry.
            raise psycopg.OperationalError("the connection was lost during the call")

    def _rows(self) -> PQGen[None]:
        outcome = self.outcome
        while (result := (yield from generators.fetch(self.pgconn))) is not None:
            status = result.status
            if status in _COPY:  # the guard refuses COPY; libpq cannot leave it here
                raise psycopg.ProgrammingError("COPY is not allowed")
            if status not in _ROWS:
                self._note([result])
                outcome.status = _status(result)
                continue
            if self.first:
                outcome.columns = tuple(
                    (result.fname(index) or b"").decode(self.encoding)
                    for index in range(result.nfields)
                )
            self.transformer.set_pgresult(result, set_loaders=self.first)
            self.first = False
            # The tag (SELECT 3) comes with the last chunk of rows in chunked mode (libpq 18
            # leaves it off the empty result after it), with that empty result otherwise.
            if tag := _status(result):
                outcome.status = tag
            if outcome.stopped:
                continue
            try:
                rows = self.transformer.load_rows(0, result.ntuples, tuple)
            except _UNLOADABLE:
                rows = [self._leniently(result, index) for index in range(result.ntuples)]
            if not self.budget.add_many(rows):
                outcome.stopped = True
                return  # the caller cancels, then reads the rest

    def _leniently(self, result: PGresult, index: int) -> tuple[Any, ...]:
        """A row with a value Python cannot hold ('infinity'::date, a year past 9999): that
        value as the text PostgreSQL sent."""
        values: list[Any] = []
        for column in range(result.nfields):
            data = result.get_value(index, column)
            if data is None:
                values.append(None)
                continue
            loader = self.transformer.get_loader(
                result.ftype(column), pq.Format(result.fformat(column))
            )
            try:
                values.append(loader.load(data))
            except _UNLOADABLE:
                values.append(bytes(data).decode(self.encoding, "replace"))
        return tuple(values)

    def _note(self, results: Sequence[PGresult]) -> None:
        for result in results:
            if result.status == pq.ExecStatus.FATAL_ERROR:
                if self.outcome.error is None:
                    self.outcome.error = errors.error_from_result(result, encoding=self.encoding)
                self.outcome.clean = False
            elif result.status == pq.ExecStatus.PIPELINE_ABORTED:
                self.outcome.clean = False


async def _cancel(conn: psycopg.AsyncConnection[Any]) -> None:
    """Ask the server to stop the statement; its rows still on their way are read and
    dropped, and the cancel's error (or the statement's end) follows them."""
    with contextlib.suppress(Exception):
        await conn.cancel_safe(timeout=CANCEL_WAIT_SECONDS)


async def _discard(conn: psycopg.AsyncConnection[Any]) -> None:
    """A connection left in the middle of a pipeline is of no further use."""
    with contextlib.suppress(Exception):
        await conn.close()


def _status(result: PGresult) -> str:
    return (result.command_status or b"").decode()

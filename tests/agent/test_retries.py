"""A call is sent again only when its connection broke before the server began it; an error
the server answered (any SQLSTATE) is the answer at once. Counted as the server counts: the
login logs every statement it runs (log_statement = 'all'), and the statement carries a
marker of its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from supalink.agent.options import ServeOptions
from supalink.agent.session import AgentDatabase, DatabaseError
from tests.agent.conftest import Login, LoginFactory
from tests.support.postgres import PostgresServer

# Retrying used to take the whole connection wait (15 s): an answer comes far sooner.
ANSWERED_WITHIN_SECONDS = 5.0


def runs(pg: PostgresServer, mark: str) -> int:
    """How many times the server logged a statement holding `mark` (log_statement = all
    logs each execution once, "execute <unnamed>: …"), the server's log read whole."""
    text = pg.logfile.read_text(errors="replace")
    logged = ("LOG:  execute ", "LOG:  statement: ")  # not "STATEMENT:", an error's echo
    return sum(1 for line in text.splitlines() if mark in line and any(k in line for k in logged))


def counted(make_login: LoginFactory) -> Login:
    return make_login(settings={"log_statement": "all"})


async def _answer(database: AgentDatabase, sql: str, params: list[Any] | None) -> str:
    try:
        rows = await database.run(sql, params)
    except DatabaseError as error:
        return f"error: {error}"
    return f"rows: {rows.rows}"


def call_once(login: Login, sql: str, params: list[Any] | None = None) -> tuple[str, float]:
    async def scenario() -> tuple[str, float]:
        database = AgentDatabase(login.target(), ServeOptions(pool_max_size=1))
        await database.open()
        try:
            await database.run("select 1")  # the pool's connection is made
            started = time.monotonic()
            answer = await _answer(database, sql, params)
            return answer, time.monotonic() - started
        finally:
            await database.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("case", "sql", "params", "expected", "ran"),
    [
        # The server refuses the bind (08P01, a protocol violation, not a lost connection):
        # the statement never ran, and is not sent again.
        (
            "fewer params than placeholders",
            "select $1::int + $2::int as {m}",
            [1],
            "error: bind",
            0,
        ),
        (
            "a division by zero",
            "select 1 / (g - 1) as {m} from generate_series(1, 1) g",
            None,
            "error: division by zero",
            1,
        ),
        # Python has no date for it: the value comes back as PostgreSQL wrote it.
        ("infinity as a date", "select 'infinity'::date as {m}", None, "rows: [['infinity']]", 1),
        (
            "a year past 9999",
            "select '12000-01-01'::date as {m}",
            None,
            "rows: [['12000-01-01']]",
            1,
        ),
    ],
)
def test_an_answer_from_the_server_is_never_sent_again(
    make_login: LoginFactory,
    pg: PostgresServer,
    case: str,
    sql: str,
    params: list[Any] | None,
    expected: str,
    ran: int,
) -> None:
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"
    answer, took = call_once(login, sql.format(m=mark), params)
    print(f"{case}: ran {runs(pg, mark)} time(s), answered in {took * 1000:.0f} ms")
    assert answer.startswith(expected), (case, answer)
    assert took < ANSWERED_WITHIN_SECONDS, case
    assert runs(pg, mark) == ran, case


def test_a_parameter_that_cannot_be_sent_fails_the_call_and_nothing_runs(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"
    answer, took = call_once(login, f"select $1::text as {mark}", ["nul \x00 inside"])
    assert answer.startswith("error:"), answer
    assert "NUL" in answer or "0x00" in answer, answer
    assert took < ANSWERED_WITHIN_SECONDS
    assert runs(pg, mark) == 0


def test_a_connection_lost_before_the_call_is_sent_again_and_runs_once(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    """The pool's connection died while idle (its backend ended): the call never began
    there, so it goes to a new connection, once."""
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"

    async def scenario() -> tuple[Any, Any, Any]:
        database = AgentDatabase(login.target(), ServeOptions(pool_max_size=1))
        await database.open()
        try:
            first = (await database.run("select pg_backend_pid()")).rows[0][0]
            with pg.admin_connect() as conn:
                conn.execute("SELECT pg_terminate_backend(%s, 5000)", (first,))
            rows = await database.run(f"select 'ran' as {mark}")
            second = (await database.run("select pg_backend_pid()")).rows[0][0]
            return first, second, rows.rows
        finally:
            await database.close()

    first, second, rows = asyncio.run(scenario())
    assert rows == [["ran"]]
    assert first != second
    assert runs(pg, mark) == 1


def test_a_connection_lost_while_the_statement_ran_is_not_sent_again(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"

    async def scenario() -> tuple[str, float]:
        database = AgentDatabase(login.target(), ServeOptions(pool_max_size=1))
        await database.open()
        try:
            await database.run("select 1")
            started = time.monotonic()
            call = asyncio.ensure_future(_answer(database, f"select pg_sleep(5) as {mark}", None))
            while not login.backends(f"%{mark}%"):
                await asyncio.sleep(0.02)
            with pg.admin_connect() as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE usename = %s AND query LIKE %s",
                    (login.name, f"%{mark}%"),
                )
            answer = await call
            return answer, time.monotonic() - started
        finally:
            await database.close()

    answer, took = asyncio.run(scenario())
    assert answer.startswith("error:"), answer
    assert took < ANSWERED_WITHIN_SECONDS
    assert runs(pg, mark) == 1

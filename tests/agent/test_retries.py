"""A call is sent again only when its connection broke before the server began it; an error
the server answered (any SQLSTATE) is the answer at once. Counted as the server counts: the
login logs every statement it runs (log_statement = 'all'), and the statement carries a
marker of its own."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import psycopg
import pytest

from supalink.agent.options import ServeOptions
from supalink.agent.pipeline import nothing_to_read
from supalink.agent.session import ALIVE_SECONDS, AgentDatabase, DatabaseError
from supalink.profiles import Target
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


class Relay:
    """A TCP relay to the server that can go silent for the connections it carries (nothing
    passes either way, nothing is said) and then reset them: a connection whose far end
    went away without a word, as a dropped NAT entry or a dead host leaves it."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.port = 0
        self._carried: list[asyncio.StreamWriter] = []
        self._silent: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._carried:
            writer.transport.abort()

    def silence(self) -> None:
        """The connections carried so far pass nothing more."""
        self._silent.update(self._carried)

    def reset(self) -> None:
        """The silent connections are reset, on the client's side."""
        for writer in self._silent:
            writer.transport.abort()

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.server_port)
        self._carried += [writer, server_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    if writer not in self._silent:
                        sink.write(data)

        await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))


def _silent_break(login: Login, pg: PostgresServer, mark: str, idle: float) -> tuple[str, int]:
    """A call made `idle` seconds after the last answer on a connection that went silent
    meanwhile and is reset 0.3 s into the call: its answer, and how often the server ran it."""

    async def scenario() -> str:
        async with Relay(pg.port) as relay:
            uri = pg.uri(role=login.name, password=login.password, port=relay.port)
            database = AgentDatabase(Target.from_conninfo(uri), ServeOptions(pool_max_size=1))
            await database.open()
            try:
                await database.run("select 1")
                relay.silence()
                await asyncio.sleep(idle)
                call = asyncio.ensure_future(_answer(database, f"select 'ran' as {mark}", None))
                await asyncio.sleep(0.3)
                relay.reset()
                return await call
            finally:
                await database.close()

    answer = asyncio.run(scenario())
    return answer, runs(pg, mark)


def test_a_connection_idle_a_while_is_confirmed_and_a_silent_break_is_sent_again(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    """Past ALIVE_SECONDS the call waits for its BEGIN's answer: none came, so it never
    began, and it runs once on a new connection."""
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"
    answer, ran = _silent_break(login, pg, mark, ALIVE_SECONDS + 0.2)
    assert answer == "rows: [['ran']]"
    assert ran == 1


def test_a_connection_that_just_answered_is_taken_as_alive_and_not_sent_again(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    """Within ALIVE_SECONDS the call is sent without waiting for its BEGIN's answer, so
    once it is sent it may have run: a silent break fails it rather than risk running it
    twice (here it never reached the server)."""
    login = counted(make_login)
    mark = f"m{uuid.uuid4().hex[:12]}"
    answer, ran = _silent_break(login, pg, mark, 0.0)
    assert answer.startswith("error:"), answer
    assert ran == 0


def test_a_connection_ended_by_its_server_has_something_to_read(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    """What tells a connection that answered a moment ago from one whose server has since
    ended it (its error and its end wait to be read)."""
    login = make_login()

    async def scenario() -> tuple[bool, bool, bool]:
        conn = await psycopg.AsyncConnection.connect(login.uri(), autocommit=True)
        try:
            pid = conn.info.backend_pid
            idle = nothing_to_read(conn)
            with pg.admin_connect() as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            ended = nothing_to_read(conn)
        finally:
            await conn.close()
        return idle, ended, nothing_to_read(conn)

    idle, ended, closed = asyncio.run(scenario())
    assert idle
    assert not ended
    assert not closed

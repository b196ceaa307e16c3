"""Harm to the database's OTHER clients, as they and the database see it: what a READ ONLY
transaction that is rolled back does not stop (DESIGN.md) must not reach them through the
agent's server. Each test has a real other client (or the database itself) prove the harm
absent: its connection alive and its query answered, its select not held behind a lock,
its logical decoding without the agent's message, its table without the agent's row, its
advisory lock free. Where a text check cannot see (a view over a SECURITY DEFINER
function), the test says what really happens: only a role can prevent it."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from supalink.agent.options import ServeOptions
from supalink.agent.session import MAX_ERROR_CHARS, AgentDatabase
from supalink.agent.tools import AgentTools, Answer
from supalink.profiles import Target
from tests.agent.conftest import Login, LoginFactory, Victim, reach
from tests.agent.test_cancel import Served, wait_for
from tests.agent.test_injection import payload, tools_for
from tests.support.postgres import SUPERUSER, PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

# A plain select on loopback takes milliseconds; the bounds leave room for a loaded machine.
# Another client waits at most this long for a lock before its select fails: a statement
# queued for an ACCESS EXCLUSIVE lock would hold it for the agent's lock_timeout (5 s).
OTHER_LOCK_TIMEOUT = "1s"
SELECT_WITHIN_SECONDS = 3.0
POLL_SECONDS = 10.0
GIB = 1024 * 1024  # in kB, as /proc/PID/status counts


@asynccontextmanager
async def agent(
    target: Target, options: ServeOptions | None = None
) -> AsyncIterator[tuple[AgentTools, AgentDatabase]]:
    tools, database = tools_for(target, options or ServeOptions())
    await database.open()
    try:
        yield tools, database
    finally:
        await database.close()


async def query(tools: AgentTools, statement: str) -> Answer:
    return await tools.call("query", {"sql": statement})


def refused(answer: Answer, *names: str) -> None:
    """Refused by the guard, naming one of `names`."""
    assert answer.is_error, answer.text
    assert re.match(rf"refused \(({'|'.join(map(re.escape, names))})\)", answer.text), answer.text


def scalar(conn: psycopg.Connection[Any], statement: str, *params: object) -> Any:
    row = conn.execute(statement, params or None).fetchone()
    assert row is not None
    return row[0]


# -- 1. signals to other sessions -----------------------------------------------------------

OTHERS = "from pg_stat_activity where usename = current_user and pid <> pg_backend_pid()"
SIGNALS = [
    f"select pg_terminate_backend(pid) {OTHERS}",
    f"select pg_cancel_backend(pid) {OTHERS}",
    f'select "pg_terminate_backend"(pid) {OTHERS}',
    f"select pg_catalog.pg_cancel_backend(pid) {OTHERS}",
    f'select U&"\\0070g_cancel_backend"(pid) {OTHERS}',
    f"select PG_CATALOG.PG_TERMINATE_BACKEND(pid, 100) {OTHERS}",
    f"with others as (select pid {OTHERS}) select pg_terminate_backend(pid) from others",
    f"select * from (select pg_cancel_backend(pid) {OTHERS}) as signalled",
    f"select (select bool_and(pg_terminate_backend(pid)) {OTHERS}) as ended",
    f"select pid {OTHERS} and pg_cancel_backend(pid)",
]


@pytest.mark.parametrize("kind", ["login", "direct", "session", "transaction"])
def test_signals_to_the_same_roles_other_sessions_are_refused_and_they_live_on(
    request: pytest.FixtureRequest, kind: str, make_login: LoginFactory, pg: PostgresServer
) -> None:
    """The agent is a role of its own (directly), or the app role directly and through both
    poolers; its other sessions are a busy one (a statement that runs until the test lets it
    finish) and an idle one, beside an idle session of the app role."""
    if kind == "login":
        login = make_login()
        target, same_role = login.target(), login.uri()
    else:
        target, same_role = reach(request, kind), pg.uri()
    key = 900_000 + uuid.uuid4().int % 100_000

    async def attack() -> tuple[list[Answer], Answer]:
        async with agent(target) as (tools, _):
            return [await query(tools, text) for text in SIGNALS], await query(tools, "select 1")

    with (
        pg.admin_connect() as holder,
        psycopg.connect(same_role, autocommit=True) as busy,
        psycopg.connect(same_role, autocommit=True) as idle,
        psycopg.connect(pg.uri(), autocommit=True) as app_idle,
        ThreadPoolExecutor(1) as thread,
    ):
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        pids = [conn.info.backend_pid for conn in (busy, idle, app_idle)]
        statement = "SELECT 'finished' FROM pg_advisory_xact_lock(%s)"
        running = thread.submit(lambda: busy.execute(statement, (key,)).fetchall())
        waits = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s"
        wait_for(lambda: scalar(holder, waits, pids[0]) == "Lock", POLL_SECONDS)
        answers, after = asyncio.run(attack())
        present = "SELECT pid, wait_event_type FROM pg_stat_activity WHERE pid = ANY(%s)"
        rows = holder.execute(present, (pids,)).fetchall()
        alive = {int(str(pid)): str(wait) for pid, wait in rows}
        # Each still there, the busy one still waiting: never ended nor cancelled.
        assert sorted(alive) == sorted(pids), (pids, alive)
        assert alive[pids[0]] == "Lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
        finished = running.result(timeout=POLL_SECONDS)
        idle_pids = [scalar(conn, "SELECT pg_backend_pid()") for conn in (idle, app_idle)]
    for answer in answers:
        refused(answer, "pg_terminate_backend", "pg_cancel_backend")
    assert payload(after)["rows"] == [[1]]
    assert finished == [("finished",)]
    assert idle_pids == pids[1:]


# -- 2. locks taken by a table's owner --------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    login: Login  # owns `table` and `view`
    table: str
    index: str
    view: str


@pytest.fixture
def owned(make_login: LoginFactory, victim: Victim, pg: PostgresServer) -> Owned:
    """A login that owns a table (and a materialized view over it) that the app reads."""
    login = make_login()
    name = f"owned_{uuid.uuid4().hex[:8]}"
    table, view = f"{victim.schema}.{name}", f"{victim.schema}.{name}_mv"
    with pg.admin_connect() as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v text NOT NULL)")
        conn.execute(f"INSERT INTO {table} SELECT g, 'v' || g FROM generate_series(1, 1000) g")
        conn.execute(f"CREATE MATERIALIZED VIEW {view} AS SELECT * FROM {table}")
        for kind, what in (("TABLE", table), ("MATERIALIZED VIEW", view)):
            conn.execute(f'ALTER {kind} {what} OWNER TO "{login.name}"')
            conn.execute(f'GRANT SELECT ON {what} TO "{pg.role}"')
    return Owned(login, table, f"{victim.schema}.{name}_pkey", view)


def owner_attempts(owned: Owned) -> list[str]:
    t, index = owned.table, owned.index
    return [
        f"cluster {t} using {index.split('.')[1]}",
        f"reindex table {t}",
        f"reindex index {index}",
        f"vacuum full {t}",
        f"analyze {t}",
        f"lock table {t}",
        f"lock {t} in access exclusive mode",
        f"refresh materialized view {owned.view}",
    ]


async def other_select(pg: PostgresServer, table: str) -> float:
    """Seconds another client's `select … where id = 42` took; it fails if it waited a
    second for a lock."""
    async with await psycopg.AsyncConnection.connect(pg.uri(), autocommit=True) as conn:
        await conn.execute(f"SET lock_timeout = '{OTHER_LOCK_TIMEOUT}'")
        started = time.monotonic()
        rows = await (await conn.execute(f"SELECT v FROM {table} WHERE id = 42")).fetchall()
        took = time.monotonic() - started
    assert rows == [("v42",)]
    return took


async def while_a_reader_holds(
    pg: PostgresServer, owned: Owned, attempt: Awaitable[Any]
) -> tuple[Any, float | BaseException]:
    """The attempt, made while a reader holds the table: a statement that wants it alone
    queues behind the reader, and every later client queues behind it. Once the attempt has
    answered or waits for its lock, another client selects: its time, or its error."""
    admin_info = f"host={pg.socket_dir} port={pg.port} user={SUPERUSER} dbname=postgres"
    async with (
        await psycopg.AsyncConnection.connect(pg.uri()) as reader,
        await psycopg.AsyncConnection.connect(admin_info, autocommit=True) as admin,
    ):
        await reader.execute(f"SELECT v FROM {owned.table} WHERE id = 1")
        task = asyncio.ensure_future(attempt)
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND wait_event_type = 'Lock'"
        )
        deadline = time.monotonic() + POLL_SECONDS
        while not task.done():
            row = await (await admin.execute(waiting, (owned.login.name,))).fetchone()
            if row and row[0]:
                break
            assert time.monotonic() < deadline, "the attempt neither answered nor waited"
            await asyncio.sleep(0.02)
        try:
            seen: float | BaseException = await other_select(pg, owned.table)
        except psycopg.Error as error:
            seen = error
        await reader.rollback()
        return await task, seen


@pytest.mark.slow
def test_without_the_server_a_read_only_transaction_of_the_owner_locks_other_clients_out(
    owned: Owned, pg: PostgresServer
) -> None:
    """What the next test is up against (DESIGN.md): through a plain connection of the owner,
    BEGIN READ ONLY does not stop these, and another client's select waits behind them."""
    blocking = [owner_attempts(owned)[i] for i in (0, 1, 2, 5)]

    async def attempt(statement: str) -> float | BaseException:
        async with await psycopg.AsyncConnection.connect(owned.login.uri()) as owner:
            await owner.execute("SET TRANSACTION READ ONLY")
            _, seen = await while_a_reader_holds(pg, owned, owner.execute(statement))
            await owner.rollback()
        return seen

    for statement in blocking:
        seen = asyncio.run(attempt(statement))
        assert isinstance(seen, errors.LockNotAvailable), (statement, seen)


def test_a_table_owners_locking_statements_are_refused_and_other_clients_read_on(
    owned: Owned, pg: PostgresServer
) -> None:
    async def scenario() -> tuple[float, list[tuple[str, Answer, float | BaseException]], Any]:
        baseline = await other_select(pg, owned.table)
        seen = []
        async with agent(owned.login.target(), ServeOptions(allow_writes=True)) as (tools, db):
            for statement in owner_attempts(owned):
                answer, took = await while_a_reader_holds(pg, owned, query(tools, statement))
                seen.append((statement, answer, took))
            write = await query(tools, f"update {owned.table} set v = 'x' where id = 42")
            seen.append(("update", write, await other_select(pg, owned.table)))
            return baseline, seen, (db.powers, db.plan)

    baseline, seen, (powers, plan) = asyncio.run(scenario())
    print(f"\nother client's select, nothing attempted: {baseline * 1000:.1f} ms")
    for statement, answer, took in seen:
        shown = f"{took * 1000:.1f} ms" if isinstance(took, float) else repr(took)
        print(f"  after {statement!r}: {shown}")
        assert answer.is_error, statement
        assert answer.text.startswith("refused"), (statement, answer.text)
        assert isinstance(took, float), (statement, took)
        assert took < SELECT_WITHIN_SECONDS, statement
    assert "can do more than an agent needs" in seen[-1][1].text
    assert powers is not None
    assert plan is not None
    assert [power.name for power in powers.excess] == ["table owner"]
    assert plan.allow_writes is False  # served read-only, though writes were asked for
    with pg.admin_connect() as conn:
        assert scalar(conn, f"SELECT v FROM {owned.table} WHERE id = 42") == "v42"


# -- 3 and 4. logical messages and dblink, on a cluster of our own -------------------------


@dataclass(frozen=True)
class Decoding:
    """A cluster with wal_level = logical, a test_decoding slot, dblink, a table of messages
    sent out (`public.outbox`), a SECURITY DEFINER function of the superuser's that writes
    to it through dblink (PUBLIC keeps EXECUTE), and an agent's role that reads it."""

    server: PostgresServer
    login: Login

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return self.server.admin_connect()

    def messages(self) -> list[str]:
        """The logical messages the slot's consumer would be given (peeked, not taken)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT data FROM pg_logical_slot_peek_changes('s', NULL, NULL)"
                " WHERE data LIKE 'message:%'"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def flush(self) -> None:
        """Have the write-ahead log flushed: decoding reads only that far, and a message of
        a rolled-back transaction waits for the next flush (a commit, a full page)."""
        with self.connect() as conn:
            conn.execute("SET synchronous_commit = on")
            conn.execute("SELECT pg_catalog.txid_current()")  # a commit that waits for it

    def outbox(self) -> list[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT note FROM public.outbox ORDER BY id").fetchall()
        return [str(row[0]) for row in rows]

    def definer(self, name: str, note: str) -> None:
        """A SECURITY DEFINER function of the superuser's that inserts `note` into the
        outbox through dblink: in a transaction of dblink's own, which commits."""
        connstr = f"host={self.server.socket_dir} port={self.server.port} user={SUPERUSER}"
        insert = f"INSERT INTO public.outbox (note) VALUES ('{note}')"
        with self.connect() as conn:
            body = sql.SQL("SELECT public.dblink_exec({}, {})").format(
                sql.Literal(connstr + " dbname=postgres"), sql.Literal(insert)
            )
            conn.execute(
                f"CREATE FUNCTION public.{name}() RETURNS text LANGUAGE sql SECURITY DEFINER"
                f" AS $fn$ {body.as_string(conn)} $fn$"
            )


@pytest.fixture(scope="module")
def decoding(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[Decoding]:
    conf = "wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4"
    root = services_root / f"harm-{uuid.uuid4().hex[:8]}"
    server = start_postgres(system_tools, root, tls_files, extra_conf=conf)
    try:
        login = Login(server, f"agent_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}")
        found = Decoding(server, login)
        with server.admin_connect() as conn:
            conn.execute(f"CREATE ROLE {login.name} LOGIN PASSWORD '{login.password}'")
            conn.execute("CREATE EXTENSION dblink")
            conn.execute("CREATE TABLE public.outbox (id serial PRIMARY KEY, note text)")
            conn.execute(f"GRANT SELECT ON public.outbox TO {login.name}")
            conn.execute("SELECT pg_create_logical_replication_slot('s', 'test_decoding')")
        found.definer("sneaky", "sneaky")
        yield found
    finally:
        server.stop("immediate")


EMITS = [
    "select pg_logical_emit_message(false, 'outbox', 'agent-1')",
    "select pg_logical_emit_message(true, 'outbox', 'agent-2')",
    "select pg_catalog.pg_logical_emit_message(false, 'outbox', 'agent-3')",
    "select \"pg_logical_emit_message\"(false, 'outbox', convert_to('agent-4', 'UTF8'))",
    "with m as (select pg_logical_emit_message(false, 'outbox', 'agent-5') as at) table m",
    "select pg_logical_slot_peek_changes('s', null, null)",
]


def test_a_logical_message_is_refused_and_never_reaches_logical_decoding(
    decoding: Decoding,
) -> None:
    async def scenario() -> tuple[list[Answer], Any]:
        async with agent(decoding.login.target()) as (tools, database):
            answers = [await query(tools, text) for text in EMITS]
            await database.ready()  # the guard refused them all before the login was read
            return answers, database.powers

    answers, powers = asyncio.run(scenario())
    for answer in answers[:-1]:
        refused(answer, "pg_logical_emit_message")
    refused(answers[-1], "pg_logical_slot_peek_changes")
    # The same message from a READ ONLY transaction of the same role that is rolled back
    # reaches decoding: the harm is real, and once it is there, everything the agent sent
    # before it would be too (the write-ahead log is read in order).
    control = f"control-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(decoding.login.uri()) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SELECT pg_logical_emit_message(false, 'outbox', %s)", (control,))
        conn.rollback()
    decoding.flush()
    wait_for(lambda: any(control in message for message in decoding.messages()), POLL_SECONDS)
    assert [message for message in decoding.messages() if "agent-" in message] == []
    assert powers is not None
    assert "wal_level = logical" in [power.name for power in powers.shared]


def test_dblink_through_a_security_definer_function_is_refused_by_name(
    decoding: Decoding,
) -> None:
    own = decoding.login
    connstr = f"host=127.0.0.1 port={own.pg.port} user={own.name} password={own.password}"
    attempts = [
        "select public.sneaky()",
        "select sneaky()",
        'select * from public."sneaky"()',
        "select s from (select sneaky() as s) as t",
        f"select dblink_exec('{connstr}', 'insert into public.outbox (note) values (1)')",
        f"select dblink_connect('agent', '{connstr}')",
    ]
    before = decoding.outbox()

    async def scenario() -> tuple[list[Answer], Any]:
        async with agent(own.target()) as (tools, database):
            return [await query(tools, text) for text in attempts], database.powers

    answers, powers = asyncio.run(scenario())
    for answer in answers[:4]:
        refused(answer, "sneaky")
        assert "SECURITY DEFINER" in answer.text
    refused(answers[4], "dblink_exec")
    refused(answers[5], "dblink_connect")
    assert decoding.outbox() == before
    shared = {power.name: power.what for power in powers.shared}
    assert "dblink" in shared
    assert "sneaky()" in shared["SECURITY DEFINER functions for PUBLIC"]


def test_a_view_over_a_definer_function_is_out_of_any_text_checks_sight_only_a_role_stops_it(
    decoding: Decoding,
) -> None:
    """The limit the README states: the agent's text names a view, the view calls the
    function, the function writes through dblink. It happens, rolled back or not. What stops
    it is a role: EXECUTE taken from PUBLIC."""
    name = f"quiet_{uuid.uuid4().hex[:8]}"
    decoding.definer(name, name)
    with decoding.connect() as conn:
        conn.execute(f"CREATE VIEW public.{name}_report AS SELECT public.{name}() AS done")
        conn.execute(f"GRANT SELECT ON public.{name}_report TO PUBLIC")

    async def through_the_view() -> Answer:
        async with agent(decoding.login.target()) as (tools, _):
            return await query(tools, f"select * from public.{name}_report")

    try:
        passed = asyncio.run(through_the_view())
        written = decoding.outbox().count(name)
        with decoding.connect() as conn:
            conn.execute(f"REVOKE EXECUTE ON FUNCTION public.{name}() FROM PUBLIC")
        stopped = asyncio.run(through_the_view())
        written_after = decoding.outbox().count(name)
    finally:
        with decoding.connect() as conn:
            conn.execute(f"DROP FUNCTION public.{name}() CASCADE")
    assert not passed.is_error, passed.text  # no text check saw it ...
    assert written == 1  # ... and the row is in, committed by dblink's own transaction
    assert stopped.is_error
    assert f"permission denied for function {name}" in stopped.text
    assert written_after == 1


# -- 5. advisory locks ----------------------------------------------------------------------

SESSION_LOCKS = [
    "select pg_advisory_lock(7)",
    "select pg_catalog.pg_advisory_lock(7)",
    'select "pg_advisory_lock"(7)',
    "select pg_try_advisory_lock(7)",
    "select pg_advisory_lock_shared(7)",
    "select locked from (select pg_try_advisory_lock(7) as locked) as t",
]


def test_a_session_advisory_lock_is_refused_and_a_call_takes_none_past_its_end(
    target: Target, pg: PostgresServer
) -> None:
    def other_takes(key: int) -> bool:
        with psycopg.connect(pg.uri(), autocommit=True) as other:
            taken = bool(scalar(other, "SELECT pg_try_advisory_lock(%s)", key))
            other.execute("SELECT pg_advisory_unlock_all()")
        return taken

    async def scenario() -> tuple[list[Answer], bool, Answer, bool]:
        async with agent(target) as (tools, _):
            answers = [await query(tools, text) for text in SESSION_LOCKS]
            free_after = await asyncio.to_thread(other_takes, 7)
            xact = await query(tools, "select pg_try_advisory_xact_lock(8) as taken")
            # Right after the answer: the call's transaction has been rolled back.
            return answers, free_after, xact, await asyncio.to_thread(other_takes, 8)

    answers, seven_free, xact, eight_free = asyncio.run(scenario())
    for answer in answers:
        refused(answer, "pg_advisory_lock", "pg_try_advisory_lock", "pg_advisory_lock_shared")
    assert seven_free
    assert payload(xact)["rows"] == [[True]]  # the call did hold it ...
    assert eight_free  # ... and holds it no longer


# -- 6. a superuser's login ------------------------------------------------------------------


def said(answer: dict[str, Any]) -> tuple[bool, str]:
    result = answer["result"]
    return bool(result.get("isError")), "\n".join(c.get("text", "") for c in result["content"])


def test_a_superusers_login_is_refused_and_nothing_it_was_sent_runs(
    tmp_path: Path, make_login: LoginFactory, victim: Victim, pg: PostgresServer
) -> None:
    superuser = make_login("SUPERUSER")
    before = victim.snapshot()
    program = tmp_path / "ran"
    server = Served(superuser, tmp_path / "home")
    try:
        sent = {
            5: f"select count(*) from {victim.schema}.items",
            6: "select pg_read_file('postgresql.conf')",
            7: f"insert into {victim.schema}.items values (99, 'x')",
            8: f"copy (select 1) to program 'touch {program}'",
        }
        for request_id, text in sent.items():
            server.query(request_id, text)
        server.send(9, "tools/call", {"name": "list_tables", "arguments": {"schema": "public"}})
        answers = {key: said(line) for key, line in answers_to(server, [*sent, 9], 30).items()}
        # While it serves, it holds no connection as the superuser (the login check's is
        # closed once read): nothing could have run through one.
        with pg.admin_connect() as conn:
            count = "SELECT count(*) FROM pg_stat_activity WHERE usename = %s"
            wait_for(lambda: scalar(conn, count, superuser.name) == 0, POLL_SECONDS)
    finally:
        server.close()
    for request_id, (is_error, text) in answers.items():
        assert is_error, (request_id, text)
    for request_id in (5, 9):  # what the guard let through is refused for the login
        assert "supalink role create" in answers[request_id][1]
        assert "is a superuser" in answers[request_id][1]
    assert "listen_addresses" not in answers[6][1]
    stderr = server.stderr_path.read_text().splitlines()
    assert [line for line in stderr if "supalink role create" in line] == stderr, stderr
    assert len(stderr) == 1
    assert not program.exists()
    assert victim.snapshot() == before


# -- 7. a value larger than any answer --------------------------------------------------------


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def forget_peak(pid: int) -> None:
    """VmHWM starts again from the present RSS (Linux's clear_refs, 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def settled_rss(pid: int, before: int) -> int:
    """RSS once back within 50 MB of `before`, or as it is after a few seconds."""
    deadline = time.monotonic() + 5.0
    while abs((rss := memory_kb(pid, "VmRSS")) - before) > 50_000:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return rss


def backends(pg: PostgresServer, role: str) -> list[int]:
    with pg.admin_connect() as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE usename = %s", (role,))
        return [int(str(row[0])) for row in rows.fetchall()]


def database_peaks(pg: PostgresServer, role: str) -> list[int]:
    """What the database's backends of `role` took at their peak, MiB: printed, not bounded
    here (PostgreSQL has no per-backend memory limit to hold it to)."""
    return sorted((memory_kb(each, "VmHWM") // 1024 for each in backends(pg, role)), reverse=True)


def answers_to(server: Served, ids: list[int], timeout: float) -> dict[int, dict[str, Any]]:
    """The answers to `ids`, in whatever order they come."""
    found: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(ids):
        line = server.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        assert line is not None, "the server closed its stdout"
        if line.get("id") in ids:
            found[line["id"]] = line
    return found


@pytest.mark.slow
def test_a_500_mb_value_is_refused_on_the_server_and_never_held_by_ours(
    tmp_path: Path, make_login: LoginFactory, victim: Victim, pg: PostgresServer
) -> None:
    login = make_login()
    big = f"{victim.schema}.big_{uuid.uuid4().hex[:8]}"
    with pg.admin_connect() as conn:  # stored compressed: about 1.1 MB on disk
        conn.execute(f"CREATE TABLE {big} (v text)")
        conn.execute(f"INSERT INTO {big} SELECT repeat('x', 100000000)")
        conn.execute(f'GRANT SELECT ON {big} TO "{login.name}"')
    # Three 500 MB rows at once take the server tens of seconds on two cores.
    server = Served(login, tmp_path / "home", ["--statement-timeout", "240"])
    pid = server.process.pid
    phases = {
        "one 500 MB value": ["select repeat('x', 500000000)"],
        "three at once": ["select repeat('x', 500000000) as v"] * 3,
        "100 MB compressed in a table": [f"select v from {big}"],
    }
    bounds = {"one 500 MB value": GIB, "three at once": GIB * 3 // 2}
    try:
        server.query(2, "select 1")
        assert not said(server.answer(2))[0]
        request_id = 10
        for phase, statements in phases.items():
            before = memory_kb(pid, "VmRSS")
            for each in (pid, *backends(pg, login.name)):
                forget_peak(each)
            ids = list(range(request_id, request_id + len(statements)))
            request_id += len(statements)
            started = time.monotonic()
            for each, statement in zip(ids, statements, strict=True):
                server.query(each, statement)
            answers = answers_to(server, ids, timeout=280)
            took = time.monotonic() - started
            peak = memory_kb(pid, "VmHWM")
            after = settled_rss(pid, before)
            served_peaks = database_peaks(pg, login.name)
            print(
                f"\n{phase}: {took:.1f} s; RSS {before / 1024:.1f} MiB before, peak "
                f"{peak / 1024:.1f} MiB, {after / 1024:.1f} MiB after; the database's "
                f"backends peaked at {served_peaks} MiB"
            )
            # The check costs the database no more than sending the row would (about three
            # times the value: computed, formed into a row, measured); merged into the
            # statement it took 4.3 GB for a 500 MB value.
            assert max(served_peaks) <= 2048, (phase, served_peaks)
            for answer in answers.values():
                is_error, text = said(answer)
                assert is_error, text[:300]
                assert "more than an answer's 256 kB" in text, text[:300]
                assert len(text) < 1000
            assert peak <= bounds.get(phase, GIB), (phase, peak)
            assert abs(after - before) <= 50_000, (phase, before, after)
    finally:
        server.close()
        with pg.admin_connect() as conn:
            conn.execute(f"DROP TABLE {big}")


# -- 8. error texts --------------------------------------------------------------------------


def test_an_error_quoting_megabytes_is_answered_bounded_and_at_once(target: Target) -> None:
    statement = "select ('x' || repeat('y', 5000000))::int"

    async def scenario() -> tuple[Answer, float]:
        async with agent(target) as (tools, _):
            await query(tools, "select 1")
            started = time.monotonic()
            answer = await query(tools, statement)
            return answer, time.monotonic() - started

    answer, took = asyncio.run(scenario())
    print(f"\nan error of 5 MB answered in {took * 1000:.0f} ms, {len(answer.text)} characters")
    assert answer.is_error
    assert "invalid input syntax for type integer" in answer.text
    assert len(answer.text) <= MAX_ERROR_CHARS + 100
    assert took < 5.0  # milliseconds here; the margin is for a loaded machine

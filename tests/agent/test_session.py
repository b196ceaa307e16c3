"""The database's own layers of the read-only guard, each on its own (no text check here:
`AgentDatabase.run` is what runs after the guard), directly and through both poolers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from supalink.agent.connections import LoginRefused
from supalink.agent.options import ServeOptions
from supalink.agent.session import AgentDatabase, DatabaseError
from supalink.profiles import Target
from tests.agent.conftest import ROWS, LoginFactory, Victim, reach
from tests.support.postgres import PostgresServer

T = TypeVar("T")


def with_database(
    target: Target, options: ServeOptions, body: Callable[[AgentDatabase], Awaitable[T]]
) -> T:
    async def scenario() -> T:
        database = AgentDatabase(target, options)
        await database.open()
        try:
            return await body(database)
        finally:
            await database.close()

    return asyncio.run(scenario())


async def refused(database: AgentDatabase, statement: str) -> str:
    with pytest.raises((DatabaseError, LoginRefused)) as caught:
        await database.run(statement)
    return str(caught.value)


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writes"])
def test_a_text_with_several_statements_is_refused_by_the_server(
    target: Target, victim: Victim, allow_writes: bool
) -> None:
    before = victim.snapshot()

    async def body(database: AgentDatabase) -> list[str]:
        return [
            await refused(database, f"select 1; delete from {victim.schema}.items"),
            await refused(database, f"commit; drop table {victim.schema}.items"),
        ]

    messages = with_database(target, ServeOptions(allow_writes=allow_writes), body)
    assert all("cannot insert multiple commands" in message for message in messages)
    assert victim.snapshot() == before


def test_every_call_is_a_read_only_transaction_of_its_own(target: Target, victim: Victim) -> None:
    before = victim.snapshot()
    items = f"{victim.schema}.items"

    async def body(database: AgentDatabase) -> dict[str, Any]:
        found: dict[str, Any] = {}
        found["delete"] = await refused(database, f"delete from {items}")
        # A COMMIT ends the call's transaction; the next call is read-only again.
        await database.run("commit")
        found["after commit"] = await refused(database, f"delete from {items}")
        found["function"] = await refused(database, f"select {victim.schema}.note()")
        found["sequence"] = await refused(database, f"select nextval('{victim.schema}.counter')")
        # PostgreSQL 15 lets lo_create write in a READ ONLY transaction: the ROLLBACK undoes it.
        try:
            await database.run("select lo_create(0)")
        except DatabaseError as error:
            found["lo_create"] = str(error)
        found["rows"] = (await database.run(f"select id, name from {items} order by id")).rows
        return found

    found = with_database(target, ServeOptions(), body)
    for key in ("delete", "after commit", "function", "sequence"):
        assert "read-only transaction" in found[key], key
    assert found["rows"] == [list(row) for row in ROWS]
    assert victim.snapshot() == before


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writes"])
def test_what_a_call_changes_in_the_session_is_gone_before_the_next(
    session_target: Target, victim: Victim, allow_writes: bool
) -> None:

    async def body(database: AgentDatabase) -> dict[str, Any]:
        async def value(statement: str) -> Any:
            return (await database.run(statement)).rows[0][0]

        await database.run("select set_config('statement_timeout', '0', false)")
        await database.run("set session characteristics as transaction read write")
        await database.run("set role pg_monitor")
        await database.run("prepare sneaky as select 1")
        await database.run("select pg_advisory_lock(4242)")
        await database.run(f"declare held cursor with hold for select * from {victim.schema}.items")
        return {
            "timeout": await value("show statement_timeout"),
            "read_only": await value("show default_transaction_read_only"),
            "user": await value("select current_user"),
            "prepared": await value("select count(*) from pg_prepared_statements"),
            "locks": await value(
                "select count(*) from pg_locks where locktype = 'advisory'"
                " and pid = pg_backend_pid()"
            ),
            "cursors": await value("select count(*) from pg_cursors where name = 'held'"),
        }

    options = ServeOptions(allow_writes=allow_writes, statement_timeout=7, pool_max_size=1)
    found = with_database(session_target, options, body)
    assert found == {
        "timeout": "7s",
        "read_only": "off" if allow_writes else "on",
        "user": victim.pg.role,
        "prepared": 0,
        "locks": 0,
        "cursors": 0,
    }


def test_what_a_failed_call_left_is_gone_before_the_next(
    session_target: Target, victim: Victim
) -> None:
    """A read-only call is one round trip; when its statement fails, the server skips the
    ROLLBACK and reset sent with it, and a second round trip does them."""

    async def body(database: AgentDatabase) -> dict[str, Any]:
        async def value(statement: str) -> Any:
            return (await database.run(statement)).rows[0][0]

        # Row by row: the lock is taken before the division fails (1 / 0 alone would fail
        # at planning).
        failed = await refused(
            database, "select pg_advisory_lock(4343), 1 / (g - 1) from generate_series(1, 1) g"
        )
        return {
            "failed": failed,
            "locks": await value(
                "select count(*) from pg_locks where locktype = 'advisory'"
                " and pid = pg_backend_pid()"
            ),
            # Not "current transaction is aborted": the failed one was rolled back.
            "next": await value("select 'next'"),
            "read_only": await value("show transaction_read_only"),
        }

    found = with_database(session_target, ServeOptions(pool_max_size=1), body)
    assert "division by zero" in found["failed"]
    assert {key: found[key] for key in ("locks", "next", "read_only")} == {
        "locks": 0,
        "next": "next",
        "read_only": "on",
    }


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writes"])
def test_a_result_carries_the_servers_command_tag(target: Target, allow_writes: bool) -> None:
    async def body(database: AgentDatabase) -> list[tuple[str, int | None]]:
        results = [
            await database.run("select generate_series(1, 3)"),
            await database.run("select generate_series(1, 450)"),  # several chunks of rows
            await database.run("select 1 where false"),
        ]
        return [(rows.status, rows.rowcount) for rows in results]

    found = with_database(target, ServeOptions(allow_writes=allow_writes), body)
    assert found == [("SELECT 3", 3), ("SELECT 450", 450), ("SELECT 0", 0)]


def test_a_result_cut_at_the_budget_leaves_the_connection_ready(target: Target) -> None:
    """The rows beyond the budget are cancelled on the server, not read to their end."""

    async def body(database: AgentDatabase) -> tuple[Any, float, Any]:
        started = time.monotonic()
        # A billion rows, streamed as the join makes them (a set-returning function alone
        # is made whole before its first row is sent).
        many = await database.run(
            "select 1 from generate_series(1, 1000) a, generate_series(1, 1000) b,"
            " generate_series(1, 1000) c",
            max_rows=5,
        )
        elapsed = time.monotonic() - started
        after = await database.run("select 'next', current_setting('transaction_read_only')")
        return many, elapsed, after.rows

    many, elapsed, after = with_database(target, ServeOptions(pool_max_size=1), body)
    assert (many.rows, many.truncated) == ([[1]] * 5, True)
    assert elapsed < 10.0  # reading them all would take minutes
    assert after == [["next", "on"]]


def test_through_a_transaction_pooler_each_call_still_runs_under_its_own_limits(
    request: pytest.FixtureRequest, victim: Victim
) -> None:
    """Session state committed on a pooler's server connection (writes allowed) does not
    carry into the next call: the call's SET LOCALs and its role come first."""
    target = reach(request, "transaction")

    async def body(database: AgentDatabase) -> list[Any]:
        await database.run("select set_config('statement_timeout', '0', false)")
        await database.run("set role pg_monitor")
        return [
            (await database.run("show statement_timeout")).rows[0][0],
            (await database.run("select current_user")).rows[0][0],
        ]

    options = ServeOptions(allow_writes=True, statement_timeout=7, pool_max_size=1)
    assert with_database(target, options, body) == ["7s", victim.pg.role]


def test_the_statement_timeout_is_honoured_and_not_retried(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(database: AgentDatabase) -> tuple[str, float, Any]:
        started = time.monotonic()
        message = await refused(database, "select pg_sleep(10)")
        elapsed = time.monotonic() - started
        after = (await database.run("select 1")).rows
        return message, elapsed, after

    caplog.set_level(logging.INFO, logger="supalink.agent")
    message, elapsed, after = with_database(target, ServeOptions(statement_timeout=0.5), body)
    assert "statement timeout" in message
    assert elapsed < 5.0  # the 0.5 s limit, with a margin for a loaded machine
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
    assert after == [[1]]


def test_a_login_that_can_never_succeed_is_said_at_once_not_after_the_pools_wait(
    pg: PostgresServer,
) -> None:
    """A wrong password: the first call says so without the pool's 15 s wait, and no pool
    goes on asking the server (an account can lock)."""
    target = Target.from_conninfo(pg.uri(password="not-the-password"))

    async def body(database: AgentDatabase) -> tuple[list[str], float]:
        started = time.monotonic()
        messages = [await refused(database, "select 1"), await refused(database, "select 1")]
        assert database.connections.pool is None
        return messages, time.monotonic() - started

    messages, elapsed = with_database(target, ServeOptions(), body)
    assert all("refused this login" in message for message in messages)
    assert all("password authentication failed" in message for message in messages)
    assert elapsed < 10.0  # the pool's own wait is 15 s


def test_quotes_are_read_as_the_guard_reads_them_whatever_the_role_says(
    make_login: LoginFactory,
) -> None:
    """A role set to standard_conforming_strings = off would read 'a\\'b' as one string: the
    server sets it on for every call, so what the guard sees as text stays text."""
    login = make_login(settings={"standard_conforming_strings": "off"})

    async def body(database: AgentDatabase) -> Any:
        return (await database.run("select 'a\\'b' as x")).rows

    with pytest.raises(DatabaseError):  # 'a\' then b' unterminated: nothing runs
        with_database(login.target(), ServeOptions(), body)

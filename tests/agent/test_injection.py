"""The injection corpus, as an attacker who controls the agent's text would send it: every
attack through the `query` tool (the guard and the database together), directly and through
both poolers. Each is refused, or runs and leaves nothing behind; the data is unchanged
and the server still answers."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from supalink.agent.listen import AgentListener
from supalink.agent.options import ServeOptions
from supalink.agent.session import AgentDatabase
from supalink.agent.tools import AgentTools, Answer
from supalink.logs import SecretMasker
from supalink.profiles import Target
from tests.agent.conftest import Victim

S = "{s}"  # the victim's schema, filled in per run

# (what it tries, the statements sent in order): the last one is the write, which is refused.
REFUSED: list[tuple[str, list[str]]] = [
    ("the reference server's escape", [f"COMMIT; DROP TABLE {S}.items"]),
    ("stacked after a select", [f"select 1; delete from {S}.items"]),
    ("stacked behind a block comment", [f"select 1 /* ; */ ; delete from {S}.items"]),
    ("stacked behind a nested comment", [f"select 1 /* /* */ ; */ ; delete from {S}.items"]),
    ("stacked behind a line comment", [f"select 1 -- ;\n; delete from {S}.items"]),
    ("a ; in a string", [f"select ';' ; drop table {S}.items"]),
    ("a ; in an E-string", [f"select E'\\';' ; delete from {S}.items"]),
    ("a ; in a dollar quote", [f"select $$;$$; drop table {S}.items"]),
    ("a ; in a tagged dollar quote", [f"select $x$ $$ ; $x$; drop table {S}.items"]),
    ("a ; in a quoted name", [f'select 1 as ";"; delete from {S}.items']),
    ("a rollback first", [f"rollback; delete from {S}.items"]),
    ("a plain write", [f"delete from {S}.items"]),
    ("a write behind a comment", [f"-- just a comment\ndelete from {S}.items"]),
    ("a write in a nested comment's shadow", [f"/* /* */ select 1 */ delete from {S}.items"]),
    ("a writable CTE", [f"with gone as (delete from {S}.items returning *) select * from gone"]),
    ("truncate", [f"truncate {S}.items"]),
    ("an upsert", [f"insert into {S}.items values (9, 'x') on conflict do nothing"]),
    (
        "merge",
        [
            f"merge into {S}.items t using (select 1 as id) s on t.id = s.id "
            "when matched then delete"
        ],
    ),
    ("a row lock", [f"select * from {S}.items for update"]),
    ("a table lock", [f"lock table {S}.items in access exclusive mode"]),
    ("explain analyze runs the write", [f"explain analyze delete from {S}.items"]),
    ("a function with side effects", [f"select {S}.note()"]),
    ("a sequence", [f"select nextval('{S}.counter')"]),
    ("setval", [f"select setval('{S}.counter', 99)"]),
    ("a temporary table", ["create temp table scratch (x int)"]),
    ("a table of its own", ["create table public.agent_was_here (x int)"]),
    ("a role change", ["alter role current_user createrole"]),
    ("SET then a write", ["set default_transaction_read_only = off", f"delete from {S}.items"]),
    (
        "set_config then a write",
        [
            "select set_config('default_transaction_read_only', 'off', false)",
            f"delete from {S}.items",
        ],
    ),
    (
        "set_config of this transaction",
        [
            "select set_config('transaction_read_only', 'off', true)",
            f"delete from {S}.items",
        ],
    ),
    (
        "session characteristics",
        [
            "set session characteristics as transaction read write",
            f"delete from {S}.items",
        ],
    ),
    ("SET ROLE", ["set role pg_monitor", f"delete from {S}.items"]),
    (
        "role by set_config",
        [
            "select set_config('role', 'pg_monitor', false)",
            f"delete from {S}.items",
        ],
    ),
    ("reset", ["reset all", f"delete from {S}.items"]),
    ("discard", ["discard all"]),
    ("PREPARE then EXECUTE", [f"prepare wipe as delete from {S}.items", "execute wipe"]),
    ("deallocate", ["deallocate all"]),
    ("begin read write", ["begin read write"]),
    ("start transaction", ["  StArT  transaction read write"]),
    ("commit", ["commit"]),
    ("savepoint", ["savepoint a"]),
    ("copy out", [f"copy {S}.items to stdout"]),
    ("copy to a program", ["copy (select 1) to program 'touch /tmp/agent-was-here'"]),
    ("copy in", [f"copy {S}.items from stdin"]),
    ("DO", [f"do $$ begin delete from {S}.items; end $$"]),
    ("CALL", ["call pg_catalog.pg_sleep(0)"]),
    ("LISTEN", ["listen anything"]),
    ("NOTIFY", ["notify anything, 'x'"]),
    ("an unterminated string", [f"select 'x; delete from {S}.items"]),
    ("nothing", ["  -- only a comment"]),
]

# These run, and what they did is undone or reset before the next call.
UNDONE: list[tuple[str, str]] = [
    ("a large object (PostgreSQL 15 writes it in READ ONLY)", "select lo_create(0)"),
    ("a large object from bytes", "select lo_from_bytea(0, 'x')"),
    ("an advisory lock", "select pg_advisory_lock(77)"),
    ("pg_notify", "select pg_notify('agent_channel', 'x')"),
    ("a parameter is a value", f"select * from {S}.items where name = $1"),
]


def tools_for(target: Target, options: ServeOptions) -> tuple[AgentTools, AgentDatabase]:
    database = AgentDatabase(target, options)
    tools = AgentTools(database, AgentListener(target), options, audit=None, masker=SecretMasker())
    return tools, database


def payload(answer: Answer) -> Any:
    """The JSON inside an answer's data boundary."""
    match = re.search(r"<(untrusted-data-[0-9a-f]{32})>\n(.*)\n</\1>", answer.text, re.DOTALL)
    assert match, answer.text
    return json.loads(match.group(2))


def test_every_attack_is_refused_or_undone_and_the_data_is_unchanged(
    target: Target, victim: Victim
) -> None:
    before = victim.snapshot()
    options = ServeOptions(pool_max_size=1)

    async def scenario() -> dict[str, Any]:
        tools, database = tools_for(target, options)
        await database.open()
        accepted: list[str] = []
        undone_errors: dict[str, str] = {}
        try:
            for what, statements in REFUSED:
                for statement in statements[:-1]:
                    await tools.call("query", {"sql": statement.replace(S, victim.schema)})
                last = await tools.call("query", {"sql": statements[-1].replace(S, victim.schema)})
                if not last.is_error:
                    accepted.append(what)
            for what, statement in UNDONE:
                params = ["x'); delete from items; --"] if "$1" in statement else None
                answer = await tools.call(
                    "query", {"sql": statement.replace(S, victim.schema), "params": params}
                )
                if answer.is_error:
                    undone_errors[what] = answer.text
            locks = await tools.call(
                "query",
                {"sql": "select count(*) from pg_locks where locktype = 'advisory' and objid = 77"},
            )
            alive = await tools.call("query", {"sql": "select 1 as alive"})
        finally:
            await database.close()
        return {
            "accepted": accepted,
            "undone_errors": undone_errors,
            "locks": payload(locks)["rows"],
            "alive": payload(alive)["rows"],
        }

    found = asyncio.run(scenario())
    assert found["accepted"] == []
    # Each of these may also be refused outright; none may fail for another reason.
    for what, text in found["undone_errors"].items():
        assert "read-only" in text or "refused" in text, (what, text)
    assert found["locks"] == [[0]]
    assert found["alive"] == [[1]]
    assert victim.snapshot() == before


def test_with_writes_allowed_a_write_runs_but_still_one_statement_in_its_own_transaction(
    target: Target, victim: Victim
) -> None:
    items = f"{victim.schema}.items"

    async def scenario() -> dict[str, Any]:
        tools, database = tools_for(target, ServeOptions(allow_writes=True))
        await database.open()
        try:
            inserted = await tools.call(
                "query", {"sql": f"insert into {items} values ($1, $2)", "params": [40, "delta"]}
            )
            stacked = await tools.call("query", {"sql": f"delete from {items}; select 1"})
            escape = await tools.call("query", {"sql": "commit"})
            removed = await tools.call(
                "query",
                {"sql": f"delete from {items} where id = $1 returning name", "params": [40]},
            )
        finally:
            await database.close()
        return {"inserted": inserted, "stacked": stacked, "escape": escape, "removed": removed}

    before = victim.snapshot()
    found = asyncio.run(scenario())
    assert not found["inserted"].is_error
    assert payload(found["inserted"])["status"] == "INSERT 0 1"
    assert found["stacked"].is_error
    assert "one statement" in found["stacked"].text
    assert found["escape"].is_error
    assert "transaction" in found["escape"].text
    assert payload(found["removed"])["rows"] == [["delta"]]
    assert victim.snapshot() == before

"""The catalogue of functions whose effect outlives the call's transaction: every name in it
refused in every spelling PostgreSQL resolves to it, at any depth, and never a word in a
string or a comment; checked against a real server's pg_proc."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from supalink.agent.guard import Kind, guarded
from supalink.agent.refusals import Refusal, StatementRefused
from supalink.agent.side_effects import CATALOGUE, CORE, Entry, find_side_effect
from tests.support.postgres import SUPERUSER, PostgresServer

# Extensions the test server can install, to check the names their entries give.
INSTALLABLE = ("dblink", "postgres_fdw", "adminpack", "pg_stat_statements")
# Sources the test server does not have: checked by reading, not against pg_proc.
NOT_HERE = {"PostgreSQL 14 and older", "http, pg_net", "http", "pg_net"}


def refusal(text: str, *, allow_writes: bool = False) -> StatementRefused:
    with pytest.raises(StatementRefused) as caught:
        guarded(text, allow_writes=allow_writes)
    assert caught.value.refusal is Refusal.SIDE_EFFECT
    return caught.value


def examples(entry: Entry) -> Iterator[str]:
    """Each name of an entry, and a member of each of its families."""
    yield from entry.names
    for prefix in entry.prefixes:
        yield prefix
        yield f"{prefix}anything_new"


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: next(examples(entry)))
def test_every_name_in_the_catalogue_is_refused(entry: Entry) -> None:
    for name in examples(entry):
        for spelling in (
            f"select {name}(1)",
            f"SELECT * FROM {name.upper()}()",
            f'select "{name}"(1)',
            f"select public.{name}(1)",
        ):
            error = refusal(spelling)
            assert (error.keyword, error.why) == (name, entry.why), spelling
            assert str(error) == f"refused ({name}): {entry.why}"


@pytest.mark.parametrize(
    "text",
    [
        "select pg_terminate_backend(pid) from pg_stat_activity",
        "select PG_Terminate_Backend(1)",
        'select "pg_terminate_backend"(1)',
        "select pg_catalog.pg_terminate_backend(1)",
        'select "pg_catalog"."pg_terminate_backend"(1)',
        'select pg_catalog . "pg_terminate_backend" (1)',
        'select U&"\\0070g_terminate_backend"(1)',
        'select u&"\\+000070g_terminate_backend"(1)',
        'select U&"pg_terminate\\005Fbackend"(1)',
        "select U&\"!0070g_terminate_backend\" UESCAPE '!' (1)",
        "select U&\"!0070g_terminate_backend\" /* a /* nested */ comment */ uescape\n'!' (1)",
        "select pg_terminate_backend /* between */ (1)",
        "select pg_terminate_backend -- to the end\n(1)",
        "select pg_terminate_backend\n\t(1)",
        "select pg_terminate_backend",  # named, not called: refused all the same
        "select 1 from pg_terminate_backend(1) as t(ok)",
    ],
)
def test_every_spelling_of_a_name_is_refused(text: str) -> None:
    assert refusal(text).keyword == "pg_terminate_backend"


@pytest.mark.parametrize(
    "text",
    [
        "select U&\"!0070g_ls_dir\" UESCAPE E'!' ('.')",
        "select U&\"!0070g_ls_dir\" UESCAPE $$!$$ ('.')",
        "select U&\"!0070g_ls_dir\" UESCAPE '!!' ('.')",
        "select U&\"!0070g_ls_dir\" UESCAPE ('.')",
    ],
)
def test_a_uescape_other_than_a_plain_character_is_refused(text: str) -> None:
    with pytest.raises(StatementRefused) as caught:
        guarded(text)
    assert (caught.value.refusal, caught.value.keyword) == (Refusal.UESCAPE, "UESCAPE")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("select (select (select pg_cancel_backend(1)))", "pg_cancel_backend"),
        ("with x as (select pg_ls_dir('.')) select * from x", "pg_ls_dir"),
        ("select * from t, lateral (select dblink('db', 'select 1')) d", "dblink"),
        ("select coalesce(null, greatest(1, pg_advisory_lock(7)))", "pg_advisory_lock"),
        ("select * from t where a in (select http_get('https://x'))", "http_get"),
        ("values ((select set_config('role', 'postgres', false)))", "set_config"),
        ("select f(g(h(pg_read_file('/etc/passwd'))))", "pg_read_file"),
        ("table pg_logical_slot_get_changes", "pg_logical_slot_get_changes"),
        ("show pg_stat_reset", "pg_stat_reset"),
        ("explain select pg_notify('c', 'x')", "pg_notify"),
        ("explain (verbose) select query_to_xml('drop table t', true, true, '')", "query_to_xml"),
    ],
)
def test_a_name_is_refused_at_any_depth_in_any_statement(text: str, name: str) -> None:
    assert refusal(text).keyword == name


@pytest.mark.parametrize(
    "text",
    [
        "insert into t select pg_cancel_backend(1)",
        "update t set a = pg_try_advisory_lock(1)",
        "delete from t where pg_notify('c', 'x') is null",
        "merge into t using (select lo_export(1, '/tmp/x') a) s on true when matched then delete",
        "with x as (select 1) insert into t select ts_stat('select 1') from x",
    ],
)
def test_writes_are_checked_too(text: str) -> None:
    refusal(text, allow_writes=True)


@pytest.mark.parametrize(
    "text",
    [
        "select 'pg_terminate_backend'",
        "select 'pg_terminate_backend(1)' as sql",
        "select E'pg_ls_dir(\\'.\\')'",
        "select $$select pg_terminate_backend(1)$$",
        "select $f$ dblink $f$",
        "select U&'\\0070g_terminate_backend'",
        "select 1 -- pg_terminate_backend(1)",
        "select 1 /* pg_ls_dir('.') /* nested */ */",
        'select "PG_TERMINATE_BACKEND"(1)',  # quoted names keep their case: not the function
        'select 1 as "pg_terminate_backend "',
        "select U&\"!!pg_terminate_backend\" UESCAPE '!'",  # !! is one !: a name of its own
        "select pg_terminate_backend2(1), my_pg_ls_dir(), x$pg_ls_dir, a.my_dblink",
        "select pg_advisory_xact_lock(1), pg_try_advisory_xact_lock(1)",
        "select pg_advisory_xact_lock_shared(1), pg_try_advisory_xact_lock_shared(1)",
        "select * from pg_stat_activity, pg_stat_statements",
        "select pg_backend_pid(), current_setting('role'), now(), pg_sleep(0)",
    ],
)
def test_words_outside_sql_and_other_names_are_not_matched(text: str) -> None:
    assert guarded(text).kind is Kind.QUERY


def test_find_side_effect_reads_names_as_postgresql_resolves_them() -> None:
    assert find_side_effect([]) is None
    assert find_side_effect(["PG_TERMINATE_BACKEND", "x"]) is None  # quoted: exact case
    assert find_side_effect(["x", "dblink_exec"]) == (
        "dblink_exec",
        next(entry.why for entry in CATALOGUE if "dblink" in entry.prefixes),
    )
    # The answer does not hang on the order the names come in.
    names = ["pg_sleep", "pg_notify", "pg_ls_dir", "set_config"]
    assert find_side_effect(names) == find_side_effect(reversed(names))


def test_the_catalogue_is_readable_data() -> None:
    names = [name for entry in CATALOGUE for name in entry.names]
    prefixes = [prefix for entry in CATALOGUE for prefix in entry.prefixes]
    assert len(names) == len(set(names)), "a name in two entries"
    assert len(prefixes) == len(set(prefixes)), "a prefix in two entries"
    for name in names + prefixes:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name  # as PostgreSQL folds a bare name
    # A name that a family takes in already is noise in the list.
    assert [name for name in names if name.startswith(tuple(prefixes))] == []
    for entry in CATALOGUE:
        assert entry.names or entry.prefixes
        assert entry.why[:1].islower(), entry  # it finishes "refused (NAME): …"
        assert not entry.why.endswith("."), entry
    assert {entry.source for entry in CATALOGUE} <= {CORE, *INSTALLABLE, *NOT_HERE}


def procedures(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT proname FROM pg_proc")}


def check_entries(found: set[str], source: str) -> None:
    for entry in (entry for entry in CATALOGUE if entry.source == source):
        assert set(entry.names) <= found, (source, set(entry.names) - found)
        for prefix in entry.prefixes:
            assert any(name.startswith(prefix) for name in found), (source, prefix)


def test_the_names_are_those_of_postgresql_15_and_its_extensions(pg: PostgresServer) -> None:
    """Every core name is in pg_proc, the older names are not (they are for servers before
    15), and the extensions' names are there once the extensions are created."""
    with pg.admin_connect() as conn:
        assert conn.info.server_version // 10000 == 15
        core = procedures(conn)
        check_entries(core, CORE)
        older = [name for entry in CATALOGUE if "older" in entry.source for name in entry.names]
        assert older
        assert not set(older) & core
        database = f"side_effects_{uuid.uuid4().hex[:8]}"
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        try:
            with psycopg.connect(
                host=str(pg.socket_dir),
                port=pg.port,
                user=SUPERUSER,
                dbname=database,
                autocommit=True,
            ) as throwaway:
                for extension in INSTALLABLE:
                    throwaway.execute(
                        sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(extension))
                    )
                added = procedures(throwaway) - core
            for extension in INSTALLABLE:
                check_entries(added, extension)
        finally:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


@pytest.mark.parametrize("line_end", ["\n", "\r", "\r\n"])
def test_a_line_comment_ends_where_postgresql_ends_it(line_end: str) -> None:
    """PostgreSQL's lexer ends `--` at a carriage return as at a line feed: what follows
    either runs, so the check must read it (a `\\r` once hid a backend signal)."""
    refused = refusal(f"select 1 as a --{line_end}, pg_terminate_backend(123)")
    assert refused.keyword == "pg_terminate_backend"
    several = f"select 1 -- ;{line_end}; delete from t"
    with pytest.raises(StatementRefused) as caught:
        guarded(several)
    assert caught.value.refusal is Refusal.SEVERAL


def test_a_carriage_return_ends_a_comment_on_the_server_too(pg: PostgresServer) -> None:
    """The fact the lexer follows, checked on PostgreSQL itself over the extended protocol."""
    with pg.admin_connect() as conn:
        row = conn.execute("select 1 as a --\r, 2 as b", prepare=True).fetchone()
    assert row == (1, 2)

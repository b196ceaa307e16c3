"""Layers 1 and 4 on their own: the text as PostgreSQL's lexer reads it, and the allowlist of
statement kinds, before anything reaches the server."""

from __future__ import annotations

import time
import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from supalink.agent.guard import PASSED_KEPT_CHARS, Kind, explainable, guarded
from supalink.agent.lexer import single_statement
from supalink.agent.refusals import Refusal, StatementRefused


def refused(sql: str, *, allow_writes: bool = False) -> StatementRefused:
    with pytest.raises(StatementRefused) as caught:
        guarded(sql, allow_writes=allow_writes)
    return caught.value


@pytest.mark.parametrize(
    ("sql", "text", "first_word"),
    [
        ("select 1", "select 1", "SELECT"),
        ("select 1;", "select 1", "SELECT"),
        ("  select 1 ;  -- done\n", "select 1", "SELECT"),
        ("select ';'", "select ';'", "SELECT"),
        ("select 'it''s; fine'", "select 'it''s; fine'", "SELECT"),
        ("select E'\\';'", "select E'\\';'", "SELECT"),
        ('select 1 as "a;b"', 'select 1 as "a;b"', "SELECT"),
        ("select $$;$$", "select $$;$$", "SELECT"),
        ("select $t$ $$; $t$", "select $t$ $$; $t$", "SELECT"),
        ("select $1::int", "select $1::int", "SELECT"),
        ("select a$b$ from t", "select a$b$ from t", "SELECT"),
        ("/* ; */ select 1", "/* ; */ select 1", "SELECT"),
        ("/* /* ; */ ; */ select 1", "/* /* ; */ ; */ select 1", "SELECT"),
        ("-- ;\nselect 1", "-- ;\nselect 1", "SELECT"),
        ("(select 1) union (select 2)", "(select 1) union (select 2)", "SELECT"),
        ("with x as (select 1) select * from x", "with x as (select 1) select * from x", "WITH"),
        ("/*c*/commit", "/*c*/commit", "COMMIT"),
        ('"begin"', '"begin"', ""),
        ("\u017felect 1", "\u017felect 1", "\u017felect"),  # long s: no keyword to PostgreSQL
    ],
)
def test_one_statement_is_read_whole(sql: str, text: str, first_word: str) -> None:
    statement = single_statement(sql)
    assert (statement.text, statement.first_word) == (text, first_word)


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("select 1; select 2", Refusal.SEVERAL),
        ("select 1;select 2;", Refusal.SEVERAL),
        ("select ';'; select 2", Refusal.SEVERAL),
        ("select E'\\';'; select 2", Refusal.SEVERAL),
        ("select E'\\'';'; select 2", Refusal.UNTERMINATED),  # E'\'' closes; ' opens
        ("select $$ $$; select 2", Refusal.SEVERAL),
        ("select 1 /* */; select 2", Refusal.SEVERAL),
        ("select 1 -- \n; select 2", Refusal.SEVERAL),
        ("", Refusal.EMPTY),
        (" ; ; ", Refusal.EMPTY),
        ("-- nothing", Refusal.EMPTY),
        ("select 'open", Refusal.UNTERMINATED),
        ('select "open', Refusal.UNTERMINATED),
        ("select $$ open", Refusal.UNTERMINATED),
        ("select /* open", Refusal.UNTERMINATED),
        ("select /* /* */ open", Refusal.UNTERMINATED),
    ],
)
def test_several_statements_or_none_are_refused(sql: str, refusal: Refusal) -> None:
    with pytest.raises(StatementRefused) as caught:
        single_statement(sql)
    assert caught.value.refusal is refusal


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("begin", Refusal.TRANSACTION),
        ("START TRANSACTION READ WRITE", Refusal.TRANSACTION),
        ("commit", Refusal.TRANSACTION),
        ("end", Refusal.TRANSACTION),
        ("rollback", Refusal.TRANSACTION),
        ("abort", Refusal.TRANSACTION),
        ("savepoint s", Refusal.TRANSACTION),
        ("release s", Refusal.TRANSACTION),
        ("prepare transaction 'x'", Refusal.PREPARED),
        ("set role postgres", Refusal.SESSION),
        ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", Refusal.SESSION),
        ("reset all", Refusal.SESSION),
        ("discard all", Refusal.SESSION),
        ("prepare p as select 1", Refusal.PREPARED),
        ("execute p", Refusal.PREPARED),
        ("deallocate p", Refusal.PREPARED),
        ("copy t to stdout", Refusal.COPY),
        ("do $$ begin end $$", Refusal.PROCEDURAL),
        ("call p()", Refusal.PROCEDURAL),
        ("listen c", Refusal.LISTEN),
        ("notify c", Refusal.LISTEN),
        ("unlisten *", Refusal.LISTEN),
        ("lock table t", Refusal.LOCK),
        ("  /* hidden */ (commit)", Refusal.TRANSACTION),
        ("explain execute p", Refusal.PREPARED),
    ],
)
@pytest.mark.parametrize("allow_writes", [False, True])
def test_what_steps_outside_the_call_is_refused_with_its_own_reason(
    sql: str, refusal: Refusal, allow_writes: bool
) -> None:
    error = refused(sql, allow_writes=allow_writes)
    assert error.refusal is refusal
    assert str(error) == f"refused ({error.keyword}): {refusal}"
    assert error.keyword in sql.upper()


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("select 1", Kind.QUERY),
        ("SELECT * FROM t WHERE a > $1 ORDER BY 1 LIMIT 5", Kind.QUERY),
        ("with x as (select 1) select * from x", Kind.QUERY),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) TABLE r", Kind.QUERY),
        ("with x as materialized (select 1), y as not materialized (select 2) table y", Kind.QUERY),
        ("with x as (select 1) values (1)", Kind.QUERY),
        ("((with x as (select 1) select * from x))", Kind.QUERY),
        ("values (1), (2)", Kind.QUERY),
        ("table t", Kind.QUERY),
        ("(select 1) union (select 2)", Kind.QUERY),
        ("((values (1)))", Kind.QUERY),
        ("select 'into', 1 as \"into\" -- into\n", Kind.QUERY),
        ("select * from t for update", Kind.QUERY),  # row locks end with the rollback
        ("show search_path", Kind.SHOW),
        ("SHOW ALL", Kind.SHOW),
        ("explain select 1", Kind.EXPLAIN),
        ("EXPLAIN VERBOSE select 1", Kind.EXPLAIN),
        ("explain (costs off, verbose, format json) select 1", Kind.EXPLAIN),
        ("explain (select 1)", Kind.EXPLAIN),
        ("explain ((select 1) union (select 2))", Kind.EXPLAIN),
        ("explain with x as (select 1) select * from x", Kind.EXPLAIN),
        ("explain /* analyze */ select 'analyze'", Kind.EXPLAIN),
        # Without ANALYZE a write is planned, never run: read-only or not.
        ("explain insert into t values (1)", Kind.EXPLAIN),
        ("explain verbose with x as (delete from t returning *) select * from x", Kind.EXPLAIN),
    ],
)
@pytest.mark.parametrize("allow_writes", [False, True])
def test_what_the_allowlist_lets_through(sql: str, kind: Kind, allow_writes: bool) -> None:
    statement = guarded(sql, allow_writes=allow_writes)
    assert (statement.kind, statement.text) == (kind, sql.strip())


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("insert into t values (1)", "INSERT"),
        ("update t set a = 1", "UPDATE"),
        ("delete from t", "DELETE"),
        ("merge into t using s on t.a = s.a when matched then delete", "MERGE"),
        ("with x as (select 1) insert into t select * from x", "INSERT"),
        ("with x as (select 1), y as (select 2) update t set a = 1", "UPDATE"),
        # A data-modifying CTE under a SELECT writes all the same.
        ("with x as (delete from t returning *) select * from x", "DELETE"),
        ("with x as not materialized ( /* c */ insert into t values (1)) select 1", "INSERT"),
    ],
)
def test_writes_pass_only_when_writes_are_allowed(sql: str, keyword: str) -> None:
    error = refused(sql)
    assert (error.refusal, error.keyword) == (Refusal.READ_ONLY, keyword)
    assert "read-only" in str(error)
    assert guarded(sql, allow_writes=True).kind is Kind.WRITE


@pytest.mark.parametrize(
    "sql",
    [
        # INSERT, UPDATE, DELETE and MERGE are unreserved: a CTE may bear their names. The
        # first of them outside parentheses is taken for the statement: a false refusal, never
        # a write let through as a query.
        "with insert as (select 1) select * from insert",
        "with update(a) as (select 1) select * from update",
        'with "x" as (select 1), delete as (select 2) select 1',
        "with merge as (select 1) table merge",
        # A look-alike of SELECT is no keyword to PostgreSQL, which reads an INSERT here.
        "with \u017felect as (select 1) insert into t select * from \u017felect",
    ],
)
def test_a_cte_named_as_a_write_is_refused_as_one(sql: str) -> None:
    assert refused(sql).refusal is Refusal.READ_ONLY


@pytest.mark.parametrize(
    "sql",
    [
        "with x as (select 1)",
        "with x as (select 1) (select * from x)",  # valid SQL, but its statement is in parentheses
        "with x as (select 1) frobnicate",
        "(with x as (select 1)) select 1",
    ],
)
def test_a_with_without_its_own_statement_is_refused(sql: str) -> None:
    error = refused(sql)
    assert (error.refusal, error.keyword) == (Refusal.WITH, "WITH")


@pytest.mark.parametrize(
    "sql",
    [
        "cluster t",
        "reindex table t",
        "analyze t",
        "ANALYSE t",
        "vacuum full",
        "checkpoint",
        "load 'plpgsql'",
        "refresh materialized view v",
        "create table t (a int)",
        "create table t as select 1",
        "alter table t add b int",
        "drop table t",
        "grant all on t to public",
        "revoke all on t from public",
        "comment on table t is 'x'",
        "security label on table t is 'x'",
        "import foreign schema s from server f into public",
        "declare c cursor for select 1",
        "fetch c",
        "move c",
        "close c",
        "truncate t",
        "frobnicate the database",
        "explain cluster t",
        "explain analyze_me select 1",  # an EXPLAIN option list is in parentheses
        '"select" 1',  # a quoted name is never a keyword
        "1",
        "\u017felect 1",
    ],
)
@pytest.mark.parametrize("allow_writes", [False, True])
def test_every_other_kind_is_refused(sql: str, allow_writes: bool) -> None:
    error = refused(sql, allow_writes=allow_writes)
    assert error.refusal is (Refusal.KIND_OR_WRITE if allow_writes else Refusal.KIND)
    word = sql.removeprefix("explain ").split()[0]
    # A quoted name or a number is no word; a word past ASCII is no keyword, and kept as is.
    assert error.keyword == (
        "" if word[0] in '"1' else word if not word.isascii() else word.upper()
    )


def test_the_general_refusal_names_what_runs() -> None:
    assert str(refused("cluster t")) == (
        "refused (CLUSTER): only a plain query runs here: SELECT, WITH … SELECT, VALUES, "
        "TABLE, SHOW or EXPLAIN"
    )
    assert "INSERT, UPDATE, DELETE or MERGE" in str(refused("cluster t", allow_writes=True))


@given(word=st.from_regex(r"[A-Za-z_][A-Za-z_0-9]{0,11}", fullmatch=True))
def test_a_word_never_heard_of_is_refused(word: str) -> None:
    """Fail closed: whatever the first word, only the allowlist's pass."""
    assume(word.upper() not in {"SELECT", "VALUES", "TABLE", "WITH", "SHOW", "EXPLAIN"})
    for allow_writes in (False, True):
        if allow_writes and word.upper() in {"INSERT", "UPDATE", "DELETE", "MERGE"}:
            continue
        with pytest.raises(StatementRefused):
            guarded(f"{word} x", allow_writes=allow_writes)


@pytest.mark.parametrize(
    "sql",
    [
        "explain analyze select 1",
        "EXPLAIN ANALYSE select 1",
        "explain analyse verbose select 1",
        "explain verbose analyze select 1",
        "explain (analyze) select 1",
        "explain (ANALYZE true, buffers) select 1",
        "explain (buffers, analyse on) select 1",
        "explain (analyze false) select 1",  # refused whatever its value
        "explain (\n  -- why not\n  Analyze\n) select 1",
        'explain ("analyze") select 1',  # PostgreSQL reads a quoted option name too
        'explain (U&"\\0061nalyze") select 1',
        "explain (analyze) (select 1)",
    ],
)
@pytest.mark.parametrize("allow_writes", [False, True])
def test_explain_analyze_is_refused_in_every_spelling(sql: str, allow_writes: bool) -> None:
    error = refused(sql, allow_writes=allow_writes)
    assert (error.refusal, error.keyword) == (Refusal.EXPLAIN_ANALYZE, "EXPLAIN")


@pytest.mark.parametrize(
    ("sql", "refusal", "keyword"),
    [
        ("explain (costs off) analyze select 1", Refusal.KIND, "ANALYZE"),
        ("explain show search_path", Refusal.EXPLAINABLE, "SHOW"),
        ("explain explain select 1", Refusal.EXPLAINABLE, "EXPLAIN"),
        ("explain select * into t from s", Refusal.SELECT_INTO, "INTO"),
        ("explain", Refusal.KIND, ""),
        ("explain (verbose)", Refusal.KIND, ""),
    ],
)
def test_what_explain_explains_must_pass_on_its_own(
    sql: str, refusal: Refusal, keyword: str
) -> None:
    error = refused(sql)
    assert (error.refusal, error.keyword) == (refusal, keyword)


@pytest.mark.parametrize(
    "sql",
    [
        "select * into t from s",
        "SELECT 1 INTO TEMP t",
        "(select 1 into t)",  # PostgreSQL creates t
        "with x as (select 1) select * into t from x",
        "select * from (select 1 into t) s",
        "values (1) /* into */ into",
    ],
)
def test_select_into_is_refused(sql: str) -> None:
    error = refused(sql)
    assert (error.refusal, error.keyword) == (Refusal.SELECT_INTO, "INTO")


@pytest.mark.parametrize(
    "sql",
    [
        "select (1",
        "select 1)",
        "select 1) union (select 2",  # balanced in number, but it would close the wrapper
        "select 1) as q where false union (select 2",
        "select f(1))",
        "explain (verbose select 1",
        "commit)",
    ],
)
def test_parentheses_that_do_not_balance_are_refused(sql: str) -> None:
    error = refused(sql)
    assert (error.refusal, error.keyword) == (Refusal.UNBALANCED, "")


@pytest.mark.parametrize(
    "sql",
    ["select ')'", 'select 1 as ")"', "select 1 /* ) */", "select 1 -- )", "select $$($$"],
)
def test_parentheses_in_strings_names_and_comments_do_not_count(sql: str) -> None:
    assert guarded(sql).kind is Kind.QUERY


_wrappable = st.text(alphabet="select 1()'\"$-/*\nx;", max_size=24)


@given(tail=_wrappable)
def test_a_query_stays_inside_the_servers_wrapper(tail: str) -> None:
    """Whatever a query holds, the parenthesis that the server wraps it in closes last."""
    try:
        statement = guarded(f"select 1 {tail}")
    except StatementRefused:
        return
    assume(statement.kind is Kind.QUERY)
    wrapped = single_statement(f"SELECT q.* FROM (\n{statement.text}\n) AS q WHERE true")
    parentheses = [char for char in wrapped.words if char in "()"]
    depth = 0
    for index, char in enumerate(parentheses):
        depth += 1 if char == "(" else -1
        assert depth > 0 or index == len(parentheses) - 1, wrapped.text


@pytest.mark.parametrize(
    "sql",
    [
        "select 1",
        "with x as (select 1) select 1",
        "explain select 1",
        "show search_path",
        "values (1)",
        "table t",
    ],
)
def test_plain_sql_passes_both_checks(sql: str) -> None:
    assert guarded(sql).text == sql


def test_the_explain_tool_plans_a_query_or_a_write_only() -> None:
    assert explainable("select 1").kind is Kind.QUERY
    assert explainable("(select 1) union (select 2)").kind is Kind.QUERY
    for allow_writes in (False, True):  # planned, never run
        assert explainable("delete from t", allow_writes=allow_writes).kind is Kind.WRITE
    for sql, refusal in [
        ("explain select 1", Refusal.EXPLAIN),
        ("show search_path", Refusal.EXPLAINABLE),
        ("select * into t from s", Refusal.SELECT_INTO),
        ("select pg_ls_dir('.')", Refusal.SIDE_EFFECT),
        ("cluster t", Refusal.KIND),
        ("analyze select 1", Refusal.KIND),
        ("(analyze) select 1", Refusal.KIND),
    ]:
        with pytest.raises(StatementRefused) as caught:
            explainable(sql)
        assert caught.value.refusal is refusal, sql


def test_megabytes_are_read_in_one_pass() -> None:
    """Agents send megabytes: every check jumps with str.find and regular expressions."""
    texts = [
        "select '" + "x" * 2_000_000 + "'",
        "select " + "(" * 100_000 + "1" + ")" * 100_000,
        "with x as (select " + "(" * 100_000 + "1" + ")" * 100_000 + ") select * from x",
        "select " + ", ".join(f"c{i}" for i in range(100_000)),
    ]
    started = time.monotonic()
    for sql in texts:
        assert guarded(sql).kind is Kind.QUERY
    assert time.monotonic() - started < 3  # quadratic work would take minutes


_piece = st.text(alphabet="selct 1'\"$;-/*\nabx", max_size=20)


def refusal_of(sql: str) -> Refusal | None:
    try:
        single_statement(sql)
    except StatementRefused as error:
        return error.refusal
    return None


@given(first=_piece, second=_piece)
def test_two_statements_joined_never_pass_as_one(first: str, second: str) -> None:
    """Whatever the pieces, `select 1 <a>; select 2 <b>` is never one statement unless
    the first piece opened a quote or comment that swallowed the `;`."""
    sql = f"select 1 {first.replace(';', '')}; select 2 {second}"
    refusal = refusal_of(sql)
    if refusal is None:
        assert any(mark in first for mark in ("'", '"', "$", "/*", "--")), sql
    else:
        assert refusal in (Refusal.SEVERAL, Refusal.UNTERMINATED)


def test_a_statement_passed_is_kept_and_a_refusal_is_read_again() -> None:
    """`guarded` keeps what it passed, by text and by whether writes are allowed; what it
    refused, and long texts, it reads each time."""
    sql = f"select {uuid.uuid4().int} as kept"
    assert guarded(sql) is guarded(sql)
    write = f"insert into t values ({uuid.uuid4().int})"
    assert guarded(write, allow_writes=True).kind is Kind.WRITE
    for _ in range(2):
        with pytest.raises(StatementRefused):
            guarded(write)
    assert guarded(write, allow_writes=True) is guarded(write, allow_writes=True)
    long = "select 1" + " " * PASSED_KEPT_CHARS
    assert guarded(long) is not guarded(long)
    assert guarded(long) == guarded(long)

"""Layers 1 and 4 on their own: the text as PostgreSQL's lexer reads it, before anything
reaches the server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supalink.agent.guard import (
    Refusal,
    StatementRefused,
    check_statement,
    guarded,
    single_statement,
)


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
    ],
)
def test_what_steps_outside_the_call_is_refused_by_its_first_word(
    sql: str, refusal: Refusal
) -> None:
    statement = single_statement(sql)  # one statement: layer 1 lets it through
    with pytest.raises(StatementRefused) as caught:
        check_statement(statement)
    assert caught.value.refusal is refusal
    assert str(caught.value).startswith(f"refused ({statement.first_word}):")


@pytest.mark.parametrize(
    "sql",
    ["select 1", "with x as (select 1) select 1", "explain select 1", "show search_path",
     "values (1)", "table t", "insert into t values (1)", "update t set a = 1"],
)  # fmt: skip
def test_plain_sql_passes_both_checks(sql: str) -> None:
    assert guarded(sql).text == sql


_piece = st.text(alphabet="selct 1'\"$;-/*\nabx", max_size=20)


def refusal_of(sql: str) -> Refusal | None:
    try:
        single_statement(sql)
    except StatementRefused as refused:
        return refused.refusal
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

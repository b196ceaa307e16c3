"""What the `query` and `explain` tools refuse before anything reaches the server (layers 1
and 4 of the read-only guard; the database enforces the others, see session.py).

Layer 1: one statement per call, read as PostgreSQL's lexer reads it (lexer.py).

Layer 4: an allowlist of statement kinds, which fails closed: a query (SELECT, WITH … SELECT,
VALUES, TABLE), SHOW, EXPLAIN without ANALYZE and, only when writes are allowed, INSERT,
UPDATE, DELETE and MERGE. Every other kind, known or never heard of, is refused. What passes
must also name no function of the catalogue in side_effects.py: their effects outlive the
call's transaction.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate
from typing import Final

from supalink.agent.lexer import (
    AFTER_WORD,
    BEFORE_WORD,
    FIRST_WORD,
    IDENT_CHAR,
    IDENT_START,
    IDENTIFIER,
    KEYWORD,
    SPACE,
    Lexed,
    closing_mark,
    keyword,
    single_statement,
)
from supalink.agent.refusals import Refusal, StatementRefused
from supalink.agent.side_effects import find_side_effect

_WORD = re.compile(rf"[{SPACE}]*({IDENT_START}{IDENT_CHAR}*)")
_OPENING = re.compile(rf"[{SPACE}]*\(")
_PARENTHESIS = re.compile(r"[()]")
_NOT_PARENTHESIS = re.compile(r"[^()]+")
_DEPTH_STEP: Final = {"(": 1, ")": -1}
# After WITH, its statement is the first of these outside parentheses (CTE bodies are in
# them). INSERT, UPDATE, DELETE and MERGE are unreserved and may name a CTE: read as the
# statement, such a name is refused as a write, never let through as a query.
_WITH_SCAN = re.compile(
    rf"[()]|{BEFORE_WORD}(?:select|insert|update|delete|merge|values|table){AFTER_WORD}",
    KEYWORD,
)
# A data-modifying statement can hide in a query only as a parenthesised body (a CTE's).
_OPENS_WRITE = re.compile(rf"\([{SPACE}]*(insert|update|delete|merge){AFTER_WORD}", KEYWORD)
# INTO has no use in a query but SELECT … INTO, which creates a table: refused at any depth.
_INTO = re.compile(f"{BEFORE_WORD}into{AFTER_WORD}", KEYWORD)
# What can open a parenthesis after EXPLAIN but not name an option: these are reserved.
_RESERVED_QUERY = re.compile(rf"[{SPACE}(]*(?:select|table|with){AFTER_WORD}", KEYWORD)
_QUERY_WORDS = frozenset(("SELECT", "VALUES", "TABLE"))
_WRITE_WORDS = frozenset(("INSERT", "UPDATE", "DELETE", "MERGE"))
_ANALYZE = frozenset(("analyze", "analyse"))


class Kind(StrEnum):
    QUERY = "query"  # SELECT, WITH … SELECT, VALUES, TABLE: rows, nothing else
    SHOW = "show"
    EXPLAIN = "explain"  # without ANALYZE: the plan only, the statement never runs
    WRITE = "write"  # INSERT, UPDATE, DELETE, MERGE, or WITH … one of them


# The first word of a statement, and what it is refused as: kinds that are not on the
# allowlist but deserve a reason of their own. PREPARE TRANSACTION and COMMIT PREPARED are
# transaction control under their first word.
_REFUSED_FIRST_WORDS: Final = {
    **dict.fromkeys(
        ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"),
        Refusal.TRANSACTION,
    ),
    **dict.fromkeys(("SET", "RESET", "DISCARD"), Refusal.SESSION),
    **dict.fromkeys(("PREPARE", "EXECUTE", "DEALLOCATE"), Refusal.PREPARED),
    "COPY": Refusal.COPY,
    "LOCK": Refusal.LOCK,
    **dict.fromkeys(("DO", "CALL"), Refusal.PROCEDURAL),
    **dict.fromkeys(("LISTEN", "NOTIFY", "UNLISTEN"), Refusal.LISTEN),
}


@dataclass(frozen=True)
class Statement:
    text: str  # as the agent wrote it, less a trailing `;` and the space around it
    first_word: str  # upper case; "" for a statement that starts with a quoted name
    kind: Kind
    # Every name in it as PostgreSQL resolves them (bare ones folded, quoted ones as written).
    identifiers: frozenset[str] = frozenset()


def _balanced(words: str) -> bool:
    """Whether every parenthesis closes one opened before it, and all are closed: the text
    may be wrapped in a query of the server's, which nothing in it may close early."""
    parentheses = _NOT_PARENTHESIS.sub("", words)
    depths = accumulate(map(_DEPTH_STEP.__getitem__, parentheses))
    return parentheses.count("(") == parentheses.count(")") and min(depths, default=0) >= 0


def _closing(words: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at `opening` (they balance)."""
    found = closing_mark(_PARENTHESIS, words, opening, "(")
    if found is None:
        raise StatementRefused(Refusal.UNBALANCED)
    return found.start()


def _not_allowed(word: str, allow_writes: bool) -> StatementRefused:
    return StatementRefused(Refusal.KIND_OR_WRITE if allow_writes else Refusal.KIND, word)


def _with_statement(words: str, start: int) -> str | None:
    """The keyword of WITH's own statement: the first of _WITH_SCAN's words outside the
    parentheses, from `start` (just after WITH) to the end of WITH's own parenthesis."""
    depth = 0
    for found in _WITH_SCAN.finditer(words, start):
        word = found.group(0)
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            return word.upper()
    return None


def _explain(lexed: Lexed, start: int, allow_writes: bool) -> Kind:
    """EXPLAIN from just after its word: refused with ANALYZE (in any spelling, whatever its
    value), and the statement it explains must pass the check on its own, as planned only
    (a write too: without ANALYZE it never runs)."""
    words = lexed.words
    options = _OPENING.match(words, start)
    if options is not None and not _RESERVED_QUERY.match(words, options.end()):
        # EXPLAIN (option [value], …); `EXPLAIN (SELECT …)` explains a statement instead
        close = _closing(words, options.end() - 1)
        named = [
            *IDENTIFIER.findall(words, options.end(), close),
            *lexed.quoted_names(options.end(), close),  # ("analyze") is ANALYZE too
        ]
        if _ANALYZE & {name.lower() for name in named}:
            raise StatementRefused(Refusal.EXPLAIN_ANALYZE, "EXPLAIN")
        start = close + 1
    else:  # EXPLAIN [ANALYZE] [VERBOSE]
        while (word := _WORD.match(words, start)) and keyword(word.group(1)) in (
            "ANALYZE",
            "ANALYSE",
            "VERBOSE",
        ):
            if keyword(word.group(1)) != "VERBOSE":
                raise StatementRefused(Refusal.EXPLAIN_ANALYZE, "EXPLAIN")
            start = word.end()
    explained = FIRST_WORD.match(words, start)
    assert explained is not None  # it matches the empty text
    if _kind(lexed, start, allow_writes, plan_only=True) not in (Kind.QUERY, Kind.WRITE):
        raise StatementRefused(Refusal.EXPLAINABLE, keyword(explained.group(1)))
    return Kind.EXPLAIN


def _kind(lexed: Lexed, start: int, allow_writes: bool, *, plan_only: bool = False) -> Kind:
    """The kind of the statement at `start` in lexed.words, or StatementRefused. A write is
    refused unless writes are allowed or it is only to be planned."""
    words = lexed.words
    first = FIRST_WORD.match(words, start)
    assert first is not None  # it matches the empty text
    word = keyword(first.group(1))
    if word in _REFUSED_FIRST_WORDS:
        raise StatementRefused(_REFUSED_FIRST_WORDS[word], word)
    if word == "EXPLAIN":
        return _explain(lexed, first.end(), allow_writes)
    if word == "SHOW":
        return Kind.SHOW
    main = word
    if word == "WITH":
        main = _with_statement(words, first.end()) or ""
        if not main:
            raise StatementRefused(Refusal.WITH, word)
    if main in _QUERY_WORDS:
        if hidden := _OPENS_WRITE.search(words, start):
            main = hidden.group(1).upper()
        elif _INTO.search(words, start):
            raise StatementRefused(Refusal.SELECT_INTO, "INTO")
    if main in _QUERY_WORDS:
        return Kind.QUERY
    if main not in _WRITE_WORDS:
        raise _not_allowed(word, allow_writes)
    if not (allow_writes or plan_only):
        raise StatementRefused(Refusal.READ_ONLY, main)
    return Kind.WRITE


def checked(lexed: Lexed, *, allow_writes: bool = False, plan_only: bool = False) -> Statement:
    """Layer 4: a kind on the allowlist that names no function of the side-effect
    catalogue, or StatementRefused. `plan_only`: the statement runs under an EXPLAIN of the
    server's, which never runs it, so a write passes even without writes allowed."""
    if not _balanced(lexed.words):
        raise StatementRefused(Refusal.UNBALANCED)
    kind = _kind(lexed, 0, allow_writes, plan_only=plan_only)
    found = find_side_effect(lexed.identifiers())
    if found is not None:
        name, why = found
        raise StatementRefused(Refusal.SIDE_EFFECT, name, why)
    return Statement(lexed.text, lexed.first_word, kind, lexed.identifiers())


def for_login(statement: Statement, *, allow_writes: bool, definers: frozenset[str]) -> None:
    """What the login read before the first call adds: a write refused where the login is
    served read-only, and any SECURITY DEFINER function of another owner that it may run,
    by name (a view or a default that calls one stays out of sight: only a role stops it)."""
    if statement.kind is Kind.WRITE and not allow_writes:
        raise StatementRefused(Refusal.LOGIN_READ_ONLY, statement.first_word)
    if found := sorted(statement.identifiers & definers):
        raise StatementRefused(Refusal.DEFINER, found[0])


def guarded(sql: str, *, allow_writes: bool = False) -> Statement:
    """Both layers, in order: what the `query` tool runs. A statement passed before is not
    read again (`_passed`)."""
    if len(sql) > PASSED_KEPT_CHARS:
        return checked(single_statement(sql), allow_writes=allow_writes)
    return _passed(sql, allow_writes)


# The verdict on a statement is its text's alone, with whether writes are allowed, so one
# the guard passed is kept for the next call that sends the same text (a count an agent
# polls, a query it runs again): reading `select 1` took 8 µs, and about 35 µs once other
# processes had run between two calls (the lexer's patterns out of the CPU's caches). A
# refusal raises, and is read again each time; a long text is not kept (hashing it costs).
PASSED_KEPT: Final = 256
PASSED_KEPT_CHARS: Final = 2_000


@functools.lru_cache(maxsize=PASSED_KEPT)
def _passed(sql: str, allow_writes: bool) -> Statement:
    return checked(single_statement(sql), allow_writes=allow_writes)


def explainable(sql: str, *, allow_writes: bool = False) -> Statement:
    """Both layers for what the `explain` tool plans under its own EXPLAIN (no ANALYZE): a
    query or a write, which it never runs."""
    statement = checked(single_statement(sql), allow_writes=allow_writes, plan_only=True)
    if statement.kind is Kind.EXPLAIN:
        raise StatementRefused(Refusal.EXPLAIN, "EXPLAIN")
    if statement.kind is Kind.SHOW:
        raise StatementRefused(Refusal.EXPLAINABLE, statement.first_word)
    return statement

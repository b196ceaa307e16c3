"""What the `query` tool refuses before anything reaches the server (layers 1 and 4 of the
read-only guard; the database enforces the others, see session.py).

Layer 1: one statement per call. The text is read as PostgreSQL's lexer reads it (quotes,
quoted names, dollar quotes, nested comments), so a `;` hidden in a comment or a string
neither splits nor hides a second statement. The server checks it again: every statement
goes over the extended query protocol, which refuses a text with several.

Layer 4: statements that would step outside the call's own transaction or out of SQL:
transaction control, COPY, DO, CALL, LISTEN/NOTIFY, session control, prepared
statements and explicit locks. Refused whether or not writes are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from supalink.errors import SupalinkError

_IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_WORD = re.compile(r"[A-Za-z_]+")
# Where the lexer has something to read: a comment, a quote, a dollar sign, a semicolon.
_SPECIAL = re.compile(r"--|/\*|['\";$]")
_COMMENT_MARK = re.compile(r"/\*|\*/")
_OPAQUE = "\x00"


class Refusal(StrEnum):
    EMPTY = "there is no statement in the text"
    SEVERAL = "one statement per call: the text holds several; send them one call at a time"
    UNTERMINATED = "the text ends inside a quote or a comment"
    TRANSACTION = "transaction control is the server's: each call runs in a transaction of its own"
    SESSION = (
        "session settings and roles are the server's: each call starts from the same "
        "settings (qualify names with their schema instead of setting search_path)"
    )
    PREPARED = "prepared statements are the server's: send the statement itself, with params"
    COPY = "COPY is refused: select the rows instead"
    PROCEDURAL = "DO and CALL are refused: they run code outside the call's checks"
    LISTEN = "LISTEN and NOTIFY are refused here: use the notifications tool to listen"
    LOCK = "explicit locks are refused: a statement takes the locks it needs"
    EXPLAIN = "give explain the statement itself; it never runs ANALYZE"


@dataclass(frozen=True)
class StatementRefused(SupalinkError):
    refusal: Refusal
    keyword: str = ""

    def __str__(self) -> str:
        if self.keyword:
            return f"refused ({self.keyword}): {self.refusal}"
        return f"refused: {self.refusal}"


# The first word of a statement, and what it is refused as. PREPARE TRANSACTION and
# COMMIT PREPARED are transaction control under their first word.
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
    first_word: str  # upper case; "" for a statement that starts with a parenthesis only


def _skip_quoted(sql: str, start: int, quote: str, backslashes: bool) -> int:
    """The index after the closing quote, or -1 when the text ends first. Found with
    str.find, not a character at a time: an agent may quote megabytes."""
    i, close = start + 1, -1
    while True:
        if close < i:
            close = sql.find(quote, i)
            if close < 0:
                return -1
        if backslashes:
            slash = sql.find("\\", i, close)
            if slash >= 0:  # it escapes the character after it, a quote too
                i = slash + 2
                continue
        if sql.startswith(quote, close + 1):  # '' and "" stand for one
            i = close + 2
            continue
        return close + 1


def _skip_block_comment(sql: str, start: int) -> int:
    """The index after the comment that opens at `start` (comments nest), or -1."""
    depth = 0
    for mark in _COMMENT_MARK.finditer(sql, start):
        depth += 1 if mark.group(0) == "/*" else -1
        if depth == 0:
            return mark.end()
    return -1


def _pieces(sql: str) -> tuple[list[str], list[str]]:
    """The text split at top-level semicolons, and each piece with its comments, strings
    and quoted names blanked (for finding its first word)."""
    pieces: list[str] = []
    bare_pieces: list[str] = []
    piece_start, i = 0, 0
    bare: list[str] = []
    while (special := _SPECIAL.search(sql, i)) is not None:
        # The plain text up to the next thing the lexer must read is taken whole: a
        # character at a time cost more than the round trip of a short query.
        start = special.start()
        if start > i:
            bare.append(sql[i:start])
        i = start
        char = sql[i]
        end = i + 1
        blank = comment = False
        if sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = len(sql) if newline < 0 else newline
            blank = comment = True
        elif sql.startswith("/*", i):
            end = _skip_block_comment(sql, i)
            blank = comment = True
        elif char == "'":
            # E'…' takes backslash escapes; with standard_conforming_strings (the default
            # since PostgreSQL 9.1) a plain '…' does not.
            escaped = (
                i > 0 and sql[i - 1] in "eE" and (i < 2 or not _IDENTIFIER_CHAR.match(sql[i - 2]))
            )
            end = _skip_quoted(sql, i, "'", backslashes=escaped)
            blank = True
        elif char == '"':
            end = _skip_quoted(sql, i, '"', backslashes=False)
            blank = True
        elif char == "$" and not (i > 0 and _IDENTIFIER_CHAR.match(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is not None:
                close = sql.find(tag.group(0), tag.end())
                end = -1 if close < 0 else close + len(tag.group(0))
                blank = True
        elif char == ";":
            pieces.append(sql[piece_start:i])
            bare_pieces.append("".join(bare))
            piece_start, bare = i + 1, []
            i += 1
            continue
        if end < 0:
            raise StatementRefused(Refusal.UNTERMINATED)
        # Comments read as space; a string or a quoted name is something, but no word.
        bare.append((" " if comment else _OPAQUE) if blank else sql[i:end])
        i = end
    bare.append(sql[i:])
    pieces.append(sql[piece_start:])
    bare_pieces.append("".join(bare))
    return pieces, bare_pieces


def single_statement(sql: str) -> Statement:
    """Layer 1: the one statement in `sql`, or StatementRefused."""
    pieces, bare = _pieces(sql)
    found = [(piece, words) for piece, words in zip(pieces, bare, strict=True) if words.strip()]
    if not found:
        raise StatementRefused(Refusal.EMPTY)
    if len(found) > 1:
        raise StatementRefused(Refusal.SEVERAL)
    piece, words = found[0]
    word = _WORD.search(
        words.lstrip(" \t\r\n(").split(None, 1)[0] if words.strip("( \t\r\n") else ""
    )
    return Statement(piece.strip(), word.group(0).upper() if word else "")


def check_statement(statement: Statement) -> Statement:
    """Layer 4: refuse what steps outside the call's transaction or out of SQL."""
    refusal = _REFUSED_FIRST_WORDS.get(statement.first_word)
    if refusal is not None:
        raise StatementRefused(refusal, statement.first_word)
    return statement


def guarded(sql: str) -> Statement:
    """Both checks, in order: what the `query` tool runs."""
    return check_statement(single_statement(sql))

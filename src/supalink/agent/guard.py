"""What the `query` and `explain` tools refuse before anything reaches the server (layers 1
and 4 of the read-only guard; the database enforces the others, see session.py).

Layer 1: one statement per call. The text is read as PostgreSQL's lexer reads it (quotes,
quoted names, dollar quotes, nested comments), so a `;` hidden in a comment or a string
neither splits nor hides a second statement. The server checks it again: every statement
goes over the extended query protocol, which refuses a text with several.

Layer 4: an allowlist of statement kinds, which fails closed: a query (SELECT, WITH … SELECT,
VALUES, TABLE), SHOW, EXPLAIN without ANALYZE and, only when writes are allowed, INSERT,
UPDATE, DELETE and MERGE. Every other kind, known or never heard of, is refused. What passes
must also name no function of the catalogue in side_effects.py: their effects outlive the
call's transaction.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from itertools import accumulate
from typing import Final

from supalink.agent.side_effects import find_side_effect
from supalink.errors import SupalinkError

# PostgreSQL's identifiers: in UTF-8 every character past ASCII is a letter to its lexer.
_IDENT_START = "A-Za-z_\x80-\U0010ffff"
_IDENT_CHARS = "A-Za-z0-9_$\x80-\U0010ffff"
_IDENTIFIER_CHAR = re.compile(f"[{_IDENT_CHARS}]")
_IDENTIFIER = re.compile(f"[{_IDENT_START}][{_IDENT_CHARS}]*")
# PostgreSQL's white space (\v from 16 on); anything else is part of a token.
_SPACE = " \t\n\r\f\v"
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
# Where the lexer has something to read: a comment, a quote, a dollar sign, a semicolon.
_SPECIAL = re.compile(r"--|/\*|['\";$]")
_COMMENT_MARK = re.compile(r"/\*|\*/")
# What the checks read in place of a string and of a quoted name: something, but no word.
_STRING = "\x00"
_QUOTED_NAME = "\x01"
_MARK = re.compile("[\x00\x01]")


# Keywords are matched as whole words, in any case, ASCII only as PostgreSQL's are: Unicode's
# case rules would match U+017F (long s) with s, which PostgreSQL does not.
_KEYWORD = re.IGNORECASE | re.ASCII
_BEFORE_WORD = f"(?<![{_IDENT_CHARS}])"
_AFTER_WORD = f"(?![{_IDENT_CHARS}])"
_FIRST_WORD = re.compile(rf"[{_SPACE}(]*([{_IDENT_START}][{_IDENT_CHARS}]*)?")
_WORD = re.compile(rf"[{_SPACE}]*([{_IDENT_START}][{_IDENT_CHARS}]*)")
_OPENING = re.compile(rf"[{_SPACE}]*\(")
_PARENTHESIS = re.compile(r"[()]")
_NOT_PARENTHESIS = re.compile(r"[^()]+")
_DEPTH_STEP: Final = {"(": 1, ")": -1}
# After WITH, its statement is the first of these outside parentheses (CTE bodies are in
# them). INSERT, UPDATE, DELETE and MERGE are unreserved and may name a CTE: read as the
# statement, such a name is refused as a write, never let through as a query.
_WITH_SCAN = re.compile(
    rf"[()]|{_BEFORE_WORD}(?:select|insert|update|delete|merge|values|table){_AFTER_WORD}",
    _KEYWORD,
)
# A data-modifying statement can hide in a query only as a parenthesised body (a CTE's).
_OPENS_WRITE = re.compile(rf"\([{_SPACE}]*(insert|update|delete|merge){_AFTER_WORD}", _KEYWORD)
# INTO has no use in a query but SELECT … INTO, which creates a table: refused at any depth.
_INTO = re.compile(f"{_BEFORE_WORD}into{_AFTER_WORD}", _KEYWORD)
_UESCAPE = re.compile(rf"[{_SPACE}]*uescape{_AFTER_WORD}", _KEYWORD)
_STRING_NEXT = re.compile(rf"[{_SPACE}]*{_STRING}")
# What can open a parenthesis after EXPLAIN but not name an option: these are reserved.
_RESERVED_QUERY = re.compile(rf"[{_SPACE}(]*(?:select|table|with){_AFTER_WORD}", _KEYWORD)
_QUERY_WORDS = frozenset(("SELECT", "VALUES", "TABLE"))
_WRITE_WORDS = frozenset(("INSERT", "UPDATE", "DELETE", "MERGE"))
_ANALYZE = frozenset(("analyze", "analyse"))


class Kind(StrEnum):
    QUERY = "query"  # SELECT, WITH … SELECT, VALUES, TABLE: rows, nothing else
    SHOW = "show"
    EXPLAIN = "explain"  # without ANALYZE: the plan only, the statement never runs
    WRITE = "write"  # INSERT, UPDATE, DELETE, MERGE, or WITH … one of them


class Refusal(StrEnum):
    EMPTY = "there is no statement in the text"
    SEVERAL = "one statement per call: the text holds several; send them one call at a time"
    UNTERMINATED = "the text ends inside a quote or a comment"
    UNBALANCED = "the parentheses do not balance (outside strings, quoted names and comments)"
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
    KIND = "only a plain query runs here: SELECT, WITH … SELECT, VALUES, TABLE, SHOW or EXPLAIN"
    KIND_OR_WRITE = (
        "only a plain query or write runs here: SELECT, WITH …, VALUES, TABLE, SHOW, EXPLAIN, "
        "INSERT, UPDATE, DELETE or MERGE"
    )
    WITH = (
        "WITH must end in its own SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE, "
        "outside parentheses"
    )
    READ_ONLY = "this server is read-only: it runs no INSERT, UPDATE, DELETE or MERGE"
    SELECT_INTO = "SELECT … INTO creates a table: select the rows without INTO"
    EXPLAIN_ANALYZE = "EXPLAIN ANALYZE runs the statement: ask for the plan without ANALYZE"
    EXPLAINABLE = "EXPLAIN takes a query or a write: SELECT, WITH, VALUES, TABLE, INSERT, …"
    EXPLAIN = "give explain the statement itself; it never runs ANALYZE"
    UESCAPE = "a quoted name's UESCAPE must be a plain one-character string, e.g. UESCAPE '!'"
    SIDE_EFFECT = "its effect outlives the call's transaction"
    DEFINER = (
        "it runs with its owner's rights (SECURITY DEFINER), where no check of this "
        "statement can follow it"
    )
    LOGIN_READ_ONLY = (
        "this login can do more than an agent needs, so the server runs no INSERT, UPDATE, "
        "DELETE or MERGE for it (the server's log says what it can do)"
    )


# Not frozen: whatever re-raises an exception (a context manager does) sets its traceback.
@dataclass(eq=False)
class StatementRefused(SupalinkError):
    refusal: Refusal
    keyword: str = ""
    why: str = ""  # said instead of the refusal's own text (a side effect's reason)

    def __str__(self) -> str:
        reason = self.why or self.refusal
        if self.keyword:
            return f"refused ({self.keyword}): {reason}"
        return f"refused: {reason}"


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
class Lexed:
    """One statement as PostgreSQL's lexer reads it: layer 1's answer, layer 4's input."""

    text: str  # as the agent wrote it, less a trailing `;` and the space around it
    first_word: str  # upper case; "" for one that starts with no word (a quoted name)
    # The statement with each comment as a space, each string as _STRING and each quoted
    # name as _QUOTED_NAME: the words and parentheses that PostgreSQL parses.
    words: str
    source: str  # the whole text the statement was read from
    spans: tuple[tuple[int, int], ...]  # in `source`, of each string and quoted name in turn

    @cached_property
    def _marks(self) -> list[int]:
        """Where each of `spans` is marked in `words`: found only when asked, as only a
        Unicode-escaped name or an EXPLAIN option needs it."""
        return [mark.start() for mark in _MARK.finditer(self.words)]

    def identifiers(self) -> frozenset[str]:
        """Every name in the statement as PostgreSQL resolves it: a bare one in lower case (a
        superset of PostgreSQL's folding, which lowers A to Z only), a quoted one exactly."""
        bare = frozenset(_IDENTIFIER.findall(self.words.lower()))
        if _QUOTED_NAME not in self.words:  # strings only: no need to look at each
            return bare
        quoted = (self._quoted_name(index) for index in range(len(self.spans)))
        return bare.union(name for name in quoted if name is not None)

    def quoted_names(self, start: int, end: int) -> list[str]:
        """The quoted names between `start` and `end` in `words`, as PostgreSQL reads them."""
        first, last = bisect.bisect_left(self._marks, start), bisect.bisect_left(self._marks, end)
        names = (self._quoted_name(index) for index in range(first, last))
        return [name for name in names if name is not None]

    def _quoted_name(self, index: int) -> str | None:
        """The name of spans[index], or None for a string or a name PostgreSQL refuses."""
        open_at, close_at = self.spans[index]
        if self.source[open_at] != '"':
            return None
        name = self.source[open_at + 1 : close_at - 1].replace('""', '"')
        # U&"…" takes escapes, unless the U ends a longer word (`xU&"…"` is xU & "…").
        unicode = open_at >= 2 and self.source[open_at - 2 : open_at] in ("U&", "u&")
        if unicode and not (open_at > 2 and _IDENTIFIER_CHAR.match(self.source[open_at - 3])):
            return _unicode_unescaped(name, self._uescape(self._marks[index]))
        return name

    def _uescape(self, mark: int) -> str:
        """The escape character of the U&"…" name marked at `mark` in `words`: its UESCAPE
        clause's, or `\\`."""
        clause = _UESCAPE.match(self.words, mark + 1)
        if clause is None:
            return "\\"
        string = _STRING_NEXT.match(self.words, clause.end())
        if string is not None:
            open_at, close_at = self.spans[bisect.bisect_left(self._marks, string.end() - 1)]
            literal = self.source[open_at:close_at]
            if len(literal) == 3 and literal[0] == "'":
                return literal[1]
        # E'!', $$!$$ and strings continued over lines are PostgreSQL's too: refused rather
        # than read, as they never come up but in an attempt to hide a name.
        raise StatementRefused(Refusal.UESCAPE, "UESCAPE")


def _unicode_unescaped(name: str, escape: str) -> str | None:
    """A U&"…" name's escapes read as PostgreSQL reads them (`!0070`, `!+000070`, `!!` for
    `!`), or None where it refuses them."""
    mark = re.escape(escape)
    codes = re.compile(f"{mark}(?:([0-9A-Fa-f]{{4}})|\\+([0-9A-Fa-f]{{6}})|({mark}))?")
    refused = False

    def character(found: re.Match[str]) -> str:
        nonlocal refused
        if found.group(3):
            return escape
        code = int(found.group(1) or found.group(2) or "0", 16)
        if not 0 < code <= 0x10FFFF:
            refused = True
            return ""
        return chr(code)

    decoded = codes.sub(character, name)
    if refused:
        return None
    try:  # a surrogate pair is one character; a lone surrogate is refused
        return decoded.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Statement:
    text: str  # as the agent wrote it, less a trailing `;` and the space around it
    first_word: str  # upper case; "" for a statement that starts with a quoted name
    kind: Kind
    # Every name in it as PostgreSQL resolves them (bare ones folded, quoted ones as written).
    identifiers: frozenset[str] = frozenset()


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


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    words: str
    spans: tuple[tuple[int, int], ...]


def _pieces(sql: str) -> list[_Piece]:
    """The text split at top-level semicolons, each piece with its comments, strings and
    quoted names blanked (see Lexed.words)."""
    pieces: list[_Piece] = []
    piece_start, i = 0, 0
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    while (special := _SPECIAL.search(sql, i)) is not None:
        # The plain text up to the next thing the lexer must read is taken whole: a
        # character at a time cost more than the round trip of a short query.
        start = special.start()
        if start > i:
            words.append(sql[i:start])
        i = start
        char = sql[i]
        end = i + 1
        blank = ""
        if sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = len(sql) if newline < 0 else newline
            blank = " "
        elif sql.startswith("/*", i):
            end = _skip_block_comment(sql, i)
            blank = " "
        elif char == "'":
            # E'…' takes backslash escapes; with standard_conforming_strings (the default
            # since PostgreSQL 9.1) a plain '…' does not.
            escaped = (
                i > 0 and sql[i - 1] in "eE" and (i < 2 or not _IDENTIFIER_CHAR.match(sql[i - 2]))
            )
            end = _skip_quoted(sql, i, "'", backslashes=escaped)
            blank = _STRING
        elif char == '"':
            end = _skip_quoted(sql, i, '"', backslashes=False)
            blank = _QUOTED_NAME
        elif char == "$" and not (i > 0 and _IDENTIFIER_CHAR.match(sql[i - 1])):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is not None:
                close = sql.find(tag.group(0), tag.end())
                end = -1 if close < 0 else close + len(tag.group(0))
                blank = _STRING
        elif char == ";":
            pieces.append(_Piece(piece_start, i, "".join(words), tuple(spans)))
            piece_start, words, spans = i + 1, [], []
            i += 1
            continue
        if end < 0:
            raise StatementRefused(Refusal.UNTERMINATED)
        if blank in (_STRING, _QUOTED_NAME):
            spans.append((i, end))
        words.append(blank or sql[i:end])
        i = end
    words.append(sql[i:])
    pieces.append(_Piece(piece_start, len(sql), "".join(words), tuple(spans)))
    return pieces


def _keyword(word: str | None) -> str:
    # Only ASCII words can be keywords; str.upper would turn U+017F (long s) into S.
    if word is None:
        return ""
    return word.upper() if word.isascii() else word


def single_statement(sql: str) -> Lexed:
    """Layer 1: the one statement in `sql`, or StatementRefused."""
    found = [piece for piece in _pieces(sql) if piece.words.strip(_SPACE)]
    if not found:
        raise StatementRefused(Refusal.EMPTY)
    if len(found) > 1:
        raise StatementRefused(Refusal.SEVERAL)
    piece = found[0]
    first = _FIRST_WORD.match(piece.words)
    assert first is not None  # it matches the empty text
    return Lexed(
        text=sql[piece.start : piece.end].strip(_SPACE),
        first_word=_keyword(first.group(1)),
        words=piece.words,
        source=sql,
        spans=piece.spans,
    )


def _balanced(words: str) -> bool:
    """Whether every parenthesis closes one opened before it, and all are closed: the text
    may be wrapped in a query of the server's, which nothing in it may close early."""
    parentheses = _NOT_PARENTHESIS.sub("", words)
    depths = accumulate(map(_DEPTH_STEP.__getitem__, parentheses))
    return parentheses.count("(") == parentheses.count(")") and min(depths, default=0) >= 0


def _closing(words: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at `opening` (they balance)."""
    depth = 0
    for found in _PARENTHESIS.finditer(words, opening):
        depth += 1 if found.group(0) == "(" else -1
        if depth == 0:
            return found.start()
    raise StatementRefused(Refusal.UNBALANCED)


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
            *_IDENTIFIER.findall(words, options.end(), close),
            *lexed.quoted_names(options.end(), close),  # ("analyze") is ANALYZE too
        ]
        if _ANALYZE & {name.lower() for name in named}:
            raise StatementRefused(Refusal.EXPLAIN_ANALYZE, "EXPLAIN")
        start = close + 1
    else:  # EXPLAIN [ANALYZE] [VERBOSE]
        while (word := _WORD.match(words, start)) and _keyword(word.group(1)) in (
            "ANALYZE",
            "ANALYSE",
            "VERBOSE",
        ):
            if _keyword(word.group(1)) != "VERBOSE":
                raise StatementRefused(Refusal.EXPLAIN_ANALYZE, "EXPLAIN")
            start = word.end()
    explained = _FIRST_WORD.match(words, start)
    assert explained is not None  # it matches the empty text
    if _kind(lexed, start, allow_writes, plan_only=True) not in (Kind.QUERY, Kind.WRITE):
        raise StatementRefused(Refusal.EXPLAINABLE, _keyword(explained.group(1)))
    return Kind.EXPLAIN


def _kind(lexed: Lexed, start: int, allow_writes: bool, *, plan_only: bool = False) -> Kind:
    """The kind of the statement at `start` in lexed.words, or StatementRefused. A write is
    refused unless writes are allowed or it is only to be planned."""
    words = lexed.words
    first = _FIRST_WORD.match(words, start)
    assert first is not None  # it matches the empty text
    word = _keyword(first.group(1))
    if word in _REFUSED_FIRST_WORDS:
        raise StatementRefused(_REFUSED_FIRST_WORDS[word], word)
    if word == "EXPLAIN":
        return _explain(lexed, first.end(), allow_writes)
    if word == "SHOW":
        return Kind.SHOW
    keyword = word
    if word == "WITH":
        keyword = _with_statement(words, first.end()) or ""
        if not keyword:
            raise StatementRefused(Refusal.WITH, word)
    if keyword in _QUERY_WORDS:
        if hidden := _OPENS_WRITE.search(words, start):
            keyword = hidden.group(1).upper()
        elif _INTO.search(words, start):
            raise StatementRefused(Refusal.SELECT_INTO, "INTO")
    if keyword in _QUERY_WORDS:
        return Kind.QUERY
    if keyword not in _WRITE_WORDS:
        raise _not_allowed(word, allow_writes)
    if not (allow_writes or plan_only):
        raise StatementRefused(Refusal.READ_ONLY, keyword)
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
    """Both layers, in order: what the `query` tool runs."""
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

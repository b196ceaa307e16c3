"""Layer 1 of the read-only guard: the agent's text as PostgreSQL's lexer reads it (quotes,
quoted names, dollar quotes, nested comments, Unicode-escaped names), so that a `;` hidden in
a comment or a string neither splits nor hides a second statement, and a name is read as
PostgreSQL resolves it in whatever spelling. The server checks the one-statement rule again:
every statement goes over the extended query protocol, which refuses a text with several.

What layer 4 (guard.py) reads is `Lexed.words`: the statement with its comments as spaces,
its strings and quoted names as marks, so that no keyword or parenthesis inside them counts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from supalink.agent.refusals import Refusal, StatementRefused

# PostgreSQL's identifiers: in UTF-8 every character past ASCII is a letter to its lexer.
# Written as what they are not (the ASCII characters outside them): a class that spells out
# \x80-\U0010ffff costs sre about 4 ms to compile, and each agent server start paid 60 ms.
IDENT_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"  # a letter, _ or any non-ASCII
IDENT_CHAR = r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"  # and digits, $
IDENTIFIER_CHAR = re.compile(IDENT_CHAR)
IDENTIFIER = re.compile(f"{IDENT_START}{IDENT_CHAR}*")
# PostgreSQL's white space (\v from 16 on); anything else is part of a token.
SPACE = " \t\n\r\f\v"
_DOLLAR_TAG = re.compile(rf"\$({IDENT_START}[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*)?\$")
# Where the lexer has something to read: a comment, a quote, a dollar sign, a semicolon.
_SPECIAL = re.compile(r"--|/\*|['\";$]")
_LINE_END = re.compile("[\n\r]")
_COMMENT_MARK = re.compile(r"/\*|\*/")
# What the checks read in place of a string and of a quoted name: something, but no word.
STRING = "\x00"
QUOTED_NAME = "\x01"
_MARK = re.compile("[\x00\x01]")


# Keywords are matched as whole words, in any case, ASCII only as PostgreSQL's are: Unicode's
# case rules would match U+017F (long s) with s, which PostgreSQL does not.
KEYWORD = re.IGNORECASE | re.ASCII
BEFORE_WORD = f"(?<!{IDENT_CHAR})"
AFTER_WORD = f"(?!{IDENT_CHAR})"
FIRST_WORD = re.compile(rf"[{SPACE}(]*({IDENT_START}{IDENT_CHAR}*)?")
_UESCAPE = re.compile(rf"[{SPACE}]*uescape{AFTER_WORD}", KEYWORD)
_STRING_NEXT = re.compile(rf"[{SPACE}]*{STRING}")


@dataclass(frozen=True)
class Lexed:
    """One statement as PostgreSQL's lexer reads it: layer 1's answer, layer 4's input."""

    text: str  # as the agent wrote it, less a trailing `;` and the space around it
    first_word: str  # upper case; "" for one that starts with no word (a quoted name)
    # The statement with each comment as a space, each string as STRING and each quoted
    # name as QUOTED_NAME: the words and parentheses that PostgreSQL parses.
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
        bare = frozenset(IDENTIFIER.findall(self.words.lower()))
        if QUOTED_NAME not in self.words:  # strings only: no need to look at each
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
        if unicode and not (open_at > 2 and IDENTIFIER_CHAR.match(self.source[open_at - 3])):
            return unicode_unescaped(name, self._uescape(self._marks[index]))
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


def unicode_unescaped(name: str, escape: str) -> str | None:
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


def skip_quoted(sql: str, start: int, quote: str, backslashes: bool) -> int:
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


def string_end(sql: str, start: int) -> int:
    """The index after the string literal whose quote is at `start`, or -1. E'…' takes
    backslash escapes; with standard_conforming_strings (the default since PostgreSQL 9.1) a
    plain '…' does not."""
    escaped = (
        start > 0
        and sql[start - 1] in "eE"
        and (start < 2 or not IDENTIFIER_CHAR.match(sql[start - 2]))
    )
    return skip_quoted(sql, start, "'", backslashes=escaped)


def dollar_quote_end(sql: str, start: int) -> int | None:
    """The index after the dollar-quoted string that opens at the `$` at `start`, or -1;
    None when that `$` opens none (a parameter such as $1, or a `$` inside a word)."""
    if start > 0 and IDENTIFIER_CHAR.match(sql[start - 1]):
        return None
    tag = _DOLLAR_TAG.match(sql, start)
    if tag is None:
        return None
    close = sql.find(tag.group(0), tag.end())
    return -1 if close < 0 else close + len(tag.group(0))


def skip_block_comment(sql: str, start: int) -> int:
    """The index after the comment that opens at `start` (comments nest), or -1."""
    closing = closing_mark(_COMMENT_MARK, sql, start, "/*")
    return -1 if closing is None else closing.end()


def closing_mark(
    marks: re.Pattern[str], text: str, start: int, opening: str
) -> re.Match[str] | None:
    """The mark that closes the `opening` one at `start`, where `marks` finds both kinds
    and they nest (comments, parentheses); None when the text ends first."""
    depth = 0
    for mark in marks.finditer(text, start):
        depth += 1 if mark.group(0) == opening else -1
        if depth == 0:
            return mark
    return None


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
            # PostgreSQL ends a line comment at a carriage return too: what follows one runs.
            newline = _LINE_END.search(sql, i)
            end = len(sql) if newline is None else newline.start()
            blank = " "
        elif sql.startswith("/*", i):
            end = skip_block_comment(sql, i)
            blank = " "
        elif char == "'":
            end = string_end(sql, i)
            blank = STRING
        elif char == '"':
            end = skip_quoted(sql, i, '"', backslashes=False)
            blank = QUOTED_NAME
        elif char == "$":
            quoted = dollar_quote_end(sql, i)
            if quoted is not None:
                end, blank = quoted, STRING
        elif char == ";":
            pieces.append(_Piece(piece_start, i, "".join(words), tuple(spans)))
            piece_start, words, spans = i + 1, [], []
            i += 1
            continue
        if end < 0:
            raise StatementRefused(Refusal.UNTERMINATED)
        if blank in (STRING, QUOTED_NAME):
            spans.append((i, end))
        words.append(blank or sql[i:end])
        i = end
    words.append(sql[i:])
    pieces.append(_Piece(piece_start, len(sql), "".join(words), tuple(spans)))
    return pieces


def keyword(word: str | None) -> str:
    # Only ASCII words can be keywords; str.upper would turn U+017F (long s) into S.
    if word is None:
        return ""
    return word.upper() if word.isascii() else word


def single_statement(sql: str) -> Lexed:
    """Layer 1: the one statement in `sql`, or StatementRefused."""
    found = [piece for piece in _pieces(sql) if piece.words.strip(SPACE)]
    if not found:
        raise StatementRefused(Refusal.EMPTY)
    if len(found) > 1:
        raise StatementRefused(Refusal.SEVERAL)
    piece = found[0]
    first = FIRST_WORD.match(piece.words)
    assert first is not None  # it matches the empty text
    return Lexed(
        text=sql[piece.start : piece.end].strip(SPACE),
        first_word=keyword(first.group(1)),
        words=piece.words,
        source=sql,
        spans=piece.spans,
    )

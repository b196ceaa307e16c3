"""The statement as the audit's excerpt reads it (audit_text.py): plain text and tokens, each
token shown as it is or as a placeholder that tells only its length.

The tokens are those of the agent's lexer (lexer.py), read by its own readers, so that the
audit splits the text where the guard does: strings, dollar-quoted strings, quoted names and
comments, and long runs of white space (padding, not layout). A literal or comment of
`threshold` characters or more is hidden; a quoted name only when it holds a secret as
PostgreSQL reads it; white space always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from supalink.agent.lexer import (
    SPACE,
    dollar_quote_end,
    skip_block_comment,
    skip_quoted,
    string_end,
    unicode_unescaped,
)

# White space past this is padding, not layout.
_BLANKS: Final = 64

# What needs reading token by token: a quote, a comment, a dollar quote, or a long run of white
# space. Each alternative starts with one character, so that sre skips to the next of those
# characters at C speed rather than trying each alternative at each character.
TOKENS: Final = re.compile(
    "|".join(
        ["'", '"', r"\$", "--", r"/\*"]
        + [f"{re.escape(space)}[{SPACE}]{{{_BLANKS - 1},}}" for space in SPACE]
    )
)
# PostgreSQL ends a `--` comment at \n or \r.
_NEWLINE = re.compile("[\n\r]")
_COMMENT_NEXT = re.compile(f"[{SPACE}]*(?:--|/\\*)")
_UESCAPE = re.compile("uescape", re.IGNORECASE)

# What a part is: plain text (words, operators, short literals and comments) or one token.
# LONG_WORD is a word that the excerpt shortens (excerpt_cut.py).
PLAIN, STRING, DOLLAR, NAME, LINE, BLOCK, BLANK, LONG_WORD = range(8)
_OPENING = {STRING: "'", DOLLAR: "$", NAME: '"', LINE: "--", BLOCK: "/*"}
_CLOSING = {STRING: "'", DOLLAR: "$", NAME: '"', LINE: "", BLOCK: "*/"}


@dataclass(slots=True)
class Part:
    start: int  # in the statement
    end: int
    kind: int
    closed: bool  # False for a quote or comment that runs to the end unterminated
    text: str  # as the excerpt shows it
    hidden: bool  # `text` is a placeholder

    @property
    def atomic(self) -> bool:
        """Shown whole or not at all: placeholders and names. Plain text (words, operators,
        short literals and comments) may be cut anywhere between two characters."""
        return self.hidden or self.kind != PLAIN


def plain_part(sql: str, start: int, end: int) -> Part:
    return Part(start, end, PLAIN, True, sql[start:end], hidden=False)


def hidden_part(part: Part) -> Part:
    """`part` as its placeholder."""
    text = _placeholder(part.kind, part.closed, part.end - part.start)
    return Part(part.start, part.end, part.kind, part.closed, text, hidden=True)


def _placeholder(kind: int, closed: bool, length: int) -> str:
    chars = "1 char" if length == 1 else f"{length} chars"
    if kind == BLANK:
        return f" …({length} blanks) "
    closing = _CLOSING.get(kind, "") if closed else ""
    return f"{_OPENING.get(kind, '')}…{closing}({chars})"


def read_parts(sql: str, threshold: int, pattern: re.Pattern[str] | None) -> list[Part]:
    """The statement as plain text and tokens, each token shown or hidden by its length (a
    quoted name: by whether it holds what `pattern` finds)."""
    parts: list[Part] = []
    plain_from = i = 0
    uescape: bool | None = None  # whether the text says UESCAPE: read once, if ever needed
    while (found := TOKENS.search(sql, i)) is not None:
        start = found.start()
        token = _token(sql, start, found.end())
        if token is None:  # a parameter, or a $ inside a word
            i = start + 1
            continue
        kind, end = token
        closed = end >= 0
        if not closed:  # PostgreSQL refuses it; read as one token all the same
            end = len(sql)
        length = end - start
        if kind == BLANK:
            hidden = True
        elif kind == NAME and closed:
            unicode = sql[max(start - 2, 0) : start] in ("U&", "u&")
            if unicode and pattern is not None and uescape is None:
                uescape = _UESCAPE.search(sql) is not None
            hidden = _name_holds(sql[start + 1 : end - 1], unicode, pattern, bool(uescape))
        else:
            hidden = length >= threshold
            if not hidden:  # a short literal or comment: plain text, with what is around it
                i = end
                continue
        if start > plain_from:
            parts.append(plain_part(sql, plain_from, start))
        text = _placeholder(kind, closed, length) if hidden else sql[start:end]
        if kind == BLANK and _NEWLINE.search(sql, start, end):
            text = text[:-1] + "\n"  # so that a `--` comment before it ends visibly
        parts.append(Part(start, end, kind, closed, text, hidden))
        plain_from = i = end
    if len(sql) > plain_from:
        parts.append(plain_part(sql, plain_from, len(sql)))
    return parts


def _token(sql: str, start: int, found_end: int) -> tuple[int, int] | None:
    """The kind and end (-1: unterminated) of the token that TOKENS found at `start`."""
    char = sql[start]
    if char in SPACE:
        return BLANK, found_end
    if char == "$":
        end = dollar_quote_end(sql, start)
        return None if end is None else (DOLLAR, end)
    if char == "'":
        return STRING, string_end(sql, start)
    if char == '"':
        return NAME, skip_quoted(sql, start, '"', backslashes=False)
    return _comments(sql, start)


def _comments(sql: str, start: int) -> tuple[int, int]:
    """The kind and end of the comments from `start` on, with only white space between them:
    many short comments are as much padding as one long one. The kind is the last one's, as
    its shape says where the next line starts. The end is -1 if the last runs unterminated."""
    kind, end = LINE, start
    while True:
        if sql.startswith("--", start):
            newline = _NEWLINE.search(sql, start)
            kind, end = LINE, len(sql) if newline is None else newline.start()
        else:
            kind, end = BLOCK, skip_block_comment(sql, start)
            if end < 0:
                return kind, end
        more = _COMMENT_NEXT.match(sql, end)
        if more is None:
            return kind, end
        start = more.end() - 2


def _name_holds(name: str, unicode: bool, pattern: re.Pattern[str] | None, uescape: bool) -> bool:
    """Whether a quoted name, as PostgreSQL reads it, holds a secret. As written it is
    searched with the rest of the excerpt's text (audit_text.py)."""
    if pattern is None:
        return False
    name = name.replace('""', '"')
    if unicode:
        # Another escape character is rare enough to hide the name rather than read it.
        if uescape:
            return True
        decoded = unicode_unescaped(name, "\\")
        if decoded is None:
            return True
        name = decoded
    return pattern.search(name) is not None

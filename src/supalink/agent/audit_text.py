"""The agent's statement as the audit keeps it.

`excerpt` keeps the statement's structure and never its values. It reads the text as the
agent's lexer does (lexer.py) and keeps the words, operators, quoted names and short literals
as they are; each string, dollar-quoted string or comment of `threshold` characters or more
becomes a placeholder that tells only its length. No mask pattern runs over the text, so none
can span several tokens and eat a function call, and none answers a guess: a literal that
holds the password is hidden like any other literal of its length. Long runs of white space,
of comments and long names are folded too, so padding cannot push the statement's own words
out of the 8 kB that the audit keeps of it. (Showing it safely is agent/printable.py's.)
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

# The lexer's own readers, so that the audit splits the text where the guard does.
from supalink.agent.byte_budget import utf8_len, utf8_prefix, utf8_suffix
from supalink.agent.lexer import (
    _DOLLAR_TAG,
    _IDENTIFIER_CHAR,
    IDENT_CHAR,
    SPACE,
    _skip_block_comment,
    _skip_quoted,
    _unicode_unescaped,
)

MAX_EXCERPT_BYTES: Final = 8192
# A literal or comment this long may hold a value; shorter ones are shown (`'x'`, `/**/`).
THRESHOLD: Final = 8
# White space past this is padding, not layout.
_BLANKS: Final = 64
# PostgreSQL reads the first 63 bytes of a name (NAMEDATALEN - 1): past that, a name is padding.
_NAME_CHARS: Final = 63
# At most 4 UTF-8 bytes a character: text this short is within the budget whatever it holds.
_FAST_CHARS: Final = MAX_EXCERPT_BYTES // 4
# Hiding a word that spells a secret with its neighbours converges in a round or two; past this
# every word is hidden rather than searched again.
_ROUNDS: Final = 8

# What needs reading token by token: a quote, a comment, a dollar quote, or a long run of white
# space. Each alternative starts with one character, so that sre skips to the next of those
# characters at C speed rather than trying each alternative at each character.
_TOKENS = re.compile(
    "|".join(
        ["'", '"', r"\$", "--", r"/\*"]
        + [f"{re.escape(space)}[{SPACE}]{{{_BLANKS - 1},}}" for space in SPACE]
    )
)
# PostgreSQL ends a `--` comment at \n or \r.
_NEWLINE = re.compile("[\n\r]")
_COMMENT_NEXT = re.compile(f"[{SPACE}]*(?:--|/\\*)")
_WORD_RUN = re.compile(f"{IDENT_CHAR}*")
_SPACE_RUN = re.compile(f"[{SPACE}]*")
_UESCAPE = re.compile("uescape", re.IGNORECASE)
_LONG_WORD = re.compile(f"{IDENT_CHAR}{{{_NAME_CHARS + 1},}}")
# A long word after what ends the one before: starting with a class, not a look-behind, lets
# sre skip to the next candidate at C speed.
assert IDENT_CHAR.startswith("[^")
_NEXT_LONG_WORD = re.compile(f"[{IDENT_CHAR.removeprefix('[^')}({_LONG_WORD.pattern})")

_PLAIN, _STRING, _DOLLAR, _NAME, _LINE, _BLOCK, _BLANK, _LONG_WORD_KIND = range(8)
_OPENING = {_STRING: "'", _DOLLAR: "$", _NAME: '"', _LINE: "--", _BLOCK: "/*"}
_CLOSING = {_STRING: "'", _DOLLAR: "$", _NAME: '"', _LINE: "", _BLOCK: "*/"}


@dataclass(frozen=True)
class Excerpt:
    """What the audit keeps of a statement: `text`, and when that is not the statement itself
    (a placeholder, a cut), the statement's length in characters and its SHA-256 in hex."""

    text: str
    chars: int | None
    sha256: str | None


@dataclass(slots=True)
class _Part:
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
        return self.hidden or self.kind != _PLAIN


def excerpt(sql: str, secrets: Iterable[str]) -> Excerpt:
    """The statement as it ran, for the audit: at most MAX_EXCERPT_BYTES of UTF-8.

    Values are never shown, structure always is. Each string literal, dollar-quoted string and
    comment of `threshold` characters or more (quotes included; 8, or the shortest secret's
    length if shorter) is shown as its length alone: `'…'(42 chars)`, `$…$(42 chars)`,
    `/*…*/(16000 chars)`, `--…(120 chars)`. Comments with only white space between them count
    as one; an unterminated quote or comment runs to the end and has no closing mark
    (`'…(900 chars)`); white space of 64 characters or more is ` …(n blanks) `. The lengths
    count the statement's characters, quotes included.

    Quoted names and bare words (numbers too) are shown unless one holds a secret, in any
    case, and a name as PostgreSQL reads it (`""` and U& escapes resolved; any U& name when
    the statement says UESCAPE); or unless the shown text would spell a secret across tokens
    (`'ab'||cd`). Then it is `"…"(n chars)` or `…(n chars)`. This does tell whether a guess
    written as a name was right: the accepted limit, as names are the structure the audit is
    for. A value the statement computes (`'hun' || 'ter2'`) is structure too.

    Past MAX_EXCERPT_BYTES, names and words past 63 characters (all PostgreSQL reads of a name)
    are shown as their first 63 and their length; if that is not enough, the excerpt is the
    head and the tail, never cutting a placeholder, around ` … (N characters left out) … `.
    So padding never hides the statement's words: only a statement whose own words, operators
    and short literals pass 8 kB is cut.
    """
    wanted = frozenset(secret for secret in secrets if secret)
    pattern = _secret_pattern(wanted) if wanted else None
    if (
        len(sql) <= _FAST_CHARS
        and _TOKENS.search(sql) is None
        and (pattern is None or pattern.search(sql) is None)
    ):
        return Excerpt(sql, None, None)
    threshold = min([THRESHOLD, *(len(secret) for secret in wanted)])
    parts = _parts(sql, threshold, pattern)
    text = _settled(sql, parts, pattern)
    if text == sql:
        return Excerpt(sql, None, None)
    digest = hashlib.sha256(sql.encode("utf-8", "surrogatepass")).hexdigest()
    return Excerpt(text, len(sql), digest)


@functools.lru_cache(maxsize=8)
def _secret_pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    # A password in another case still tells the password.
    ordered = sorted(secrets, key=len, reverse=True)
    return re.compile("|".join(re.escape(secret) for secret in ordered), re.IGNORECASE)


def _placeholder(kind: int, closed: bool, length: int) -> str:
    chars = "1 char" if length == 1 else f"{length} chars"
    if kind == _BLANK:
        return f" …({length} blanks) "
    closing = _CLOSING.get(kind, "") if closed else ""
    return f"{_OPENING.get(kind, '')}…{closing}({chars})"


def _parts(sql: str, threshold: int, pattern: re.Pattern[str] | None) -> list[_Part]:
    """The statement as plain text and tokens, each token shown or hidden by its length."""
    parts: list[_Part] = []
    plain_from = i = 0
    uescape: bool | None = None  # whether the text says UESCAPE: read once, if ever needed
    while (found := _TOKENS.search(sql, i)) is not None:
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
        if kind == _BLANK:
            hidden = True
        elif kind == _NAME and closed:
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
            parts.append(_plain(sql, plain_from, start))
        text = _placeholder(kind, closed, length) if hidden else sql[start:end]
        if kind == _BLANK and _NEWLINE.search(sql, start, end):
            text = text[:-1] + "\n"  # so that a `--` comment before it ends visibly
        parts.append(_Part(start, end, kind, closed, text, hidden))
        plain_from = i = end
    if len(sql) > plain_from:
        parts.append(_plain(sql, plain_from, len(sql)))
    return parts


def _token(sql: str, start: int, found_end: int) -> tuple[int, int] | None:
    """The kind and end (-1: unterminated) of the token that `_TOKENS` found at `start`."""
    char = sql[start]
    if char in SPACE:
        return _BLANK, found_end
    if char == "$":
        inside_word = start > 0 and _IDENTIFIER_CHAR.match(sql[start - 1])
        tag = None if inside_word else _DOLLAR_TAG.match(sql, start)
        if tag is None:
            return None
        close = sql.find(tag.group(0), tag.end())
        return _DOLLAR, -1 if close < 0 else close + len(tag.group(0))
    if char == "'":
        # E'…' takes backslash escapes, as in lexer.py.
        escaped = (
            start > 0
            and sql[start - 1] in "eE"
            and (start < 2 or not _IDENTIFIER_CHAR.match(sql[start - 2]))
        )
        return _STRING, _skip_quoted(sql, start, "'", backslashes=escaped)
    if char == '"':
        return _NAME, _skip_quoted(sql, start, '"', backslashes=False)
    return _comments(sql, start)


def _comments(sql: str, start: int) -> tuple[int, int]:
    """The kind and end of the comments from `start` on, with only white space between them:
    many short comments are as much padding as one long one. The kind is the last one's, as
    its shape says where the next line starts. The end is -1 if the last runs unterminated."""
    kind, end = _LINE, start
    while True:
        if sql.startswith("--", start):
            newline = _NEWLINE.search(sql, start)
            kind, end = _LINE, len(sql) if newline is None else newline.start()
        else:
            kind, end = _BLOCK, _skip_block_comment(sql, start)
            if end < 0:
                return kind, end
        more = _COMMENT_NEXT.match(sql, end)
        if more is None:
            return kind, end
        start = more.end() - 2


def _plain(sql: str, start: int, end: int) -> _Part:
    return _Part(start, end, _PLAIN, True, sql[start:end], hidden=False)


def _name_holds(name: str, unicode: bool, pattern: re.Pattern[str] | None, uescape: bool) -> bool:
    """Whether a quoted name, as PostgreSQL reads it, holds a secret. As written it is
    searched with the rest of the excerpt (see _settled)."""
    if pattern is None:
        return False
    name = name.replace('""', '"')
    if unicode:
        # Another escape character is rare enough to hide the name rather than read it.
        if uescape:
            return True
        decoded = _unicode_unescaped(name, "\\")
        if decoded is None:
            return True
        name = decoded
    return pattern.search(name) is not None


# Where each shown piece of the excerpt comes from: the part's index (-1 for the marker of a
# cut), where in the statement the piece starts, and the piece as shown.
_Shown = tuple[int, int, str]


def _settled(sql: str, parts: list[_Part], pattern: re.Pattern[str] | None) -> str:
    """The excerpt's text, with every word hidden that would show a secret."""
    if utf8_len("".join(part.text for part in parts)) > MAX_EXCERPT_BYTES:
        _shorten(sql, parts)
    for _ in range(_ROUNDS):
        text, shown = _cut(parts, len(sql))
        if pattern is None:
            return text
        hits = [found.span() for found in pattern.finditer(text)]
        if not hits:
            return text
        if shown is None:
            shown = [(index, part.start, part.text) for index, part in enumerate(parts)]
        if not _hide(sql, parts, shown, hits):
            return text  # spelled by placeholders alone: no text of the statement's is in it
    for index, part in enumerate(parts):
        if not part.hidden:
            parts[index] = _hidden(part)
    return _cut(parts, len(sql))[0]


def _cut(parts: list[_Part], total: int) -> tuple[str, list[_Shown] | None]:
    """The parts joined (and None: each is shown whole), or when that passes
    MAX_EXCERPT_BYTES, a head and a tail of them around a marker that says how many of the
    statement's characters are left out (and what is shown)."""
    whole = "".join(part.text for part in parts)
    if utf8_len(whole) <= MAX_EXCERPT_BYTES:
        return whole, None
    budget = MAX_EXCERPT_BYTES - utf8_len(_marker(total))  # N is at most `total`
    head_budget = budget * 5 // 8
    head, head_end, first_left_out = _head(parts, head_budget)
    tail, tail_start = _tail(parts, budget - head_budget, first_left_out)
    # Each side is less than all of the text, so they never meet (a plain part may be both
    # the head's last and the tail's first, split between them).
    assert head_end <= tail_start
    shown = [*head, (-1, head_end, _marker(tail_start - head_end)), *tail]
    return "".join(piece for _, _, piece in shown), shown


def _shorten(sql: str, parts: list[_Part]) -> None:
    """Shorten each quoted name and each word (a name, a number) past 63 characters to its
    first 63 and its length: a 16 kB name would otherwise push what follows out of the
    excerpt. Hiding words later only splits plain text, which makes no new long word."""
    shortened: list[_Part] = []
    for part in parts:
        length = part.end - part.start
        if part.kind == _NAME and not part.hidden and part.closed and length > _NAME_CHARS + 2:
            text = f'{sql[part.start : part.start + 1 + _NAME_CHARS]}…"({length} chars)'
            shortened.append(_Part(part.start, part.end, _NAME, True, text, hidden=False))
            continue
        if part.kind != _PLAIN or part.hidden or len(part.text) <= _NAME_CHARS:
            shortened.append(part)
            continue
        first = _LONG_WORD.match(part.text)  # a word that starts the part starts after nothing
        spans = [first.span()] if first else []
        after_first = first.end() if first else 0
        spans += [word.span(1) for word in _NEXT_LONG_WORD.finditer(part.text, after_first)]
        at = part.start
        for word_start, word_end in spans:
            start, end = part.start + word_start, part.start + word_end
            if start > at:
                shortened.append(_plain(sql, at, start))
            text = f"{sql[start : start + _NAME_CHARS]}…({end - start} chars)"
            shortened.append(_Part(start, end, _LONG_WORD_KIND, True, text, hidden=False))
            at = end
        if part.end > at:
            shortened.append(_plain(sql, at, part.end) if at > part.start else part)
    parts[:] = shortened


def _marker(left_out: int) -> str:
    return f" … ({left_out:,} characters left out) … "


def _head(parts: list[_Part], budget: int) -> tuple[list[_Shown], int, int]:
    """The first parts within `budget` bytes, where they end in the statement, and the
    index of the first part not shown whole."""
    shown: list[_Shown] = []
    end = 0
    for index, part in enumerate(parts):
        size = utf8_len(part.text)
        if size <= budget:
            shown.append((index, part.start, part.text))
            budget -= size
            end = part.end
            continue
        if not part.atomic:
            piece = utf8_prefix(part.text, budget)
            if piece:
                shown.append((index, part.start, piece))
                end = part.start + len(piece)
        return shown, end, index
    return shown, end, len(parts)


def _tail(parts: list[_Part], budget: int, first: int) -> tuple[list[_Shown], int]:
    """The last parts within `budget` bytes, none before `first`, and where they start."""
    shown: list[_Shown] = []
    start = parts[-1].end
    for index in range(len(parts) - 1, first - 1, -1):
        part = parts[index]
        size = utf8_len(part.text)
        if size <= budget:
            shown.append((index, part.start, part.text))
            budget -= size
            start = part.start
            continue
        if not part.atomic:
            piece = utf8_suffix(part.text, budget)
            if piece:
                start = part.end - len(piece)
                shown.append((index, start, piece))
        break
    shown.reverse()
    return shown, start


def _hidden(part: _Part) -> _Part:
    text = _placeholder(part.kind, part.closed, part.end - part.start)
    return _Part(part.start, part.end, part.kind, part.closed, text, hidden=True)


def _hide(sql: str, parts: list[_Part], shown: list[_Shown], hits: list[tuple[int, int]]) -> bool:
    """Hide each shown token, and each word of plain text, that a hit in the excerpt's text
    touches. False when there was nothing left to hide: the hits are in placeholders."""
    starts: list[int] = []
    at = 0
    for _, _, piece in shown:
        starts.append(at)
        at += len(piece)
    whole: set[int] = set()
    # For each plain part: where the hits are in the statement, and where its shown piece starts.
    spans: dict[int, list[tuple[int, int, int]]] = {}
    for hit_start, hit_end in hits:
        k = bisect.bisect_right(starts, hit_start) - 1
        while k < len(shown) and starts[k] < hit_end:
            index, source, piece = shown[k]
            if index >= 0 and not parts[index].hidden:
                if parts[index].atomic:
                    whole.add(index)  # a quoted name as written
                else:
                    low = source + max(hit_start - starts[k], 0)
                    high = source + min(hit_end - starts[k], len(piece))
                    spans.setdefault(index, []).append((low, high, source))
            k += 1
    if not whole and not spans:
        return False
    settled: list[_Part] = []
    for index, part in enumerate(parts):
        if index in whole:
            settled.append(_hidden(part))
        elif index in spans:
            settled.extend(_split(sql, part, spans[index]))
        else:
            settled.append(part)
    parts[:] = settled
    return True


def _split(sql: str, part: _Part, spans: list[tuple[int, int, int]]) -> list[_Part]:
    """Plain text with the words that `spans` touch hidden, each run of them as one."""
    words: list[tuple[int, int]] = []
    for low, high, shown_from in sorted(spans):
        if words and high <= words[-1][1]:
            continue
        if words and low < words[-1][1]:
            words[-1] = (words[-1][0], _word_end(sql, high, part.end))
            continue
        # Read back no further than the shown piece or the word before: linear in the part.
        floor = max(shown_from, words[-1][1] if words else part.start)
        words.append((_word_start(sql, floor, low), _word_end(sql, high, part.end)))
    pieces: list[_Part] = []
    at = part.start
    for start, end in words:
        if start > at:
            pieces.append(_plain(sql, at, start))
        pieces.append(_hidden(_plain(sql, start, end)))
        at = end
    if part.end > at:
        pieces.append(_plain(sql, at, part.end))
    return pieces


def _word_start(sql: str, floor: int, at: int) -> int:
    """The start of the word (a name, a number, a run of white space, or one other
    character) that holds sql[at], not before `floor`."""
    run = _run(sql[at])
    if run is None:
        return at
    found = run.match(sql[floor:at][::-1])
    assert found is not None  # the runs match the empty text
    return at - found.end()


def _word_end(sql: str, at: int, ceiling: int) -> int:
    """The end of the word that holds sql[at - 1], not past `ceiling`."""
    run = _run(sql[at - 1])
    if run is None:
        return at
    found = run.match(sql, at, ceiling)
    assert found is not None
    return found.end()


def _run(char: str) -> re.Pattern[str] | None:
    if _IDENTIFIER_CHAR.match(char):
        return _WORD_RUN
    return _SPACE_RUN if char in SPACE else None

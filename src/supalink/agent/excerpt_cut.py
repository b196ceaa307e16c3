"""The excerpt within MAX_EXCERPT_BYTES of UTF-8 (audit_text.py), so that padding never
pushes the statement's own words out of it.

Past the bound, each quoted name and each word (a name, a number) past 63 characters, all
PostgreSQL reads of a name, is shortened to its first 63 and its length. If that is not
enough, the excerpt is the head and the tail of the statement's parts around a marker that
says how many of its characters are left out: plain text is cut between two characters, a
placeholder or a name is shown whole or not at all.
"""

from __future__ import annotations

import re
from typing import Final

from supalink.agent.byte_budget import utf8_len, utf8_prefix, utf8_suffix
from supalink.agent.excerpt_parts import LONG_WORD, NAME, PLAIN, Part, plain_part
from supalink.agent.lexer import IDENT_CHAR

MAX_EXCERPT_BYTES: Final = 8192
# PostgreSQL reads the first 63 bytes of a name (NAMEDATALEN - 1): past that, a name is padding.
_NAME_CHARS: Final = 63
_LONG_WORD = re.compile(f"{IDENT_CHAR}{{{_NAME_CHARS + 1},}}")
# A long word after what ends the one before: starting with a class, not a look-behind, lets
# sre skip to the next candidate at C speed.
assert IDENT_CHAR.startswith("[^")
_NEXT_LONG_WORD = re.compile(f"[{IDENT_CHAR.removeprefix('[^')}({_LONG_WORD.pattern})")

# Where each shown piece of the excerpt comes from: the part's index (-1 for the marker of a
# cut), where in the statement the piece starts, and the piece as shown.
Shown = tuple[int, int, str]


def shorten(sql: str, parts: list[Part]) -> None:
    """Shorten each quoted name and each word (a name, a number) past 63 characters to its
    first 63 and its length: a 16 kB name would otherwise push what follows out of the
    excerpt. Hiding words later only splits plain text, which makes no new long word."""
    shortened: list[Part] = []
    for part in parts:
        length = part.end - part.start
        if part.kind == NAME and not part.hidden and part.closed and length > _NAME_CHARS + 2:
            text = f'{sql[part.start : part.start + 1 + _NAME_CHARS]}…"({length} chars)'
            shortened.append(Part(part.start, part.end, NAME, True, text, hidden=False))
            continue
        if part.kind != PLAIN or part.hidden or len(part.text) <= _NAME_CHARS:
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
                shortened.append(plain_part(sql, at, start))
            text = f"{sql[start : start + _NAME_CHARS]}…({end - start} chars)"
            shortened.append(Part(start, end, LONG_WORD, True, text, hidden=False))
            at = end
        if part.end > at:
            shortened.append(plain_part(sql, at, part.end) if at > part.start else part)
    parts[:] = shortened


def cut(parts: list[Part], total: int) -> tuple[str, list[Shown] | None]:
    """The parts joined (and None: each is shown whole), or when that passes
    MAX_EXCERPT_BYTES, a head and a tail of them around a marker that says how many of the
    statement's `total` characters are left out (and what is shown)."""
    whole = "".join(part.text for part in parts)
    if utf8_len(whole) <= MAX_EXCERPT_BYTES:
        return whole, None
    budget = MAX_EXCERPT_BYTES - utf8_len(_marker(total))  # N is at most `total`
    head_budget = budget * 5 // 8
    head, head_end, first_left_out = _taken(parts, range(len(parts)), head_budget)
    backwards = range(len(parts) - 1, first_left_out - 1, -1)
    tail, tail_start, _ = _taken(parts, backwards, budget - head_budget, from_end=True)
    tail.reverse()
    # Each side is less than all of the text, so they never meet (a plain part may be both
    # the head's last and the tail's first, split between them).
    assert head_end <= tail_start
    shown = [*head, (-1, head_end, _marker(tail_start - head_end)), *tail]
    return "".join(piece for _, _, piece in shown), shown


def _marker(left_out: int) -> str:
    return f" … ({left_out:,} characters left out) … "


def _taken(
    parts: list[Part], order: range, budget: int, *, from_end: bool = False
) -> tuple[list[Shown], int, int]:
    """The parts in `order` within `budget` bytes, and of the first that is not, its start
    (`from_end`: its end) when it is plain text. Also where what is taken reaches in the
    statement, and the index of the first part not taken whole (len(parts): none)."""
    shown: list[Shown] = []
    reach = parts[-1].end if from_end else 0
    for index in order:
        part = parts[index]
        size = utf8_len(part.text)
        if size <= budget:
            shown.append((index, part.start, part.text))
            budget -= size
            reach = part.start if from_end else part.end
            continue
        if not part.atomic:
            piece = (utf8_suffix if from_end else utf8_prefix)(part.text, budget)
            if piece:
                start = part.end - len(piece) if from_end else part.start
                shown.append((index, start, piece))
                reach = start if from_end else start + len(piece)
        return shown, reach, index
    return shown, reach, len(parts)

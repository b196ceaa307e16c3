"""The agent's statement as the audit keeps it: `excerpt`, and the hiding of every word that
would show a secret.

`excerpt` keeps the statement's structure and never its values. It reads the text as the
agent's lexer does (excerpt_parts.py) and keeps the words, operators, quoted names and short
literals as they are; each string, dollar-quoted string or comment of `threshold` characters
or more becomes a placeholder that tells only its length. No mask pattern runs over the text,
so none can span several tokens and eat a function call, and none answers a guess: a literal
that holds the password is hidden like any other literal of its length. Long runs of white
space, of comments and long names are folded too, so padding cannot push the statement's own
words out of the 8 kB that the audit keeps of it (excerpt_cut.py). What is left is searched
for the secrets, and each word a hit touches is hidden in turn. (Showing it safely is
agent/printable.py's.)
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from supalink.agent.byte_budget import utf8_len
from supalink.agent.excerpt_cut import MAX_EXCERPT_BYTES, Shown, cut, shorten
from supalink.agent.excerpt_parts import TOKENS, Part, hidden_part, plain_part, read_parts
from supalink.agent.lexer import IDENT_CHAR, IDENTIFIER_CHAR, SPACE

# A literal or comment this long may hold a value; shorter ones are shown (`'x'`, `/**/`).
THRESHOLD: Final = 8
# At most 4 UTF-8 bytes a character: text this short is within the budget whatever it holds.
_FAST_CHARS: Final = MAX_EXCERPT_BYTES // 4
# Hiding a word that spells a secret with its neighbours converges in a round or two; past this
# every word is hidden rather than searched again.
_ROUNDS: Final = 8
_WORD_RUN = re.compile(f"{IDENT_CHAR}*")
_SPACE_RUN = re.compile(f"[{SPACE}]*")


@dataclass(frozen=True)
class Excerpt:
    """What the audit keeps of a statement: `text`, and when that is not the statement itself
    (a placeholder, a cut), the statement's length in characters and its SHA-256 in hex."""

    text: str
    chars: int | None
    sha256: str | None


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
        and TOKENS.search(sql) is None
        and (pattern is None or pattern.search(sql) is None)
    ):
        return Excerpt(sql, None, None)
    threshold = min([THRESHOLD, *(len(secret) for secret in wanted)])
    parts = read_parts(sql, threshold, pattern)
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


def _settled(sql: str, parts: list[Part], pattern: re.Pattern[str] | None) -> str:
    """The excerpt's text, with every word hidden that would show a secret."""
    if utf8_len("".join(part.text for part in parts)) > MAX_EXCERPT_BYTES:
        shorten(sql, parts)
    for _ in range(_ROUNDS):
        text, shown = cut(parts, len(sql))
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
            parts[index] = hidden_part(part)
    return cut(parts, len(sql))[0]


def _hide(sql: str, parts: list[Part], shown: list[Shown], hits: list[tuple[int, int]]) -> bool:
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
    settled: list[Part] = []
    for index, part in enumerate(parts):
        if index in whole:
            settled.append(hidden_part(part))
        elif index in spans:
            settled.extend(_split(sql, part, spans[index]))
        else:
            settled.append(part)
    parts[:] = settled
    return True


def _split(sql: str, part: Part, spans: list[tuple[int, int, int]]) -> list[Part]:
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
    pieces: list[Part] = []
    at = part.start
    for start, end in words:
        if start > at:
            pieces.append(plain_part(sql, at, start))
        pieces.append(hidden_part(plain_part(sql, start, end)))
        at = end
    if part.end > at:
        pieces.append(plain_part(sql, at, part.end))
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
    if IDENTIFIER_CHAR.match(char):
        return _WORD_RUN
    return _SPACE_RUN if char in SPACE else None

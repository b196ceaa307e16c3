"""One audit entry as its line in the log: JSON on one line, at most MAX_LINE_BYTES whatever
the entry holds, so that the log's files keep a known least number of entries (audit_log.py).

Each text is cut to its bound on a character boundary and the cut marked with CUT; the error
is put on one line; the lists and the numbers are bounded. What the line still cannot hold is
taken from the error, then from the statement, which then carries the whole one's length and
SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import fields
from typing import Any, Final

from supalink.agent.audit_entry import AuditEntry, Who
from supalink.agent.byte_budget import utf8_len

# Counted as written, JSON escapes included: a control character takes 6 bytes (\u001f),
# an emoji 4, so a cap in characters or in UTF-8 alone would not bound the line. With the
# defaults, (20 - 1) files * (5,000,000 // 9,400) lines + 1 >= 10,000 entries are kept.
MAX_LINE_BYTES: Final = 9_400
MAX_STATEMENT_BYTES: Final = 8_192  # of UTF-8; what the line cannot hold is cut too
MAX_ERROR_BYTES: Final = 1_024
MIN_ERROR_BYTES: Final = 256  # what a long error keeps when the statement needs its room
MAX_TEXT_BYTES: Final = 128  # any other text: a time, a profile, a tool, a rule, a client…
MAX_POWER_BYTES: Final = 512  # one item of `powers` or `shared`
MAX_POWERS_BYTES: Final = 4_096  # both lists together
CUT: Final = "…"
_MORE_BYTES: Final = 24  # room for the item that says how many more were left out
_MAX_INT: Final = 2**63 - 1  # a count past any database's, and at most 20 characters

# Built once: json.dumps with options builds an encoder for each line, a third of a record's
# cost. A lone surrogate (from the agent's JSON) cannot be UTF-8: it is written as its JSON
# escape (\ud800), which reads back as itself; the rest of the line stays as it is.
_LINE: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dump(record: dict[str, Any]) -> bytes:
    return (_LINE.encode(record) + "\n").encode("utf-8", "backslashreplace")


def _json_bytes(text: str) -> int:
    """What `text` takes inside a line, its quotes left out."""
    return len(_LINE.encode(text).encode("utf-8", "backslashreplace")) - 2


def _fields_of(*kinds: str) -> tuple[str, ...]:
    """The entry's fields declared as one of `kinds`: a field added later is bounded too."""
    return tuple(field.name for field in fields(AuditEntry) if field.type in kinds)


_SHORT_TEXTS: Final = tuple(
    name for name in _fields_of("str", "str | None") if name not in ("statement", "error")
)
_NUMBERS: Final = _fields_of("int", "int | None")
_TEXT_LISTS: Final = _fields_of("tuple[str, ...]")


def encode_line(entry: AuditEntry) -> bytes:
    """`entry` as its line in the log, at most MAX_LINE_BYTES: each text cut to its bound on
    a character boundary (the cut marked with CUT), the error on one line, the lists and the
    numbers bounded. What the line still cannot hold is taken from the error's end, down to
    MIN_ERROR_BYTES, then from the statement's: the statement is the call's evidence, and an
    error says what it is in its first words. A statement cut here that was not cut before
    gets the whole one's length and SHA-256 (`statement_chars`, `statement_sha256`)."""
    record = entry.as_json()
    for key in _SHORT_TEXTS:
        if record.get(key) is not None:
            record[key] = _fit(record[key], MAX_TEXT_BYTES)
    for key in _NUMBERS:
        if record.get(key) is not None:
            record[key] = max(-_MAX_INT, min(_MAX_INT, record[key]))
    error = record["error"]
    if error is not None:
        error = record["error"] = _fit(" ".join(error.splitlines()), MAX_ERROR_BYTES)
    room = MAX_POWERS_BYTES
    for key in _TEXT_LISTS:
        if key in record:
            record[key], room = _fit_texts(record[key], room)
    statement = record["statement"]
    if statement is None:
        return _dump(record)
    if len(statement) * 4 <= MAX_STATEMENT_BYTES:
        # Within its own bound whatever it holds: most calls' lines are measured once.
        line = _dump(record)
        if len(line) <= MAX_LINE_BYTES:
            return line
    capped = _fit(statement, utf8_bytes=MAX_STATEMENT_BYTES)
    record["statement"] = ""
    over = len(_dump(record)) + _json_bytes(capped) - MAX_LINE_BYTES
    if over > 0 and error is not None:
        record["error"] = _fit(error, max(MIN_ERROR_BYTES, _json_bytes(error) - over))
    fitted = _fit_statement(record, capped)
    if fitted != statement and record.get("statement_chars") is None:
        record["statement_chars"] = len(statement)
        record["statement_sha256"] = hashlib.sha256(
            statement.encode("utf-8", "surrogatepass")
        ).hexdigest()
        fitted = _fit_statement(record, capped)
    record["statement"] = fitted
    return _dump(record)


def _fit_statement(record: dict[str, Any], statement: str) -> str:
    """The statement within what the rest of the line leaves."""
    record["statement"] = ""
    return _fit(statement, MAX_LINE_BYTES - len(_dump(record)))


def _fit(text: str, json_bytes: int = sys.maxsize, *, utf8_bytes: int = sys.maxsize) -> str:
    """`text`, or its longest head that with CUT after it takes at most `json_bytes` in the
    line and `utf8_bytes` of UTF-8."""

    def fits(candidate: str) -> bool:
        # No character takes more than 4 bytes of UTF-8 or 6 in a line (a control
        # character's escape): a text short enough is not measured.
        if len(candidate) * 4 > utf8_bytes and utf8_len(candidate) > utf8_bytes:
            return False
        return len(candidate) * 6 <= json_bytes or _json_bytes(candidate) <= json_bytes

    if fits(text):
        return text
    # text[:low] + CUT fits; text[:high] + CUT does not (each character takes a byte or more).
    low, high = 0, min(len(text), json_bytes + 1, utf8_bytes + 1)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(text[:middle] + CUT):
            low = middle
        else:
            high = middle
    return text[:low] + CUT


def _fit_texts(items: list[str], room: int) -> tuple[list[str], int]:
    """The items that fit in `room` bytes of a line, each within MAX_POWER_BYTES, and one
    that says how many more there were; and the room left."""
    kept: list[str] = []
    for index, item in enumerate(items):
        text = _fit(item, MAX_POWER_BYTES)
        cost = _json_bytes(text) + 3  # its quotes and a comma
        if cost > room - _MORE_BYTES:
            kept.append(f"{CUT} and {len(items) - index} more")
            room -= _json_bytes(kept[-1]) + 3
            break
        kept.append(text)
        room -= cost
    return kept, room


# Where an answered call's line is cut into the parts that are the same for every call of
# one tool from one client and those that are its own (AnswerLines): the line of an entry
# with an empty time and statement and zero counts begins with the first and holds the
# second once, as no key outside a string has a quote before it that is escaped.
_EMPTY_AT: Final = b'{"at":""'
_OWN_PART: Final = b',"statement":"","duration_ms":0.0,"rows":0,"truncated":false'
_PARTS_KEPT: Final = 64  # tools times clients: a server sees a few


class AnswerLines:
    """`encode_line`'s bytes for a call answered with its statement shown whole, made from
    parts encoded once for each tool and client: a call's line then costs its time, its
    statement's JSON and its counts, not a whole entry's encoding (recording an answered
    `select 1` took 27 µs here, 16 µs this way, most of it the lock, the size check and
    the write). The parts are `encode_line`'s own (an entry with an empty time and
    statement and zero counts, cut where those are), so the two cannot differ; where
    `encode_line` would measure or cut (a long statement, a line near its bound), `line`
    says None and the entry is encoded whole."""

    def __init__(self) -> None:
        self._parts: dict[tuple[object, ...], tuple[bytes, bytes] | None] = {}

    def line(
        self,
        *,
        at: str,
        profile: str | None,
        tool: str,
        statement: str,
        duration_ms: float,
        rows: int | None,
        truncated: bool,
        writes: bool,
        pid: int,
        who: Who,
        client: str | None,
    ) -> bytes | None:
        """The line of AuditEntry(at, profile, tool, statement, duration_ms, rows,
        truncated, error=None, writes, pid, who=who, client=client), or None."""
        stamp = _LINE.encode(at).encode("utf-8", "backslashreplace")
        if (
            len(statement) * 4 > MAX_STATEMENT_BYTES  # encode_line measures it
            or len(stamp) - 2 > MAX_TEXT_BYTES  # encode_line cuts it
            or type(duration_ms) is not float
            or not math.isfinite(duration_ms)
            or not (rows is None or type(rows) is int)
        ):
            return None
        key = (profile, tool, writes, pid, who, client)
        if key in self._parts:
            parts = self._parts[key]
        else:
            if len(self._parts) >= _PARTS_KEPT:
                self._parts.clear()
            parts = self._parts[key] = _answer_parts(
                AuditEntry(
                    at="",
                    profile=profile,
                    tool=tool,
                    statement="",
                    duration_ms=0.0,
                    rows=0,
                    truncated=False,
                    error=None,
                    writes=writes,
                    pid=pid,
                    who=who,
                    client=client,
                )
            )
        if parts is None:
            return None
        head, tail = parts
        count = "null" if rows is None else str(max(-_MAX_INT, min(_MAX_INT, rows)))
        line = b"".join(
            (
                b'{"at":',
                stamp,
                head,
                _LINE.encode(statement).encode("utf-8", "backslashreplace"),
                f',"duration_ms":{duration_ms!r},"rows":{count},'
                f'"truncated":{"true" if truncated else "false"}'.encode(),
                tail,
            )
        )
        return line if len(line) <= MAX_LINE_BYTES else None


def _answer_parts(empty: AuditEntry) -> tuple[bytes, bytes] | None:
    """What comes between the time and the statement (from `,"profile"` to `"statement":`),
    and what follows the counts (from `,"error"` on), in `empty`'s line."""
    line = encode_line(empty)
    if not line.startswith(_EMPTY_AT) or line.count(_OWN_PART) != 1:
        return None
    at = line.index(_OWN_PART)
    head = line[len(_EMPTY_AT) : at] + b',"statement":'
    return head, line[at + len(_OWN_PART) :]

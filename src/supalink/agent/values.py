"""Database values as JSON, and rows as an answer of bounded size."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import Any, Final
from uuid import UUID

# The rows' key and an empty list, as `dumps` writes them.
_NO_ROWS: Final = '"rows":[]'
# What the server says when a row is larger than an answer may be (see `capped_rows`).
ROW_TOO_LARGE: Final = "supalink: row larger than the answer"
_ROW_BYTES: Final = re.compile(re.escape(ROW_TOO_LARGE) + r" \((\d+) bytes\)")


def json_value(value: Any) -> Any:  # noqa: PLR0911 (one answer per kind of value)
    """A value as JSON can carry it: numbers stay numbers when JSON keeps them exact,
    everything else is the text PostgreSQL would print."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    # Decimal (exact as text; a JSON number would pass through a float), UUID, intervals,
    # addresses, ranges: as they print.
    return str(value)


# Values of exactly these types are JSON as they come (`json_value` gives them back as they
# are): what most columns hold, text, integers, booleans and NULL.
_AS_THEY_ARE: Final = frozenset((type(None), bool, int, str))
_NULL: Final = type(None)


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


# What `json_value` does to a value of exactly one of these types, for a column that holds
# only that type and NULL: found once for the column rather than for each value.
_ONE_KIND: Final[dict[type, Callable[[Any], Any]]] = {
    float: _finite,
    dt.datetime: dt.datetime.isoformat,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    Decimal: str,
    UUID: str,
}


def json_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as JSON can carry them, `json_value` for each value, but decided by the types the
    values have (a set of them, built in C) rather than value by value: rows that hold only
    values JSON takes as they are are only made lists; otherwise each column is looked at
    alone, and one that holds a single kind of value (and NULL) is converted as that kind.
    The values' types decide, not the columns': a loader gives the text for a value Python
    cannot hold, and an SQL_ASCII database gives bytes for text."""
    if set(map(type, chain.from_iterable(rows))) <= _AS_THEY_ARE:
        return list(map(list, rows))
    columns = [_json_column(column) for column in zip(*rows, strict=True)]
    return list(map(list, zip(*columns, strict=True)))


def _json_column(column: Sequence[Any]) -> Sequence[Any]:
    kinds = set(map(type, column))
    if kinds <= _AS_THEY_ARE:
        return column
    kinds.discard(_NULL)
    convert = _ONE_KIND.get(kinds.pop()) if len(kinds) == 1 else None
    if convert is None:
        return list(map(json_value, column))
    return [None if value is None else convert(value) for value in column]


# One encoder for every call: json.dumps with options builds a new one each time, which
# cost more than encoding a row.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> str:
    return _ENCODER.encode(data)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


@dataclass
class RowBudget:
    """Rows kept until the count or the byte budget runs out; then only counted. A row
    costs its JSON's UTF-8 bytes and one for the comma after it."""

    max_rows: int
    max_bytes: int
    rows: list[list[Any]] = field(default_factory=list)
    # The kept rows' JSON as it was measured, in pieces that commas join into the inside of
    # their list: the answer reuses it rather than encoding the rows again.
    pieces: list[str] = field(default_factory=list)
    seen: int = 0
    used_bytes: int = 0
    truncated: bool = False

    def add(self, row: Sequence[Any]) -> bool:
        """Keep the row if it fits; False once the answer is full."""
        self.seen += 1
        if self.truncated:
            return False
        return self._keep([json_value(value) for value in row])

    def add_many(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Keep the rows while they fit, as `add` one after the other would, up to and
        counting the first that does not fit; False once the answer is full.

        The rows are measured together, one encoding for all (a list's JSON is its rows',
        a comma between each two and its brackets), and one by one only where the budget
        runs out among them: encoding each row cost more than everything else a row costs."""
        if self.truncated:
            self.seen += len(rows)
            return False
        values = json_rows(rows)
        if values and len(self.rows) + len(values) <= self.max_rows:
            text = dumps(values)
            try:
                size = _utf8_size(text) - 1  # each row and a comma: the list less a bracket
            except UnicodeEncodeError:
                size = self.max_bytes + 1  # the row that cannot be encoded raises below
            if self.used_bytes + size <= self.max_bytes:
                self.seen += len(values)
                self.rows.extend(values)
                self.pieces.append(text[1:-1])
                self.used_bytes += size
                return True
        for row in values:
            self.seen += 1
            if not self._keep(row):
                return False
        return True

    def _keep(self, values: list[Any]) -> bool:
        text = dumps(values)
        size = _utf8_size(text) + 1
        if len(self.rows) >= self.max_rows or self.used_bytes + size > self.max_bytes:
            self.truncated = True
            return False
        self.rows.append(values)
        self.pieces.append(text)
        self.used_bytes += size
        return True

    def rows_json(self) -> str:
        """`dumps(self.rows)`, from the pieces."""
        return f"[{','.join(self.pieces)}]"


@dataclass(frozen=True)
class Rows:
    """What one statement returned."""

    columns: tuple[str, ...]
    rows: list[list[Any]]  # each as JSON carries it (`json_rows`)
    truncated: bool
    status: str  # the server's command tag: SELECT 3, UPDATE 2, ...
    rowcount: int | None  # rows returned or affected, when the server says
    rows_json: str | None = None  # `dumps(rows)`, when the budget has it (RowBudget.rows_json)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "columns": list(self.columns),
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "status": self.status,
        }
        return data

    def json_text(self) -> str:
        """`dumps(self.as_json())`, with the rows' JSON as the budget measured it: encoding
        10,000 rows again cost as much as a sixth of such an answer's time. The rows' place
        is the one `"rows":[]` of the text without them: inside a JSON string every quote is
        escaped, so no column's name can hold it."""
        data = self.as_json()
        if self.rows_json is None:
            return dumps(data)
        data["rows"] = []
        text = dumps(data)
        at = text.index(_NO_ROWS) + len(_NO_ROWS) - 2
        return text[:at] + self.rows_json + text[at + 2 :]


def capped_rows(sql: str, max_bytes: int) -> str:
    """A plain query (SELECT, VALUES, TABLE, WITH … SELECT) whose rows the server sends
    only while each is at most `max_bytes` as the server holds it, and refuses otherwise.

    libpq takes in a whole row before anything can look at it, and holds it twice (its
    buffer and the result): a 500 MB value would cost a gigabyte here. The check runs on the
    server instead, so no such row is ever sent; a row that can never fit an answer loses
    nothing by it. The size is the row's as the server forms it: a value kept compressed in
    the row counts compressed, one kept out of line counts whole. `OFFSET 0` keeps the
    statement a subquery of its own: merged into the check, the server would compute its
    columns again for each reference to the row (4.3 GB and 14 s of the server's for one
    500 MB value, against 1.4 GB and 3 s). The statement comes alone on its lines: the
    guard lets through only text whose quotes, comments and parentheses close within it,
    so it cannot reach out of the subquery. The error's value depends on the row, so the
    planner cannot fold it into an error for every query. The server parses and plans
    this for every call: `format` makes the error's text for less than `||` between text
    and an integer, whose operator is chosen among the polymorphic ones (the server's work
    for a wrapped `select 1`: 39 µs, 32 µs with `format`, here)."""
    size = "pg_catalog.pg_column_size(supalink_row.*)"
    # The agent's statement, checked by the guard, is the subquery: S608's point exactly.
    return (
        "SELECT supalink_row.* FROM (SELECT * FROM (\n"  # noqa: S608
        f"{sql}\n) AS statement OFFSET 0) AS supalink_row "
        f"WHERE CASE WHEN {size} <= {int(max_bytes)} THEN true "
        f"ELSE pg_catalog.format('{ROW_TOO_LARGE} (%s bytes)', {size})::int = 0 END"
    )


def row_too_large(error_text: str, max_bytes: int) -> str:
    """The server's refusal of a large row, in words for the agent."""
    found = _ROW_BYTES.search(error_text)
    size = f" holds {int(found.group(1)):,} bytes, more than" if found else " is larger than"
    return (
        f"a row of the result{size} an answer's {max_bytes // 1000} kB: select fewer or "
        "shorter columns (left(column, 1000), octet_length(column)), and it was not sent"
    )

"""Database values as JSON, and rows as an answer of bounded size."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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


# One encoder for every call: json.dumps with options builds a new one each time, which
# cost more than encoding a row.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> str:
    return _ENCODER.encode(data)


@dataclass
class RowBudget:
    """Rows kept until the count or the byte budget runs out; then only counted."""

    max_rows: int
    max_bytes: int
    rows: list[list[Any]] = field(default_factory=list)
    seen: int = 0
    used_bytes: int = 0
    truncated: bool = False

    def add(self, row: Sequence[Any]) -> bool:
        """Keep the row if it fits; False once the answer is full."""
        self.seen += 1
        if self.truncated:
            return False
        values = [json_value(value) for value in row]
        size = len(dumps(values).encode()) + 1
        if len(self.rows) >= self.max_rows or self.used_bytes + size > self.max_bytes:
            self.truncated = True
            return False
        self.rows.append(values)
        self.used_bytes += size
        return True


@dataclass(frozen=True)
class Rows:
    """What one statement returned."""

    columns: tuple[str, ...]
    rows: list[list[Any]]
    truncated: bool
    status: str  # the server's command tag: SELECT 3, UPDATE 2, ...
    rowcount: int | None  # rows returned or affected, when the server says

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "columns": list(self.columns),
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "status": self.status,
        }
        return data

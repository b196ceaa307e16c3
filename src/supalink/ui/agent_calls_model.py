"""The Agent tab's table: the calls as the audit records them, newest at the bottom, a burst
of refused calls as one row that holds them all, every text as `visible()` shows it (a
statement cannot forge a row with escape or bidi characters).

Rows are added at the bottom and let go at the top, one insert and one remove per read, so a
burst of calls costs one repaint. A row's Result speaks the audit's own vocabulary
(AuditEntry.result: "3 rows", "refused: read-only", "failed: 42P01", "cancelled: …").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from supalink.agent import AuditEntry, Outcome, visible
from supalink.ui.notification_model import LogTableModel
from supalink.ui.panel_parts import FAILURE_BORDER, FAILURE_FILL

MAX_ROWS: Final = 500
COLUMNS: Final = ("Time", "Tool", "Took", "Result", "Statement")
PREVIEW_CHARS: Final = 240
Index = QModelIndex | QPersistentModelIndex
TEXT_ROLES: Final = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)
FAILURE_ROLES: Final = (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole)
RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
# What went wrong, in the banner's red; an answered or cancelled call stays plain.
_FAILURES: Final = frozenset(
    (Outcome.REFUSED, Outcome.FAILED, Outcome.TIMED_OUT, Outcome.BAD_INPUT)
)


def local_time(entry: AuditEntry, *, with_date: bool = False, stamp: str | None = None) -> str:
    at = stamp or entry.at
    epoch = entry.epoch if stamp is None else _epoch(at)
    if epoch is None:
        return visible(at)
    moment = datetime.fromtimestamp(epoch)
    if with_date:
        return moment.isoformat(sep=" ", timespec="milliseconds")
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def one_line(text: str | None) -> str:
    if not text:
        return ""
    cut = text[:PREVIEW_CHARS]
    return visible(" ".join(cut.split())) + ("…" if len(text) > PREVIEW_CHARS else "")


@dataclass
class CallRow:
    """One row: a call, or a burst of refused calls (its first calls, then the entry that
    stands for the rest)."""

    entries: list[AuditEntry] = field(default_factory=list)

    @property
    def first(self) -> AuditEntry:
        return self.entries[0]

    @property
    def last(self) -> AuditEntry:
        return self.entries[-1]

    @property
    def is_burst(self) -> bool:
        return self.first.burst is not None

    @property
    def calls(self) -> int:
        return sum(entry.count for entry in self.entries)

    @property
    def failed(self) -> bool:
        return any(entry.outcome in _FAILURES for entry in self.entries)

    def result(self) -> str:
        if not self.is_burst:
            return self.first.result
        span = _span_seconds(self.first, self.last)
        return f"burst: {self.calls:,} calls {self.last.outcome}" + (
            f" in {span:.0f} s" if span is not None else ""
        )

    def texts(self) -> tuple[str, str, str, str, str]:
        entry = self.last
        took = "" if self.is_burst else f"{entry.duration_ms:,.1f} ms"
        return (
            local_time(self.first),
            visible(entry.tool),
            took,
            visible(self.result()),
            one_line(entry.statement),
        )


def _span_seconds(first: AuditEntry, last: AuditEntry) -> float | None:
    start, end = first.epoch, _epoch(last.last_at) if last.last_at else last.epoch
    return None if start is None or end is None else max(0.0, end - start)


def describe_call(entry: AuditEntry) -> str:
    """The detail pane's text for one call."""
    who = "" if entry.who == "agent" else f" · asked by {entry.who}"
    lines = [
        f"{visible(entry.tool)} at {local_time(entry, with_date=True)}{who}",
        f"Took {entry.duration_ms:,.1f} ms · {visible(entry.result)} · server pid {entry.pid} · "
        + ("writes allowed" if entry.writes else "read-only"),
    ]
    if entry.error is not None:
        lines.append(visible(entry.error))
    if entry.statement_chars is not None:
        lines.append(
            f"The statement held {entry.statement_chars:,} characters (SHA-256 "
            f"{entry.statement_sha256}); its values are shown by length only."
        )
    if entry.statement:
        lines += ["", visible(entry.statement, newlines=True)]
    return "\n".join(lines)


def describe_row(row: CallRow) -> str:
    """The detail pane's text for a row: a call, or a burst with each of its calls."""
    if not row.is_burst:
        return describe_call(row.first)
    lines = [f"{visible(row.result())}, from {local_time(row.first, with_date=True)}", ""]
    for entry in row.entries:
        if entry.is_summary:
            until = local_time(entry, with_date=True, stamp=entry.last_at)
            lines.append(
                f"… and {entry.count:,} more, summarised, until {until}; the last of them:"
            )
        lines.append(f"{local_time(entry)}  {visible(entry.result)}  {one_line(entry.statement)}")
    return "\n".join(lines)


class AgentCallsModel(LogTableModel):
    """The newest `capacity` rows, oldest first; one remove and one insert per read."""

    COLUMN_TITLES = COLUMNS

    def __init__(self, capacity: int = MAX_ROWS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._rows: deque[CallRow] = deque()

    @property
    def failed(self) -> int:
        """Calls held in which something went wrong."""
        return sum(row.calls for row in self._rows if row.failed)

    @property
    def calls(self) -> int:
        """The calls the rows stand for (a burst's row, all of its calls)."""
        return sum(row.calls for row in self._rows)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def add(self, entries: Sequence[AuditEntry]) -> None:
        fresh: list[CallRow] = []
        grown = False
        for entry in entries:
            last = fresh[-1] if fresh else (self._rows[-1] if self._rows else None)
            if last is not None and entry.burst is not None and last.first.burst == entry.burst:
                last.entries.append(entry)
                grown |= not fresh
                continue
            fresh.append(CallRow([entry]))
        if grown:
            corner = self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(len(self._rows) - 1, 0), corner)
        fresh = fresh[-self.capacity :]
        if not fresh:
            return
        gone = len(self._rows) + len(fresh) - self.capacity
        if gone > 0:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            for _ in range(gone):
                self._rows.popleft()
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self.endInsertRows()

    def __len__(self) -> int:
        return len(self._rows)

    def call_row(self, row: int) -> CallRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_at(self, row: int) -> AuditEntry | None:
        """The row's call (a burst's first)."""
        found = self.call_row(row)
        return found.first if found is not None else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        found = self.call_row(index.row()) if index.isValid() else None
        if found is None:
            return None
        column = index.column()
        if role in TEXT_ROLES:
            return found.texts()[column]
        if found.failed and role in FAILURE_ROLES:
            return _failure_color(role, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(found, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return RIGHT
        return None


def _failure_color(role: int, column: int) -> QColor | None:
    """A refused or failed call: the failure banner's colours, which read on dark and light
    alike (the row faintly red, its Result in the banner's red)."""
    if role == Qt.ItemDataRole.BackgroundRole:
        return FAILURE_FILL
    return FAILURE_BORDER if column == 3 else None


def _tooltip(row: CallRow, column: int) -> str | None:
    if row.is_burst:
        return "Select the row to read each call of the burst"
    entry = row.first
    if column == 3 and entry.error is not None:
        return visible(entry.error)
    if column == 4 and entry.statement and len(entry.statement) > PREVIEW_CHARS:
        return "Select the row to read the whole statement"
    return None

"""The notification table's model: the rows of the engine's ring that pass the filter.

It is fed in batches (the engine delivers at most ten a second), each one a single
remove-from-the-top and insert-at-the-bottom, so a flood costs one repaint per batch and
never a model reset per notification. Only a new filter, a clear or the end of a pause
reloads it whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from supalink.monitor.events import Gap, LogRow, Notification

COLUMNS = ("Time", "Channel", "Sender PID", "Payload")
GAP_TEXT_COLUMN = 1  # a gap row's text starts here and spans the columns after it
PREVIEW_CHARS = 240  # a table cell shows the start; the detail pane shows everything
GAP_BACKGROUND = QColor(240, 160, 32, 70)  # translucent amber: reads on dark and light
Index = QModelIndex | QPersistentModelIndex
TEXT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)

RESTART = "server restart"
# What a disconnect message usually means, in a few words for the gap row.
_REASONS = (
    ("administrator command", RESTART),
    ("shutting down", RESTART),
    ("starting up", RESTART),
    ("closed unexpectedly", "connection lost"),
    ("server closed the connection", "connection lost"),
    ("did not answer", "connection went silent"),
    ("connection refused", "server unreachable"),
)


def short_reason(message: str) -> str:
    lowered = message.lower()
    for needle, reason in _REASONS:
        if needle in lowered:
            return reason
    return message if len(message) <= 60 else message[:59] + "…"


def matches(row: LogRow, needle: str) -> bool:
    """The engine's filter rule (EventLog.filtered): channel or payload contains the text,
    case-insensitively; gap markers always stay, as a gap hides rows of every channel."""
    if isinstance(row, Gap) or not needle:
        return True
    return needle in row.channel.casefold() or needle in row.payload.casefold()


def clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


def gap_text(gap: Gap, reason: str | None) -> str:
    """The gap row's text, in its channel cell; the view spans it over the cells after."""
    on = f" on {', '.join(gap.channels)}" if gap.channels else ""
    because = f" ({reason})" if reason else ""
    return f"— not listening{on} for {gap.seconds:.1f} s{because} —"


def pretty_payload(payload: str) -> str:
    """JSON indented for reading, anything else as it came."""
    try:
        value = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(value, dict | list):
        return payload
    return json.dumps(value, indent=2, ensure_ascii=False)


def _one_line(text: str) -> str:
    return " ".join(text[:PREVIEW_CHARS].split()) + ("…" if len(text) > PREVIEW_CHARS else "")


class NotificationModel(QAbstractTableModel):
    def __init__(self, capacity: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self.filter_text = ""
        # A list read from `_start`, compacted now and then: O(1) indexing and eviction.
        self._rows: list[LogRow] = []
        self._start = 0
        self._reasons: dict[Gap, str] = {}
        self._italic = QFont()
        self._italic.setItalic(True)

    # ----- feeding ----------------------------------------------------------------------
    def extend(self, rows: Sequence[LogRow]) -> None:
        """Rows the engine just appended to its ring, in order."""
        needle = self.filter_text.casefold()
        new = [row for row in rows if matches(row, needle)] if needle else list(rows)
        if not new:
            return
        if len(new) >= self.capacity:
            self.reload(new[-self.capacity :])
            return
        overflow = len(self) + len(new) - self.capacity
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for row in self._rows[self._start : self._start + overflow]:
                if isinstance(row, Gap):
                    self._reasons.pop(row, None)
            self._start += overflow
            if self._start >= self.capacity:
                del self._rows[: self._start]
                self._start = 0
            self.endRemoveRows()
        first = len(self)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._rows.extend(new)
        self.endInsertRows()

    def reload(self, rows: Iterable[LogRow]) -> None:
        """Show exactly `rows` (already filtered), e.g. after the filter changed."""
        self.beginResetModel()
        self._rows = list(rows)[-self.capacity :]
        self._start = 0
        kept = {row for row in self._rows if isinstance(row, Gap)}
        self._reasons = {gap: why for gap, why in self._reasons.items() if gap in kept}
        self.endResetModel()

    def set_filter(self, text: str, source: Iterable[LogRow]) -> None:
        self.filter_text = text
        needle = text.casefold()
        self.reload(row for row in source if matches(row, needle))

    def remember_gap(self, gap: Gap, reason: str) -> None:
        """Why the listener was away, shown in the gap's row."""
        self._reasons[gap] = reason

    # ----- reading ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows) - self._start

    def rows(self) -> list[LogRow]:
        return self._rows[self._start :]

    def row_at(self, row: int) -> LogRow | None:
        if 0 <= row < len(self):
            return self._rows[self._start + row]
        return None

    def gap_reason(self, gap: Gap) -> str | None:
        return self._reasons.get(gap)

    # ----- Qt -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        if role in TEXT_ROLES:
            return self._texts(row)[index.column()]
        if isinstance(row, Gap):
            return self._gap_style(row, role)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _texts(self, row: LogRow) -> tuple[str, str, str, str]:
        if isinstance(row, Notification):
            return (clock_time(row.received_at), row.channel, str(row.pid), _one_line(row.payload))
        return (clock_time(row.started_at), gap_text(row, self._reasons.get(row)), "", "")

    def _gap_style(self, gap: Gap, role: int) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole:
            return GAP_BACKGROUND
        if role == Qt.ItemDataRole.FontRole:
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"Not listening from {clock_time(gap.started_at)} to {clock_time(gap.ended_at)}: "
                "notifications sent meanwhile are lost (PostgreSQL does not queue them "
                "for absent listeners)."
            )
        return None


def _tooltip(row: Notification, column: int) -> str | None:
    if column == 0:
        return datetime.fromtimestamp(row.received_at).isoformat(sep=" ")
    if column == 3 and len(row.payload) > PREVIEW_CHARS:
        return "Select the row to read the whole payload"
    return None


def describe_row(row: LogRow, reason: str | None = None) -> str:
    """The detail pane's text for a row."""
    if isinstance(row, Notification):
        when = datetime.fromtimestamp(row.received_at).isoformat(sep=" ", timespec="milliseconds")
        size = len(row.payload.encode())
        header = f"Channel: {row.channel}\nSender PID: {row.pid}\nReceived: {when}\n"
        header += f"Payload ({size:,} bytes):\n\n"
        return header + pretty_payload(row.payload)
    start = datetime.fromtimestamp(row.started_at).isoformat(sep=" ", timespec="milliseconds")
    end = datetime.fromtimestamp(row.ended_at).isoformat(sep=" ", timespec="milliseconds")
    lines = [
        f"Not listening for {row.seconds:.3f} s",
        f"From: {start}",
        f"To:   {end}",
        f"Channels: {', '.join(row.channels) or '(none)'}",
    ]
    if reason:
        lines.append(f"Reason: {reason}")
    lines += ["", "Notifications sent on these channels meanwhile were lost: PostgreSQL does "
              "not queue them for listeners that are not connected."]  # fmt: skip
    return "\n".join(lines)

"""The monitor window's Agent tab: the calls this profile's agent made through
`supalink mcp-serve`, as the audit log records them, live while the window is open.

Idle, it costs nothing: a QFileSystemWatcher on the log and its folder wakes it only when a
server wrote, and then it reads only the appended bytes (supalink.agent.AuditTail). A
rotation replaces the file, so the file is watched afresh after each read. A burst of
calls is read once per READ_DELAY_MS, and the table keeps the newest MAX_ROWS, newest at
the bottom as in the notifications table.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QFileSystemWatcher,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from supalink.agent import AuditEntry, AuditTail
from supalink.errors import os_error_cause
from supalink.ui.monitor_panels import (
    FAILURE_BORDER,
    FAILURE_FILL,
    beside_detail,
    hint_label,
    log_table,
)
from supalink.ui.notification_model import LogTableModel
from supalink.ui.theme import Tone, toned

MAX_ROWS = 500
BACKLOG_BYTES = 256_000  # what an opening window shows from before: a few hundred calls
READ_DELAY_MS = 100
COLUMNS = ("Time", "Tool", "Took", "Result", "Statement")
PREVIEW_CHARS = 240
EMPTY_TEXT = (
    "The agent's calls will appear here once Claude Desktop uses this profile's "
    "supalink server entry."
)
EMPTY_HINT = "Write its config with the supalink server, then quit and restart Claude Desktop."
Index = QModelIndex | QPersistentModelIndex
TEXT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)
FAILURE_ROLES = (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def local_time(entry: AuditEntry, *, with_date: bool = False) -> str:
    epoch = entry.epoch
    if epoch is None:
        return entry.at
    moment = datetime.fromtimestamp(epoch)
    return moment.isoformat(sep=" ", timespec="milliseconds") if with_date else (
        moment.strftime("%H:%M:%S.%f")[:-3]
    )  # fmt: skip


def outcome(entry: AuditEntry) -> str:
    """The Result cell: rows, or the one word for what went wrong (the detail says why)."""
    if entry.error is not None:
        return "refused" if entry.refused else "error"
    if entry.rows is None:
        return "ok"
    rows = f"{entry.rows:,} row{'' if entry.rows == 1 else 's'}"
    return f"{rows}, truncated" if entry.truncated else rows


def one_line(text: str | None) -> str:
    if not text:
        return ""
    return " ".join(text[:PREVIEW_CHARS].split()) + ("…" if len(text) > PREVIEW_CHARS else "")


def describe_call(entry: AuditEntry) -> str:
    """The detail pane's text for a call."""
    lines = [
        f"{entry.tool} at {local_time(entry, with_date=True)}",
        f"Took {entry.duration_ms:,.1f} ms · {outcome(entry)} · server pid {entry.pid} · "
        + ("writes allowed" if entry.writes else "read-only"),
    ]
    if entry.error is not None:
        lines.append(entry.error if entry.refused else f"Error: {entry.error}")
    if entry.statement:
        lines += ["", entry.statement]
    return "\n".join(lines)


def login_text(entry: AuditEntry) -> str:
    """The Agent tab's notice for what a server found when it read its login ("" for an
    agent-sized login: nothing to say)."""
    if entry.error is not None:
        return f"The agent's server refuses its login: {entry.error}"
    if not entry.powers:
        return ""
    lines = [
        "This agent's login can do more than an agent needs, so its server serves it "
        "read-only. What it can do that a role made by Supalink could not:",
        *(f"• {power}" for power in entry.powers),
        "Give the agent a role of its own: Write config… offers one.",
    ]
    return "\n".join(lines)


class AgentCallsModel(LogTableModel):
    """The newest `capacity` calls, oldest first; one remove and one insert per read."""

    COLUMN_TITLES = COLUMNS

    def __init__(self, capacity: int = MAX_ROWS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._rows: deque[AuditEntry] = deque()
        self.failed = 0  # of the rows held

    def add(self, entries: Sequence[AuditEntry]) -> None:
        entries = list(entries)[-self.capacity :]
        if not entries:
            return
        gone = len(self._rows) + len(entries) - self.capacity
        if gone > 0:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            for _ in range(gone):
                self.failed -= self._rows.popleft().error is not None
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
        self._rows.extend(entries)
        self.failed += sum(entry.error is not None for entry in entries)
        self.endInsertRows()

    def __len__(self) -> int:
        return len(self._rows)

    def row_at(self, row: int) -> AuditEntry | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.row_at(index.row()) if index.isValid() else None
        if entry is None:
            return None
        column = index.column()
        if role in TEXT_ROLES:
            return self._texts(entry)[column]
        if entry.error is not None and role in FAILURE_ROLES:
            return _failure_color(role, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(entry, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return RIGHT
        return None

    def _texts(self, entry: AuditEntry) -> tuple[str, str, str, str, str]:
        took = f"{entry.duration_ms:,.1f} ms"
        return (local_time(entry), entry.tool, took, outcome(entry), one_line(entry.statement))


def _failure_color(role: int, column: int) -> QColor | None:
    """A refused or failed call: the failure banner's colours, which read on dark and light
    alike (the row faintly red, its Result in the banner's red)."""
    if role == Qt.ItemDataRole.BackgroundRole:
        return FAILURE_FILL
    return FAILURE_BORDER if column == 3 else None


def _tooltip(entry: AuditEntry, column: int) -> str | None:
    if column == 3 and entry.error is not None:
        return entry.error
    if column == 4 and entry.statement and len(entry.statement) > PREVIEW_CHARS:
        return "Select the row to read the whole statement"
    return None


class AgentPanel(QWidget):
    def __init__(
        self, audit_file: Path | None, profile: str | None, parent: QWidget | None = None
    ) -> None:
        """`audit_file`: where the servers record their calls (None: nowhere to look, the
        empty state stays); `profile`: whose calls to show (None: every server's)."""
        super().__init__(parent)
        self.audit_file = audit_file
        self.model = AgentCallsModel(parent=self)
        self._build()
        self._read_timer = QTimer(self)
        self._read_timer.setSingleShot(True)
        self._read_timer.setInterval(READ_DELAY_MS)
        self._read_timer.timeout.connect(self.read_new)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._changed)
        self.watcher.directoryChanged.connect(self._changed)
        self._tail: AuditTail | None = None
        if audit_file is not None:
            self._tail = AuditTail(audit_file, profile=profile, backlog_bytes=BACKLOG_BYTES)
            self.read_new()

    def _build(self) -> None:
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        self.empty_text = QLabel(EMPTY_TEXT)
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_hint = hint_label(EMPTY_HINT)
        empty_hint.setWordWrap(True)
        empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_text)
        empty_layout.addWidget(empty_hint)
        empty_layout.addStretch(2)

        self.table = log_table(
            self.model, "Agent calls", self.fontMetrics().height() + 8, (100, 110, 84, 170)
        )
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.detail, split = beside_detail(
            self.table, "Call detail", "Select a call to read its statement and result", (760, 340)
        )

        self.pages = QStackedWidget()
        self.pages.addWidget(empty)
        self.pages.addWidget(split)
        self.counts = hint_label()
        self.counts.setAccessibleName("Agent calls shown")
        self.problem = toned(QLabel(), Tone.ERROR)
        self.problem.setWordWrap(True)
        self.problem.hide()
        # What the agent's server found when it read its login: shown while the newest
        # server says its login can do more than an agent needs, or was refused.
        self.login_notice = toned(QLabel(), Tone.ERROR)
        self.login_notice.setWordWrap(True)
        self.login_notice.setAccessibleName("The agent's login")
        self.login_notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.login_notice.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.login_notice)
        layout.addWidget(self.counts)
        layout.addWidget(self.problem)
        layout.addWidget(self.pages, 1)
        self._show_counts()

    # ----- following the log ------------------------------------------------------------
    def read_new(self) -> None:
        """Take in what the servers appended, then watch the log as it is now."""
        self._read_timer.stop()
        if self._tail is None:
            return
        try:
            entries = self._tail.read_new()
        except OSError as error:
            cause = os_error_cause(error, Path(self.audit_file or ""), "read")
            self.problem.setText(f"Cannot read the audit log {self.audit_file}: {cause}")
            self.problem.show()
            entries = []
        else:
            self.problem.hide()
        logins = [entry for entry in entries if entry.is_login]
        if logins:
            self._show_login(logins[-1])
            entries = [entry for entry in entries if not entry.is_login]
        if entries:
            bar = self.table.verticalScrollBar()
            following = bar.value() >= bar.maximum() - 2
            self.model.add(entries)
            if following:
                self.table.scrollToBottom()
            self._show_counts()
        self._watch()

    def _show_login(self, entry: AuditEntry) -> None:
        text = login_text(entry)
        self.login_notice.setText(text)
        self.login_notice.setVisible(bool(text))

    def stop(self) -> None:
        """Stop watching (the window closed): nothing reads the log any more."""
        self._tail = None
        self._read_timer.stop()
        watched = self.watcher.files() + self.watcher.directories()
        if watched:
            self.watcher.removePaths(watched)

    def _changed(self, _: str) -> None:
        if not self._read_timer.isActive():
            self._read_timer.start()

    def _watch(self) -> None:
        """The log's folder (or, until it exists, the nearest folder above it) and the log
        itself once it is there: a rotation replaces the file, which drops its watch."""
        if self.audit_file is None or self._tail is None:
            return
        folder = self.audit_file.parent
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        wanted = [str(folder)] + ([str(self.audit_file)] if self.audit_file.is_file() else [])
        stale = [path for path in self.watcher.directories() if path != str(folder)]
        if stale:
            self.watcher.removePaths(stale)
        missing = [path for path in wanted if path not in self._watched()]
        if missing:
            self.watcher.addPaths(missing)

    def _watched(self) -> set[str]:
        return set(self.watcher.files()) | set(self.watcher.directories())

    def _show_counts(self) -> None:
        shown = len(self.model)
        self.pages.setCurrentIndex(1 if shown else 0)
        self.counts.setVisible(shown > 0)  # the empty page says it all
        text = f"{shown:,} call{'' if shown == 1 else 's'} shown"
        if shown == self.model.capacity:
            text += " (the newest)"
        if self.model.failed:
            text += f" · {self.model.failed:,} refused or failed"
        self.counts.setText(text)

    def _selection_changed(self, selected: QItemSelection, _: QItemSelection) -> None:
        indexes = selected.indexes()
        entry = self.model.row_at(indexes[0].row()) if indexes else None
        if entry is not None:
            self.detail.setPlainText(describe_call(entry))

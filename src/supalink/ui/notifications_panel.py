"""The monitor window's notification half: channels, the live table with gap rows, the
detail pane, and filter, pause, clear, export and "send test notification".

Counting never stops: a pause freezes only the table, and a clear empties only the rows
(the engine's log, which the table is a view of); the totals and the rate keep covering
everything received.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
from PySide6.QtCore import (
    QItemSelection,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from supalink.errors import FileFault, SupalinkError
from supalink.monitor import MonitorEngine, check_channel
from supalink.ui.live_table import LiveTable
from supalink.ui.log_table import beside_detail, log_table
from supalink.ui.notification_model import (
    COLUMNS,
    GAP_TEXT_COLUMN,
    NotificationDelegate,
    NotificationModel,
    describe_row,
)
from supalink.ui.panel_parts import NARROW_TEXT, hint_label, scrolled
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import RoomyRows, Tone, toned
from supalink.ui.wrapping_row import WrappingRow

FILTER_DELAY_MS = 150  # typing a word refilters once, not once per letter
EXPORT_FILTERS = "JSON Lines (*.jsonl);;CSV (*.csv)"
COUNTS_SHRINK = 0.7  # the counts' label narrows once its text needs less than this of it


class NotificationsPanel(QWidget):
    message = Signal(str)  # one line for the window's status bar
    channels_changed = Signal()  # the person added or removed a channel (the app's session)

    def __init__(
        self, engine: MonitorEngine, tasks: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.tasks = tasks
        self.model = NotificationModel(engine.log, self)
        self._total_at_pause = 0
        self._build()
        self._build_actions()
        for channel in engine.listener.channels:
            self._add_item(channel)
        self.refresh_counts()

    # ----- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.channels = QListWidget()
        self.channels.setItemDelegate(RoomyRows(self.channels))
        # Each count's change relays the list out: one row measured, not every row.
        self.channels.setUniformItemSizes(True)
        self.channels.setAccessibleName("Channels")
        self.channels.setToolTip("The channels listened on, with what each received")
        self.channel_name = QLineEdit()
        self.channel_name.setPlaceholderText("channel (any name)")
        self.channel_name.setAccessibleName("New channel name")
        self.channel_name.returnPressed.connect(self.add_channel)
        self.channel_message = toned(QLabel(), Tone.ERROR)
        self.channel_message.setWordWrap(True)
        self.channel_message.hide()
        self.add_button = QToolButton()
        self.remove_button = QToolButton()
        self.listening = hint_label("Not listening: add a channel")
        self.listening.setWordWrap(True)
        self.listening.setMinimumWidth(NARROW_TEXT)  # more lines, not a wider column
        channel_buttons = QHBoxLayout()
        channel_buttons.addWidget(self.add_button)
        channel_buttons.addWidget(self.remove_button)
        channel_buttons.addStretch(1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        channels_label = QLabel("C&hannels")
        channels_label.setBuddy(self.channels)
        side_layout.addWidget(channels_label)
        side_layout.addWidget(self.channels, 1)
        side_layout.addWidget(self.channel_name)
        side_layout.addWidget(self.channel_message)
        side_layout.addLayout(channel_buttons)
        side_layout.addWidget(self.listening)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by channel or payload  (Ctrl+F)")
        self.filter.setAccessibleName("Filter notifications")
        self.filter.setClearButtonEnabled(True)
        # Room to type a word: in a narrow window the counts take a line of their own instead.
        self.filter.setMinimumWidth(self.fontMetrics().horizontalAdvance("Filter by channel"))
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(self._filter_timer.start)
        self.pause_button = QToolButton()
        self.clear_button = QToolButton()
        self.export_button = QToolButton()
        self.send_button = QToolButton()
        self.counts = QLabel()
        self.counts.setAccessibleName("Notification rate and totals")
        # Opaque, so that its repaint on every batch does not repaint the five widgets
        # under it as well (it is drawn on the same Window colour they fill with).
        self.counts.setAutoFillBackground(True)
        tools = (self.pause_button, self.clear_button, self.export_button, self.send_button)
        # The counts go under the filter when both do not fit (1024x768 at 200 %).
        bar = WrappingRow([self.filter, *tools], [self.counts], stretch=self.filter, gap=8)

        self.table = LiveTable()
        log_table(
            self.model, "Notifications", self.fontMetrics().height() + 8, (100, 140, 84), self.table
        )
        self.table.setItemDelegate(NotificationDelegate(self.model, self.table))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        # Gap rows read across the row; the view keeps spans through removals, not resets.
        self.model.rowsInserted.connect(lambda _, first, last: self._span_gaps(first, last))
        self.model.modelReset.connect(self._respan_gaps)
        self.detail, split = beside_detail(
            self.table,
            "Notification detail",
            "Select a notification to read its payload",
            (700, 300),
        )
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(bar)
        main_layout.addWidget(split, 1)

        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(scrolled(side))  # a small screen's window is lower than the column
        outer.setChildrenCollapsible(False)
        outer.addWidget(main)
        outer.setStretchFactor(1, 1)
        outer.setSizes([210, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: str | QKeySequence.StandardKey, slot: object) -> QAction:
            made = QAction(text, self)
            made.setShortcut(QKeySequence(shortcut))
            made.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            made.setToolTip(f"{text.replace('&', '').rstrip('…')} ({made.shortcut().toString()})")
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        self.add_action = action("&Add channel", "Ctrl+N", self.add_channel)
        self.remove_action = action("&Remove channel", "Delete", self.remove_channel)
        # Delete removes a channel only from the channel list, never while typing elsewhere.
        self.removeAction(self.remove_action)
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.channels.addAction(self.remove_action)
        self.filter_action = action("&Filter", QKeySequence.StandardKey.Find, self.focus_filter)
        self.pause_action = action("&Pause", "Ctrl+P", self.set_paused)
        self.pause_action.setCheckable(True)
        self.clear_action = action("C&lear", "Ctrl+L", self.clear)
        self.export_action = action("&Export…", "Ctrl+E", self.export)
        self.send_action = action("Send &test notification", "Ctrl+T", self.send_test)
        self.send_action.setIconText("Send test")
        buttons = (
            (self.add_button, self.add_action, "Add"),
            (self.remove_button, self.remove_action, "Remove"),
            (self.pause_button, self.pause_action, None),
            (self.clear_button, self.clear_action, None),
            (self.export_button, self.export_action, None),
            (self.send_button, self.send_action, None),
        )
        for button, made, short in buttons:
            button.setDefaultAction(made)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAccessibleName(made.text().replace("&", "").rstrip("…"))
            if short:
                button.setText(short)

    def actions_for_menu(self) -> list[QAction | None]:
        """The Notifications menu's actions, None for a separator."""
        channels = [self.add_action, self.remove_action]
        log = [self.filter_action, self.pause_action, self.clear_action, self.export_action]
        return [*channels, None, *log, None, self.send_action]

    # ----- fed by the window ------------------------------------------------------------
    def show_new_rows(self) -> None:
        """Once per batch: the table catches up with the engine's log, and follows the
        newest rows when it was scrolled to the bottom."""
        bar = self.table.scroll_bar
        following = bar.value() >= bar.maximum() - 2
        if self.model.refresh() and following and not self.model.paused:
            self.table.scrollToBottom()
        self.refresh_counts()

    def listener_disconnected(self, error: str) -> None:
        self.listening.setText(f"Reconnecting: {error}")

    def listening_on(self, channels: Sequence[str], pid: int) -> None:
        if channels:
            names = ", ".join(channels)
            self.listening.setText(f"Listening on {names} (server pid {pid})")
        else:
            self.listening.setText("Not listening: add a channel")

    def refresh_counts(self) -> None:
        log = self.engine.log
        parts = [f"{log.rate():,.0f}/s", f"{log.total:,} received"]
        if log.gaps:
            parts.append(f"{log.gaps} gap{'s' if log.gaps != 1 else ''}")
        if self.model.paused:
            paused = f"paused, {log.total - self._total_at_pause:,} new"
            if self.model.paused_dropped:  # a pause holds twice the log's rows at most
                paused += f", oldest {self.model.paused_dropped:,} paused rows let go"
            parts.append(paused)
        else:
            parts.append(f"{len(self.model):,} shown")
        self._show_counts(" · ".join(parts))
        changed = False
        for index in range(self.channels.count()):
            item = self.channels.item(index)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            text = f"{name}  ·  {log.per_channel.get(name, 0):,}"
            if item.text() != text:
                item.setText(text)
                changed = True
        if changed:
            # The list lays itself out again on the next turn of the loop, and its repaint
            # then came in a window repaint of its own (0.3 ms a notification): now, with
            # the table's and the counts'.
            self.channels.executeDelayedItemsLayout()

    def _show_counts(self, text: str) -> None:
        """The counts change with every batch, and a label whose size may change has the
        window's layout redone and the whole panel repainted (3 ms a batch here, most of
        what a notification cost). Of fixed size, only the label repaints: its width
        only grows, then, unless the text needs far less."""
        if text == self.counts.text():
            return
        self.counts.setText(text)
        wanted = self.counts.sizeHint()
        width = self.counts.maximumWidth()
        if wanted.width() > width or wanted.width() < width * COUNTS_SHRINK:
            self.counts.setFixedSize(wanted)

    # ----- actions ------------------------------------------------------------------------
    def add_channel(self) -> None:
        name = self.channel_name.text()
        if not name:
            self.channel_name.setFocus()
            return
        try:
            check_channel(name)
        except SupalinkError as error:
            self.channel_message.setText(str(error))
            self.channel_message.show()
            return
        self.channel_message.hide()
        if name not in self.engine.listener.channels:
            self.engine.add_channel(name)
            self._add_item(name)
            self.channels_changed.emit()
        self.channel_name.clear()
        self.refresh_counts()

    def remove_channel(self) -> None:
        item = self.channels.currentItem()
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        self.engine.remove_channel(name)
        self.channels.takeItem(self.channels.row(item))
        self.channels_changed.emit()

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def apply_filter(self) -> None:
        self._filter_timer.stop()
        self.model.set_filter(self.filter.text())
        self.table.scrollToBottom()
        self.refresh_counts()

    def set_paused(self, paused: bool) -> None:
        self.pause_action.setChecked(paused)
        self.pause_action.setText("Resume" if paused else "&Pause")
        if paused:
            self._total_at_pause = self.engine.log.total
        self.model.set_paused(paused)
        if not paused:
            if self._filter_timer.isActive():  # typed while paused: apply it now
                self.apply_filter()
            self.table.scrollToBottom()
        self.refresh_counts()

    def clear(self) -> None:
        self.model.clear()
        self.detail.clear()
        self.refresh_counts()

    def export(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        default = str(Path.home() / f"supalink-notifications-{stamp}.jsonl")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export notifications", default, EXPORT_FILTERS
        )
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() not in (".csv", ".jsonl", ".json"):
            target = target.with_suffix(".csv" if chosen.startswith("CSV") else ".jsonl")
        self.export_to(target)

    def export_to(self, path: Path) -> int:
        """Write the rows the table shows (filtered, or frozen by a pause)."""
        rows = self.model.rows()
        try:
            if path.suffix.lower() == ".csv":
                count = self.engine.log.export_csv(path, rows)
            else:
                count = self.engine.log.export_jsonl(path, rows)
        except OSError as error:
            QMessageBox.warning(self, "Export", str(FileFault.of("write", path, error)))
            return 0
        self.message.emit(f"Exported {count:,} rows to {path}")
        return count

    def send_test(self) -> None:
        item = self.channels.currentItem() or self.channels.item(0)
        if item is None:
            self.message.emit("Add a channel first: a test notification is sent on one")
            self.channel_name.setFocus()
            return
        self.tasks.run("send-test", self._send_test(str(item.data(Qt.ItemDataRole.UserRole))))

    async def _send_test(self, channel: str) -> None:
        try:
            await self.engine.send_test_notification(channel)
        except (SupalinkError, psycopg.Error) as error:
            self.message.emit(f"Test notification not sent: {error}")
            return
        self.message.emit(f"Sent a test notification on {channel}")

    # ----- internals ----------------------------------------------------------------------
    def _add_item(self, channel: str) -> None:
        item = QListWidgetItem(channel)
        item.setData(Qt.ItemDataRole.UserRole, channel)
        item.setToolTip(channel)
        self.channels.addItem(item)
        self.channels.setCurrentItem(item)

    def _span_gaps(self, first: int, last: int) -> None:
        width = len(COLUMNS) - GAP_TEXT_COLUMN
        for row in self.model.gap_rows(first, last):
            self.table.setSpan(row, GAP_TEXT_COLUMN, 1, width)

    def _respan_gaps(self) -> None:
        self.table.clearSpans()
        self._span_gaps(0, len(self.model) - 1)

    def _selection_changed(self, selected: QItemSelection, _: QItemSelection) -> None:
        indexes = selected.indexes()
        row = self.model.row_at(indexes[0].row()) if indexes else None
        if row is None:
            return
        self.detail.setPlainText(describe_row(row))

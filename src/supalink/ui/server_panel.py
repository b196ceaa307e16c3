"""The monitor window's server panel: who holds the server's connections (pg_stat_activity
grouped), how many of max_connections are in use and which Supabase compute size that is,
and how full the NOTIFY queue is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from supalink.monitor import COMPUTE_SIZES, ServerSnapshot
from supalink.ui.panel_parts import NARROW_TEXT, clock, hint_label
from supalink.ui.theme import Tone, toned


def compute_size_line(snapshot: ServerSnapshot) -> str:
    sizes = snapshot.compute_sizes
    if sizes:
        names = " or ".join(size.name for size in sizes)
        first = sizes[0]
        return (
            f"Supabase compute size {names}: {first.max_connections} connections, "
            f"{first.pooler_clients:,} pooler clients"
        )
    fits = next((s for s in COMPUTE_SIZES if s.max_connections > snapshot.connections), None)
    line = f"max_connections {snapshot.max_connections} matches no Supabase compute size"
    if fits is not None:
        line += (
            f"; {snapshot.connections} connections would fit {fits.name} ({fits.max_connections})"
        )
    return line


class ServerPanel(QGroupBox):
    """pg_stat_activity grouped, max_connections use, NOTIFY queue usage."""

    def __init__(self, parent: QWidget | None = None, *, supabase: bool = True) -> None:
        super().__init__("Server", parent)
        # Supabase's compute sizes mean nothing for another host's max_connections.
        self.supabase = supabase
        self.connections = QProgressBar()
        self.connections.setAccessibleName("Server connections in use")
        self.connections.setTextVisible(True)
        self.compute = hint_label("Waiting for the first server view…")
        self.compute.setWordWrap(True)
        self.compute.setMinimumWidth(NARROW_TEXT)
        self.queue = QProgressBar()
        self.queue.setAccessibleName("NOTIFY queue usage")
        self.queue.setRange(0, 1000)
        self.queue.setValue(0)
        self.queue.setFormat("…")
        self.activity = QTableWidget(0, 3)
        self.activity.setHorizontalHeaderLabels(["Application", "State", "Connections"])
        self.activity.setAccessibleName("Server connections by application and state")
        self.activity.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.activity.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.activity.verticalHeader().hide()
        self.activity.setAlternatingRowColors(True)
        header = self.activity.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.updated = hint_label()
        self.updated.setWordWrap(True)
        self.updated.setMinimumWidth(NARROW_TEXT)
        self.old = False
        self._snapshot_at: float | None = None
        layout = QVBoxLayout(self)
        connections = QLabel("Connections (of those ordinary roles may open)")
        connections.setWordWrap(True)  # the panel may be narrow: two lines, not wider
        connections.setMinimumWidth(NARROW_TEXT)
        layout.addWidget(connections)
        layout.addWidget(self.connections)
        layout.addWidget(self.compute)
        layout.addSpacing(4)
        layout.addWidget(QLabel("NOTIFY queue"))
        layout.addWidget(self.queue)
        layout.addSpacing(4)
        layout.addWidget(self.activity, 1)
        layout.addWidget(self.updated)

    def mark_old(self, since: float) -> None:
        """The figures shown were read before the server stopped answering: say so, and
        grey them, until the next snapshot."""
        if self._snapshot_at is None or self.old:
            return
        self.old = True
        for widget in (self.connections, self.queue, self.activity):
            widget.setEnabled(False)
        self.updated.setText(
            f"Old: pg_stat_activity at {clock(self._snapshot_at)}; "
            f"no answer from the server since {clock(since)}"
        )
        toned(self.updated, Tone.ERROR)

    def show_snapshot(self, snapshot: ServerSnapshot) -> None:
        self._snapshot_at = snapshot.at
        if self.old:
            self.old = False
            for widget in (self.connections, self.queue, self.activity):
                widget.setEnabled(True)
            toned(self.updated, Tone.HINT)
        available = max(1, snapshot.available_connections)
        self.connections.setRange(0, available)
        self.connections.setValue(min(snapshot.connections, available))
        self.connections.setFormat(
            f"{snapshot.connections} of {snapshot.available_connections} ({snapshot.usage:.0%}) "
            f"· max_connections {snapshot.max_connections}, "
            f"{snapshot.reserved_connections} reserved"
        )
        self.compute.setText(compute_size_line(snapshot))
        self.compute.setVisible(self.supabase)
        self.queue.setValue(round(snapshot.notification_queue_usage * 1000))
        self.queue.setFormat(f"{snapshot.notification_queue_usage:.1%} used")
        self.activity.setRowCount(len(snapshot.groups))
        for row, group in enumerate(snapshot.groups):
            cells = (group.application_name or "(no name)", group.state, str(group.count))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.activity.setItem(row, column, item)
        self.updated.setText(f"pg_stat_activity at {clock(snapshot.at)}")


__all__ = ["ServerPanel", "compute_size_line"]

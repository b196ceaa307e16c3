"""The monitor window's pool panel: the pool's figures as tiles, their chart, the sizes the
person may change, and what the monitor costs the server."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSize, Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from supalink.monitor import MONITOR_POOL_MAX_IDLE_SECONDS, StatsSample
from supalink.ui.panel_parts import NARROW_TEXT, Card, hint_label
from supalink.ui.stats_chart import StatsChart
from supalink.ui.wrapping_row import WrappingRow


class StatTile(Card):
    def __init__(self, caption: str, tip: str) -> None:
        super().__init__()
        self.value = QLabel("…")
        font = QFont(self.value.font())
        font.setPointSizeF(15)
        font.setWeight(QFont.Weight.DemiBold)
        self.value.setFont(font)
        self.caption = hint_label(caption)
        self.setToolTip(tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.setAccessibleName(caption)

    def set(self, text: str) -> None:
        self.value.setText(text)
        self.setAccessibleDescription(text)


TILES = (
    ("size", "size", "Connections open or being opened, of the maximum"),
    ("idle", "idle", "Open connections waiting in the pool"),
    ("in_use", "in use", "Connections checked out right now"),
    ("waiting", "waiting", "Requests waiting for a connection"),
    ("requests", "requests", "Connections handed out since the monitor started"),
    ("errors", "errors", "Failed requests and failed connection attempts"),
    ("connections_lost", "lost", "Connections found broken and replaced"),
    ("avg_wait_ms", "avg wait", "Average wait for a connection over the last second"),
)


# The tiles four across, or two across when the panel is narrower than four (1024x768 at
# 200 %): more rows in the panel's scroll area rather than a sideways scroll.
WIDE_COLUMNS = 4
NARROW_COLUMNS = 2


class PoolPanel(QGroupBox):
    resize_requested = Signal(int, int)

    def __init__(self, min_size: int, max_size: int, parent: QWidget | None = None) -> None:
        super().__init__("Pool", parent)
        self.tiles = {key: StatTile(caption, tip) for key, caption, tip in TILES}
        self.grid = grid = QGridLayout()
        grid.setSpacing(6)
        self.columns = 0
        self._place_tiles(WIDE_COLUMNS)
        self.chart = StatsChart()
        self.min_size = QSpinBox()
        self.max_size = QSpinBox()
        for spin, name in (
            (self.min_size, "Minimum pool size"),
            (self.max_size, "Maximum pool size"),
        ):
            spin.setRange(0 if spin is self.min_size else 1, 1000)
            spin.setAccessibleName(name)
        # What min and max mean here, where a person decides them.
        self.min_size.setToolTip(
            "Connections kept open while idle, ready for the next check. One is enough for "
            "a monitor: it runs a SELECT 1 a minute and reads the server view every 10 s."
        )
        self.max_size.setToolTip(
            f"The most it opens when reads overlap (a check during a slow server view or a "
            f"test NOTIFY); those above the minimum close after "
            f"{MONITOR_POOL_MAX_IDLE_SECONDS:g} s unused. The listener holds one more, "
            "outside the pool."
        )
        self.min_size.setValue(min_size)
        self.max_size.setValue(max_size)
        self.apply_button = QPushButton("&Apply")
        self.apply_button.setAccessibleName("Apply pool sizes")
        self.apply_button.clicked.connect(self._apply)
        self.state = hint_label()
        min_label = QLabel("Mi&n")
        min_label.setBuddy(self.min_size)
        max_label = QLabel("Ma&x")
        max_label.setBuddy(self.max_size)
        fields = (min_label, self.min_size, max_label, self.max_size)
        # Apply under the fields when the panel is narrow (1024x768 at 200 %).
        sizes = WrappingRow(fields, [self.apply_button], at_right=False)
        self.cost = hint_label()
        self.cost.setAccessibleName("What this monitor costs the server")
        self.cost.setWordWrap(True)
        self.cost.setMinimumWidth(NARROW_TEXT)
        self.cost.setToolTip(
            "Each connection holds a server backend, directly or through the session "
            "pooler (where it also takes one of the pooler's pool size). Every client of "
            "this database shares the compute size's limit."
        )
        self.column = layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.chart, 1)
        layout.addWidget(sizes)
        layout.addWidget(self.state)  # a line of its own: the panel may be narrow
        layout.addWidget(self.cost)

    def _place_tiles(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for position, tile in enumerate(self.tiles.values()):
            self.grid.addWidget(tile, position // columns, position % columns)
        self.updateGeometry()

    def _tiles_width(self, columns: int) -> int:
        tiles = list(self.tiles.values())
        widest = [
            max(tile.minimumSizeHint().width() for tile in tiles[column::columns])
            for column in range(columns)
        ]
        return sum(widest) + self.grid.spacing() * (columns - 1)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the tiles in two columns: a scroll area then narrows the panel to the
        width it has, which fits two columns rather than scrolling sideways."""
        hint = super().minimumSizeHint()
        spare = self._tiles_width(self.columns) - self._tiles_width(NARROW_COLUMNS)
        return QSize(hint.width() - spare, hint.height())

    def _fit_tiles(self) -> None:
        margins = self.column.contentsMargins()
        room = self.contentsRect().width() - margins.left() - margins.right()
        wide = self._tiles_width(WIDE_COLUMNS) <= room
        self._place_tiles(WIDE_COLUMNS if wide else NARROW_COLUMNS)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_tiles()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # a figure grew wider: still 4 across?
            self._fit_tiles()
        return super().event(event)

    def show_cost(self, line: str) -> None:
        self.cost.setText(line)

    def _apply(self) -> None:
        self.resize_requested.emit(self.min_size.value(), self.max_size.value())

    def show_sample(self, sample: StatsSample) -> None:
        figures = {
            "size": f"{sample.size} / {sample.max_size}",
            "idle": str(sample.idle),
            "in_use": str(sample.in_use),
            "waiting": str(sample.waiting),
            "requests": f"{sample.requests:,}",
            "errors": f"{sample.errors:,}",
            "connections_lost": f"{sample.connections_lost:,}",
            "avg_wait_ms": f"{sample.avg_wait_ms:.1f} ms",
        }
        for key, text in figures.items():
            self.tiles[key].set(text)
        self.state.setText(f"pool {sample.state} · min {sample.min_size}, max {sample.max_size}")

    def show_history(self, samples: Sequence[StatsSample]) -> None:
        self.chart.show_history(samples)


__all__ = ["TILES", "PoolPanel", "StatTile"]

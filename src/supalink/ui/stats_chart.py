"""The pool chart: size, in use, idle and waiting over the last minutes (pyqtgraph).

Redrawn from the engine's bounded history once per stats sample (1 Hz): a few hundred
points per curve, so a redraw costs next to nothing and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from supalink.monitor.stats import StatsSample
from supalink.ui.theme import ACCENT

# (attribute, legend label, colour, dashed): colours that read on dark and light alike.
SERIES = (
    ("size", "size", "#7c8aa5", True),
    ("in_use", "in use", ACCENT, False),
    ("idle", "idle", "#4c9aff", False),
    ("waiting", "waiting", "#f0a020", False),
)


MIN_SPAN_SECONDS = 60.0


class StatsChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis = pg.DateAxisItem(orientation="bottom")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.axis})
        self.plot.setAccessibleName("Pool connections over time")
        self.plot.setMinimumHeight(150)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("left", "connections")
        self.legend = item.addLegend(offset=(8, 4), colCount=len(SERIES))
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key, label, color, dashed in SERIES:
            pen = pg.mkPen(color, width=2)
            if dashed:
                pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
            self.curves[key] = self.plot.plot([], [], pen=pen, name=label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._apply_palette()

    def show_history(self, samples: Sequence[StatsSample]) -> None:
        if not samples:
            for curve in self.curves.values():
                curve.setData([], [])
            return
        times = [sample.at for sample in samples]
        for key, curve in self.curves.items():
            curve.setData(times, [getattr(sample, key) for sample in samples])
        top = max(max(s.max_size, s.size + s.waiting) for s in samples)
        self.plot.setYRange(0, max(1, top) * 1.1, padding=0)
        # At least a minute across, so a young monitor reads as clock times, not fractions.
        self.plot.setXRange(min(times[0], times[-1] - MIN_SPAN_SECONDS), times[-1], padding=0.02)

    def points(self, key: str) -> list[float]:
        """The y values a curve draws (for tests and accessibility checks)."""
        _, ys = self.curves[key].getData()
        return [] if ys is None else [float(y) for y in ys]

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)

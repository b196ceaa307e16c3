"""The pool chart: size, in use, idle and waiting over the last minutes (pyqtgraph).

Drawn from the engine's bounded history (a few hundred points per curve, so memory stays
flat). A redraw repaints the axes and grid, which is most of what an idle monitor window
costs: so the chart redraws at once when a plotted figure changes, but while the pool is
steady it only scrolls every few seconds, and not at all while the window is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from supalink.monitor import StatsSample
from supalink.ui.theme import ACCENT

# (attribute, legend label, colour, dashed): colours that read on dark and light alike.
SERIES = (
    ("size", "size", "#7c8aa5", True),
    ("in_use", "in use", ACCENT, False),
    ("idle", "idle", "#4c9aff", False),
    ("waiting", "waiting", "#f0a020", False),
)


MIN_SPAN_SECONDS = 60.0
# While nothing plotted changes, scroll the time axis this often (seconds of sample time).
# A redraw and its repaint cost some 15 ms here: every 5 s they were 0.35-0.45 % of a
# core, most of what an idle monitor window costs (0.5-0.6 %); every 15 s, a third.
STEADY_REDRAW_SECONDS = 15.0


def plotted_figures(sample: StatsSample) -> tuple[int, ...]:
    return (sample.size, sample.in_use, sample.idle, sample.waiting, sample.max_size)


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
        self._pending: Sequence[StatsSample] = ()
        self._drawn: StatsSample | None = None
        self.redraws = 0

    def show_history(self, samples: Sequence[StatsSample]) -> None:
        """Draw `samples` now if that shows something new, else keep them for later."""
        self._pending = samples
        showing = self.isVisible() and not self.window().isMinimized()
        if showing and self._worth_redrawing():
            self._draw()

    def _worth_redrawing(self) -> bool:
        drawn, samples = self._drawn, self._pending
        if drawn is None or not samples:
            return True
        latest = samples[-1]
        return (
            plotted_figures(latest) != plotted_figures(drawn)
            or latest.at - drawn.at >= STEADY_REDRAW_SECONDS
            or latest.at < drawn.at  # a new history (the monitor restarted)
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Catch up with what arrived while hidden or minimised.
        if self._pending:
            self._draw()

    def _draw(self) -> None:
        samples = self._pending
        self.redraws += 1
        self._drawn = samples[-1] if samples else None
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

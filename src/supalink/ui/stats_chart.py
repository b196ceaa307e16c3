"""The pool chart: size, in use, idle and waiting over the last minutes (QPainter).

Drawn from the engine's bounded history (a few hundred points per curve, so memory stays
flat). A redraw rebuilds the curves, ticks and labels in widget coordinates, as a resize
does, and a paint only draws what they built: paints run on the event loop, in Python.
The chart redraws at once when a plotted figure changes, but while the pool is steady it
only scrolls every few seconds, and not at all while the window is hidden.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QResizeEvent,
    QShowEvent,
    QTransform,
)
from PySide6.QtWidgets import QWidget

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
# With pyqtgraph a redraw and its repaint cost some 15 ms: every 5 s they were 0.35-0.45 %
# of a core, most of what an idle monitor window cost (0.5-0.6 %). Drawn with QPainter they
# cost about 2.5 ms (300 samples, 900x220), but each still wakes Qt's paint path.
STEADY_REDRAW_SECONDS = 15.0

# The x range's margin on each side, as a share of the span (pyqtgraph's padding=0.02).
X_PADDING = 0.02
GRID_ALPHA = 0.15
TICK_LENGTH = 4
# Time axis steps (seconds), the first that leaves room between two labels wins.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
LABEL_GAP = 12.0  # pixels between two time labels, at least
AXIS_TITLE = "connections"
# Low enough for the monitor to fit 1366x768 at 200 % (its panel scrolls), high enough for
# the curves and the time labels to read.
MINIMUM_HEIGHT = 90


def plotted_figures(sample: StatsSample) -> tuple[int, ...]:
    return (sample.size, sample.in_use, sample.idle, sample.waiting, sample.max_size)


def time_step(span: float, width: float, long_label: float, short_label: float) -> int:
    """The smallest step whose labels (HH:MM:SS under a minute, else HH:MM, `long_label`
    and `short_label` pixels wide) stand apart when `span` seconds take `width` pixels."""
    for step in TIME_STEPS:
        label = long_label if step < 60 else short_label
        if step / span * width >= label + LABEL_GAP:
            return step
    return TIME_STEPS[-1]


def count_step(top: float, height: float, label_height: float) -> int:
    """An integer step (1, 2, 5, 10, 20, 50, ...) whose labels stand apart when `top`
    connections take `height` pixels."""
    step = 1
    while step / top * height < 1.5 * label_height:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


def curve(times: Sequence[float], ys: Sequence[float], origin: float) -> QPolygonF:
    """The points of one curve in seconds from `origin` and connections, without the inner
    points of a level run: they lie on the line joining its ends, and a steady pool's curves
    are mostly such runs (a QPointF costs about a microsecond to make from Python)."""
    last = len(ys) - 1
    return QPolygonF(
        [
            QPointF(times[i] - origin, y)
            for i, y in enumerate(ys)
            if i in (0, last) or y != ys[i - 1] or y != ys[i + 1]
        ]
    )


class StatsChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Pool connections over time")
        self.setMinimumHeight(MINIMUM_HEIGHT)
        # The paint covers every pixel: Qt need not clear the background first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._pending: Sequence[StatsSample] = ()
        self._drawn: StatsSample | None = None
        self.redraws = 0
        self._ys: dict[str, list[float]] = {key: [] for key, *_ in SERIES}
        self._times: list[float] = []
        # The curves in seconds from _origin (the last sample) and connections, made when
        # the data changes; _layout maps them onto the widget, in C++, when either changes.
        self._curves: dict[str, QPolygonF] = {key: QPolygonF() for key, *_ in SERIES}
        self._origin = 0.0
        self._y_top = 1.1
        # What a paint draws, built by _layout().
        self.polygons: dict[str, QPolygonF] = {}
        self.plot_rect = QRectF()
        self.grid: list[QLineF] = []
        self.ticks: list[QLineF] = []
        self.labels: list[tuple[QRectF, int, str]] = []  # (rect, alignment, text)
        self.legend: list[tuple[str, QLineF, QPointF, str]] = []  # (key, stroke, at, label)
        self._title_at = QPointF()
        self._pens: dict[str, QPen] = {}
        self._apply_palette()
        self._layout()

    def sizeHint(self) -> QSize:
        # What a 768 px screen leaves it with the panels whole above the tabs; it grows with
        # the window (the scrolled panel asks its preferred height, this one included).
        return QSize(480, 150)

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
        self._times = [sample.at for sample in samples]
        origin = self._times[-1] if samples else 0.0
        for key, *_ in SERIES:
            ys = [float(getattr(sample, key)) for sample in samples]
            self._ys[key] = ys
            self._curves[key] = curve(self._times, ys, origin)
        self._origin = origin
        top = max((max(s.max_size, s.size + s.waiting) for s in samples), default=0)
        self._y_top = max(1, top) * 1.1
        self._layout()
        self.update()

    def points(self, key: str) -> list[float]:
        """The y values a curve draws (for tests and accessibility checks)."""
        return list(self._ys[key])

    def x_range(self) -> tuple[float, float]:
        """The seconds (epoch) across the plot, padded as pyqtgraph's padding=0.02 was."""
        if not self._times:
            now = time.time()
            return now - MIN_SPAN_SECONDS, now
        last = self._times[-1]
        # At least a minute across, so a young monitor reads as clock times, not fractions.
        first = min(self._times[0], last - MIN_SPAN_SECONDS)
        pad = (last - first) * X_PADDING
        return first - pad, last + pad

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self.update()
        elif event.type() == QEvent.Type.FontChange:
            self._layout()
            self.update()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        self._base = palette.color(QPalette.ColorRole.Base)
        self._text = palette.color(QPalette.ColorRole.Text)
        # The Text colour at GRID_ALPHA over Base, mixed here: opaque lines draw in a tenth of
        # the time alpha-blended ones take, and the grid lies on Base only.
        text, base = self._text, self._base
        grid = QColor.fromRgbF(
            GRID_ALPHA * text.redF() + (1 - GRID_ALPHA) * base.redF(),
            GRID_ALPHA * text.greenF() + (1 - GRID_ALPHA) * base.greenF(),
            GRID_ALPHA * text.blueF() + (1 - GRID_ALPHA) * base.blueF(),
        )
        self._grid_pen = QPen(grid, 0)
        self._axis_pen = QPen(palette.color(QPalette.ColorRole.Mid), 0)
        self._text_pen = QPen(self._text)
        for key, _, color, dashed in SERIES:
            pen = QPen(QColor(color), 2)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            self._pens[key] = pen

    def _layout(self) -> None:
        """Build the curves, grid, ticks and labels for the current data and size."""
        metrics = QFontMetricsF(self.font())
        line = metrics.height()
        width, height = self.width(), self.height()
        label_width = metrics.horizontalAdvance(str(math.floor(self._y_top)))
        # Whole pixels, so the 1 px grid and axes are crisp without antialiasing.
        left = math.ceil(4 + line + 4 + label_width + 2 + TICK_LENGTH)
        # The legend, in rows above the plot (wrapped when the window is narrow): inside the
        # plot it lay over the curves whenever the pool stood at its max.
        self.legend = []
        x, row_y = left + 8.0, 2 + round(line / 2) + 0.5
        for key, label, *_ in SERIES:
            advance = 25 + metrics.horizontalAdvance(label)
            if x + advance > width - 10 and x > left + 8.0:
                x, row_y = left + 8.0, row_y + line + 2
            baseline = row_y + (metrics.ascent() - metrics.descent()) / 2
            stroke = QLineF(x, row_y, x + 20, row_y)
            self.legend.append((key, stroke, QPointF(x + 25, baseline), label))
            x += advance + 14
        # Room for the legend's rows, then for the top count label's upper half.
        top = math.ceil(row_y + line / 2 + 2 + line / 2 + 2)
        bottom = math.floor(height - (TICK_LENGTH + 2 + line + 2))
        right = width - 10
        plot = QRectF(left, top, max(1, right - left), max(1, bottom - top))
        self.plot_rect = plot
        x0, x1 = self.x_range()
        x_scale = plot.width() / (x1 - x0)
        y_scale = plot.height() / self._y_top
        self.grid, self.labels = [], []
        self.ticks = [  # the axes, then the tick marks
            QLineF(left + 0.5, top, left + 0.5, bottom + 0.5),
            QLineF(left, bottom + 0.5, right, bottom + 0.5),
        ]
        # The count axis: integers, as far apart as their labels need.
        y_step = count_step(self._y_top, plot.height(), line)
        right_align = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for n in range(0, math.floor(self._y_top) + 1, y_step):
            y = round(bottom - n * y_scale) + 0.5
            if n:
                self.grid.append(QLineF(left + 1, y, right, y))
            self.ticks.append(QLineF(left - TICK_LENGTH, y, left, y))
            rect = QRectF(0, y - line / 2, left - TICK_LENGTH - 2, line)
            self.labels.append((rect, right_align, str(n)))
        # The time axis: local clock times on whole steps of the local clock.
        long_label = metrics.horizontalAdvance("00:00:00")
        short_label = metrics.horizontalAdvance("00:00")
        step = time_step(x1 - x0, plot.width(), long_label, short_label)
        clock, text_width = ("%H:%M:%S", long_label) if step < 60 else ("%H:%M", short_label)
        offset = time.localtime(x0).tm_gmtoff
        t = math.ceil((x0 + offset) / step) * step - offset
        centre = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        label_top = bottom + TICK_LENGTH + 2
        while t <= x1:
            x = round(left + (t - x0) * x_scale) + 0.5
            if x > left + 1:
                self.grid.append(QLineF(x, top, x, bottom))
            self.ticks.append(QLineF(x, bottom, x, bottom + TICK_LENGTH))
            rect = QRectF(x - text_width / 2 - 2, label_top, text_width + 4, line)
            if rect.left() >= 0 and rect.right() <= width:  # never cut at the edges
                self.labels.append((rect, centre, time.strftime(clock, time.localtime(t))))
            t += step
        # The axis title, rotated, centred on the plot's height.
        title_width = metrics.horizontalAdvance(AXIS_TITLE)
        self._title_at = QPointF(4 + metrics.ascent(), plot.center().y() + title_width / 2)
        # The curves: one polyline per series, points joined by straight lines.
        to_widget = QTransform(
            x_scale, 0, 0, -y_scale, left + (self._origin - x0) * x_scale, bottom + 0.5
        )
        self.polygons = {key: to_widget.map(points) for key, points in self._curves.items()}

    def paintEvent(self, event: QPaintEvent) -> None:
        # Only draws: everything here was built by _layout.
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._base)
        painter.setPen(self._grid_pen)
        painter.drawLines(self.grid)
        painter.setPen(self._axis_pen)
        painter.drawLines(self.ticks)
        painter.setPen(self._text_pen)
        for rect, alignment, text in self.labels:
            painter.drawText(rect, alignment, text)
        for _, _, at, label in self.legend:
            painter.drawText(at, label)
        painter.save()
        painter.translate(self._title_at)
        painter.rotate(-90)
        painter.drawText(QPointF(0, 0), AXIS_TITLE)
        painter.restore()
        for key, stroke, _, _ in self.legend:
            painter.setPen(self._pens[key])
            painter.drawLine(stroke)
        # Room for the pen's width at 0 and at the top; nothing is drawn past the x axis ends.
        painter.setClipRect(self.plot_rect.adjusted(0, -2, 1, 2))
        for key, *_ in SERIES:
            painter.setPen(self._pens[key])
            painter.drawPolyline(self.polygons[key])
        painter.end()

"""The monitor window's upper half: the health bar, the failure banner, the pool panel
(figures, chart, sizes) and the server panel (who holds connections, limits, NOTIFY queue).
Each panel only shows what it is given; the window feeds them from the engine's batches."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QEvent, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from supalink.monitor import (
    COMPUTE_SIZES,
    MONITOR_POOL_MAX_IDLE_SECONDS,
    Health,
    HealthReport,
    ServerSnapshot,
    StatsSample,
)
from supalink.ui.stats_chart import StatsChart
from supalink.ui.status_light import HEALTH_COLORS, HEALTH_LABELS, light_pixmap
from supalink.ui.theme import Tone, color_text, palette_is_dark, toned

CARD_RADIUS = 6.0
FAILURE_BORDER = QColor("#e5484d")
FAILURE_FILL = QColor(229, 72, 77, 36)  # the border's red, faint enough to read text on
ERROR_CHARS = 160


class Card(QFrame):
    """A rounded, outlined panel, painted here (see theme.py on style sheets). The outline
    is the palette's Mid colour unless `border` is given."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        border: QColor | None = None,
        fill: QColor | None = None,
    ) -> None:
        super().__init__(parent)
        self._border = border
        self._fill = fill

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self._border or self.palette().color(QPalette.ColorRole.Mid), 1))
        if self._fill is None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
        else:
            painter.setBrush(self._fill)
        outline = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.drawRoundedRect(outline, CARD_RADIUS, CARD_RADIUS)


def hint_label(text: str = "") -> QLabel:
    return toned(QLabel(text), Tone.HINT)


def log_table(
    model: QAbstractItemModel,
    name: str,
    row_height: int,
    widths: Sequence[int],
    table: QTableView | None = None,
) -> QTableView:
    """A live log's table (`table`, or a new QTableView): whole rows selected one at a
    time, fixed row heights (no per-row measuring while rows pour in), the last column
    stretched."""
    table = table or QTableView()
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(row_height)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table


def beside_detail(
    table: QTableView, name: str, placeholder: str, sizes: tuple[int, int]
) -> tuple[QPlainTextEdit, QSplitter]:
    """A log's table with a read-only pane beside it for the whole of the selected row."""
    detail = QPlainTextEdit()
    detail.setReadOnly(True)
    detail.setAccessibleName(name)
    detail.setPlaceholderText(placeholder)
    detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(table)
    split.addWidget(detail)
    split.setStretchFactor(0, 3)
    split.setStretchFactor(1, 1)
    split.setSizes(list(sizes))
    return detail, split


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


class HealthBar(Card):
    """The status light with its words: healthy, degraded or down, latency, last error."""

    check_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.light = QLabel()
        self.status = QLabel()
        font = QFont(self.status.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.status.setFont(font)
        self.detail = hint_label()
        self.last_error = QLabel()
        self.last_error.setWordWrap(True)
        self.last_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_error.setAccessibleName("Last error")
        self.check_button = QPushButton("Check &now")
        self.check_button.setAccessibleName("Check health now")
        self.check_button.setToolTip("Run the SELECT 1 check and refresh the server view (F5)")
        self.check_button.clicked.connect(self.check_requested)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.status)
        words.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.light)
        layout.addLayout(words)
        layout.addSpacing(16)
        layout.addWidget(self.last_error, 1)
        layout.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.last_outage: str | None = None
        self.show_status(Health.UNKNOWN, "waiting for the first SELECT 1", None)

    def show_report(self, report: HealthReport) -> None:
        if report.latency_ms is not None:
            detail = f"SELECT 1 in {report.latency_ms:.1f} ms · checked {clock(report.at)}"
        else:
            detail = f"no answer · checked {clock(report.at)}"
        if report.since is not None and report.status is not Health.HEALTHY:
            detail = f"since {clock(report.since)} · {detail}"
        if report.recovered is not None:
            self.last_outage = report.recovered.summary  # the window sets it for a batch
        if report.status is Health.HEALTHY and self.last_outage is not None:
            # Back: the outage in one line, kept until the next one.
            self.show_status(report.status, detail, None, past=f"Last outage: {self.last_outage}")
            return
        self.show_status(report.status, detail, report.error or report.last_error)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: recolour
            self.show_status(*self._shown, past=self._past)
        super().changeEvent(event)

    def show_status(
        self, status: Health, detail: str, error: str | None, *, past: str | None = None
    ) -> None:
        """`past`: a line of history to show instead of the last error."""
        self._shown = (status, detail, error)
        self._past = past
        self.light.setPixmap(light_pixmap(status, 28, self.devicePixelRatioF()))
        self.status.setText(HEALTH_LABELS[status])
        color = QColor(HEALTH_COLORS[status])
        palette = self.palette()
        if not palette_is_dark(palette):
            color = color.darker(135)  # the light colours are too faint as text on white
        color_text(self.status, color)
        self.detail.setText(detail)
        text = past or (f"Last error: {error}" if error else "No errors")
        # Two lines at most, so the bar keeps its height; the tooltip has all of it.
        if len(text) > ERROR_CHARS:
            text_shown = text[:ERROR_CHARS].rsplit(" ", 1)[0] + " …"
        else:
            text_shown = text
        self.last_error.setText(text_shown)
        self.last_error.setToolTip(text)
        # A past error is history once healthy again: greyed, not alarming.
        past_only = status is Health.HEALTHY or not error
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        color_text(self.last_error, faint if past_only else color)
        self.light.setAccessibleName(f"Health: {HEALTH_LABELS[status]}")
        self.setAccessibleDescription(f"{HEALTH_LABELS[status]}, {detail}")


class FailureBanner(Card):
    """Shown after a permanent failure: nothing is retried until the person acts."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, border=FAILURE_BORDER, fill=FAILURE_FILL)
        self.title = QLabel("<b>Stopped: not retrying until you act</b>")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("&Retry")
        self.retry_button.setAccessibleName("Retry after a permanent failure")
        self.retry_button.setToolTip("Fix the cause (password, database, pooler), then retry")
        self.retry_button.clicked.connect(self.retry_requested)
        words = QVBoxLayout()
        words.addWidget(self.title)
        words.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(words, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_failure(self, source: str, message: str) -> None:
        what = {"pool": "The pool", "listener": "The listener"}.get(source, source)
        self.message.setText(f"{what}: {message}")
        self.setAccessibleDescription(self.message.text())
        self.show()


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


class PoolPanel(QGroupBox):
    resize_requested = Signal(int, int)

    def __init__(self, min_size: int, max_size: int, parent: QWidget | None = None) -> None:
        super().__init__("Pool", parent)
        self.tiles = {key: StatTile(caption, tip) for key, caption, tip in TILES}
        grid = QGridLayout()
        grid.setSpacing(6)
        for position, tile in enumerate(self.tiles.values()):
            grid.addWidget(tile, position // 4, position % 4)
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
        sizes = QHBoxLayout()
        min_label = QLabel("Mi&n")
        min_label.setBuddy(self.min_size)
        max_label = QLabel("Ma&x")
        max_label.setBuddy(self.max_size)
        for widget in (min_label, self.min_size, max_label, self.max_size, self.apply_button):
            sizes.addWidget(widget)
        sizes.addStretch(1)
        sizes.addWidget(self.state)
        self.cost = hint_label()
        self.cost.setAccessibleName("What this monitor costs the server")
        self.cost.setWordWrap(True)
        self.cost.setToolTip(
            "Each connection holds a server backend, directly or through the session "
            "pooler (where it also takes one of the pooler's pool size). Every client of "
            "this database shares the compute size's limit."
        )
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.chart, 1)
        layout.addLayout(sizes)
        layout.addWidget(self.cost)

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
        self.old = False
        self._snapshot_at: float | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Connections (of those ordinary roles may open)"))
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

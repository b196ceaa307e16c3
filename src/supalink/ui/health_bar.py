"""The top of the monitor window: the health bar (the status light with its words: healthy,
degraded or down, the check's latency, the last error or the last outage) and the banner
shown after a permanent failure, with Retry."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from supalink.monitor import Health, HealthReport
from supalink.ui.panel_parts import (
    FAILURE_BORDER,
    FAILURE_FILL,
    NARROW_TEXT,
    Card,
    clock,
    hint_label,
)
from supalink.ui.status_light import HEALTH_COLORS, HEALTH_LABELS, light_pixmap
from supalink.ui.theme import color_text, palette_is_dark

ERROR_CHARS = 160


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
        self.detail.setWordWrap(True)  # two lines rather than a window wider than the screen
        self.detail.setMinimumWidth(NARROW_TEXT)
        self.last_error = QLabel()
        self.last_error.setWordWrap(True)
        self.last_error.setMinimumWidth(NARROW_TEXT)
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
        layout.setContentsMargins(12, 5, 12, 5)
        layout.addWidget(self.light)
        # The words and the last error share the width: the detail ("SELECT 1 in 45.4 ms ·
        # checked 01:21:27") keeps one line on a normal screen, both wrap on a small one.
        layout.addLayout(words, 1)
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
        self.message.setMinimumWidth(NARROW_TEXT)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("&Retry")
        self.retry_button.setAccessibleName("Retry after a permanent failure")
        self.retry_button.setToolTip("Fix the cause (password, database, pooler), then retry")
        self.retry_button.clicked.connect(self.retry_requested)
        # The title beside Retry, the message below both: the message has the whole width,
        # and the banner fewer lines (the window fits 1366x768 at 200 %).
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 5, 12, 5)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.message)
        self.hide()

    def show_failure(self, source: str, message: str) -> None:
        what = {"pool": "The pool", "listener": "The listener"}.get(source, source)
        self.message.setText(f"{what}: {message}")
        self.setAccessibleDescription(self.message.text())
        self.show()


__all__ = ["FailureBanner", "HealthBar"]

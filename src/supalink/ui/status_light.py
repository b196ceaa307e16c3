"""The health colours and the round light drawn in them: one look for the monitor window's
status light and the tray icon, readable on dark and light palettes alike."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from supalink.monitor import Health

HEALTH_COLORS: dict[Health, str] = {
    Health.HEALTHY: "#3ecf8e",  # Supabase green, as the theme's accent
    Health.DEGRADED: "#f0a020",
    Health.DOWN: "#e5484d",
    Health.UNKNOWN: "#8a8f98",
}
HEALTH_LABELS: dict[Health, str] = {
    Health.HEALTHY: "Healthy",
    Health.DEGRADED: "Degraded",
    Health.DOWN: "Down",
    Health.UNKNOWN: "Connecting…",
}


def light_pixmap(status: Health, size: int, ratio: float = 1.0) -> QPixmap:
    """A filled circle with a darker rim, so it stays visible on any background."""
    pixels = max(1, round(size * ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    color = QColor(HEALTH_COLORS[status])
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    rim = max(1.0, size / 12)
    painter.setPen(QPen(color.darker(150), rim))
    painter.setBrush(color)
    inset = rim / 2 + size * 0.06
    painter.drawEllipse(QRectF(inset, inset, size - 2 * inset, size - 2 * inset))
    painter.end()
    return pixmap


def light_icon(status: Health) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(light_pixmap(status, size))
    return icon

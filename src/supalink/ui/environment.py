"""A profile's environment as the windows show it: its colour and its word, a mark (the profile
list, the tray menu) and a band (the form's header, the monitor, the Write config dialog).

The names are the profiles package's (ENVIRONMENTS), the colours are here. Each fill reads on
both themes: 3:1 against the light and the dark window and field colours, what WCAG asks of a
mark, and the band's text 4.5:1 on it; a band sets both, so a theme change leaves it as it is.
The word always goes with the colour: a colour alone says nothing to a screen reader, or to
someone who cannot tell red from green."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    # Imported where used: importing QIcon builds its enums, and the form (which loads this
    # module) is in the first frame, which needs no icon (tests/ui/test_deferred_start.py).
    from PySide6.QtGui import QIcon

# The environment's fill, and the text on it (red, amber and green, as traffic lights).
COLORS: Final = {
    "production": ("#e0443a", "#111111"),
    "staging": ("#c77c02", "#111111"),
    "development": ("#2e9d4f", "#111111"),
}
MARK_SIZE = 12  # pixels: beside a list row's or a menu entry's text


def environment_word(environment: str) -> str:
    """How the windows name it: "Production"."""
    return environment.title()


@functools.cache
def environment_icon(environment: str | None) -> QIcon:
    """A dot in the environment's colour (made once per environment, on first use); None, a
    blank of the same size, which keeps a row without one in line with those that have one."""
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    pixmap = QPixmap(MARK_SIZE, MARK_SIZE)
    pixmap.fill(QColor(0, 0, 0, 0))  # transparent, without loading the Qt namespace's enums
    if environment is None:
        return QIcon(pixmap)
    color = QColor(COLORS[environment][0])
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(color)
    painter.setBrush(color)
    painter.drawEllipse(1, 1, MARK_SIZE - 2, MARK_SIZE - 2)
    painter.end()
    return QIcon(pixmap)


class EnvironmentBand(QLabel):
    """A strip in the environment's colour naming it; hidden while there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.environment: str | None = None
        self.setAutoFillBackground(True)
        self.setMargin(6)
        self.setWordWrap(True)
        self.hide()  # bold once first shown: QFont's enums need not be built for a hidden band

    def show_environment(self, environment: str | None, text: str | None = None) -> None:
        """Show `environment` with `text` (its word when None), or hide for None."""
        self.environment = environment
        if environment is None:
            self.setText("")
            self.hide()
            return
        font = self.font()
        if not font.bold():
            font.setBold(True)
            self.setFont(font)
        fill, ink = COLORS[environment]
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Window, QColor(fill))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(ink))
        self.setPalette(palette)
        word = environment_word(environment)
        self.setText(text or word)
        self.setAccessibleName(f"Environment: {word}")
        self.show()


__all__ = ["COLORS", "EnvironmentBand", "environment_icon", "environment_word"]

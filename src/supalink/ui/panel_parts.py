"""What the monitor window's panels are made of: the rounded, outlined card each is drawn on,
the failure colours of the banner and of a failed call, a label in the hint tone for their
small print, the scroll area a panel sits in on a small screen, and the wall-clock time in
which they say when something happened."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from supalink.ui.theme import Tone, toned

CARD_RADIUS = 6.0
FAILURE_BORDER = QColor("#e5484d")
FAILURE_FILL = QColor(229, 72, 77, 36)  # the border's red, faint enough to read text on
# The least width of a wrapped label whose column may narrow (Qt's own guess is some 230 px):
# it takes more lines instead, and the window fits a small screen.
NARROW_TEXT = 120
# The least height of a scrolled panel: its scroll bar's arrows and a thumb, some lines.
SCROLLED_HEIGHT = 44


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


def scrolled(widget: QWidget) -> QScrollArea:
    """`widget` in a frameless scroll area: on a small screen (1366x768 at 200 %) the window
    may be smaller than the panel, which then scrolls rather than pushing the window's
    minimum size past the screen."""
    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(widget)
    area.setMinimumHeight(SCROLLED_HEIGHT)
    return area


class Band(QScrollArea):
    """Widgets stacked in a frameless scroll area as high as they need at its width (their
    wrapped lines counted), which scrolls only when the window is lower than that: the
    monitor's health bar and failure banner on 1024x768 at 200 %, where their long errors
    take more lines than the window has room for beside the panels and the tabs."""

    def __init__(self, *widgets: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget)
        self.setWidget(column)
        self._column = column
        self.setMinimumHeight(SCROLLED_HEIGHT)
        self._width = -1

    def sizeHint(self) -> QSize:
        column = self._column
        width = self.viewport().width()
        if width <= 0 or not column.hasHeightForWidth():
            return column.sizeHint()
        return QSize(column.sizeHint().width(), column.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        # As wide as its widgets need: never cut, never scrolled sideways.
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(self._column.minimumSizeHint().width() + bar, SCROLLED_HEIGHT)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:  # the lines it needs changed with the width
            self._width = event.size().width()
            self.updateGeometry()


def clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


__all__ = [
    "FAILURE_BORDER",
    "FAILURE_FILL",
    "NARROW_TEXT",
    "SCROLLED_HEIGHT",
    "Band",
    "Card",
    "clock",
    "hint_label",
    "scrolled",
]


def favour_first(split: QSplitter, first: QWidget, least_second: int) -> None:
    """Give `split`'s first pane the height its content asks for (`first`'s size hint), as
    long as the second keeps `least_second` px: on a normal screen the monitor's panels show
    whole above the tabs; on a small one both share what there is, the panels scrolling."""
    total = sum(split.sizes())
    # A wrapped label's lines count at the width the pane has now.
    content = first.heightForWidth(first.width()) if first.hasHeightForWidth() else -1
    wanted = max(content, first.sizeHint().height()) + split.handleWidth()
    top = min(wanted, max(total - least_second, total // 2))
    split.setSizes([top, total - top])

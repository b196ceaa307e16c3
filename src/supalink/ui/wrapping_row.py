"""A row of buttons that takes two lines when it is narrower than the buttons side by side:
the main window's Save on the left and its actions on the right fit one line on a laptop at
100 %, and two on 1024x768 at 200 % (512 px wide), where one line made the window wider than
the screen. Qt's own layouts do not wrap."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget


class WrappingRow(QWidget):
    """`left` at the left and `right` at the right of one line, or `right` on a line of its
    own under `left` when one line does not fit. Its least size is the two lines': a window
    may be as narrow as that, and as low as that wherever it is. `stretch`, one of `left`,
    takes the room left over (a filter's line edit) instead of the gap between the sides."""

    def __init__(
        self,
        left: Sequence[QWidget],
        right: Sequence[QWidget],
        parent: QWidget | None = None,
        *,
        stretch: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._left = list(left)
        self._right = list(right)
        self._stretch = stretch
        lines = QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 0)
        self._top = QHBoxLayout()
        self._bottom = QHBoxLayout()
        lines.addLayout(self._top)
        lines.addLayout(self._bottom)
        self.wrapped: bool | None = None
        self._arrange(wrapped=False)

    def _arrange(self, *, wrapped: bool) -> None:
        if wrapped == self.wrapped:
            return
        self.wrapped = wrapped
        for line in (self._top, self._bottom):
            while line.count():
                line.takeAt(0)  # the widgets stay this row's children
        for widget in self._left:
            self._top.addWidget(widget, 1 if widget is self._stretch else 0)
        if self._stretch is None:
            self._top.addStretch(1)
        line = self._bottom if wrapped else self._top
        if wrapped and self._stretch is None:
            line.addStretch(1)
        for widget in self._right:
            line.addWidget(widget)
        self.updateGeometry()

    def _spacing(self) -> int:
        return max(self._top.spacing(), 0)

    def _width(self, widgets: Sequence[QWidget]) -> int:
        shown = [widget for widget in widgets if not widget.isHidden()]
        return sum(widget.sizeHint().width() for widget in shown) + self._spacing() * max(
            len(shown) - 1, 0
        )

    def _one_line_width(self) -> int:
        return self._width(self._left) + self._spacing() + self._width(self._right)

    def _line_height(self) -> int:
        return max((widget.sizeHint().height() for widget in self._left + self._right), default=0)

    def minimumSizeHint(self) -> QSize:
        width = max(self._width(self._left), self._width(self._right))
        return QSize(width, 2 * self._line_height() + self._spacing())

    def sizeHint(self) -> QSize:
        lines = 2 if self.wrapped else 1
        height = lines * self._line_height() + (lines - 1) * self._spacing()
        return QSize(self._one_line_width(), height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange(wrapped=event.size().width() < self._one_line_width())
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        # A button's text changed (a count, say): one line may fit now, or no longer.
        if event.type() == QEvent.Type.LayoutRequest:
            self._arrange(wrapped=self.width() < self._one_line_width())
        return super().event(event)


__all__ = ["WrappingRow"]

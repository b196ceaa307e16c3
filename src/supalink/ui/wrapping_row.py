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
    own under `left` when one line does not fit: a window may be as narrow as the wider
    side. `stretch`, one of `left`, takes the room left over (a filter's line edit) instead
    of the gap between the sides; `gap`: more room between the sides in one line; without
    `at_right`, `right` follows `left` and the room left over is after both."""

    def __init__(
        self,
        left: Sequence[QWidget],
        right: Sequence[QWidget],
        parent: QWidget | None = None,
        *,
        stretch: QWidget | None = None,
        gap: int = 0,
        at_right: bool = True,
    ) -> None:
        super().__init__(parent)
        self._left = list(left)
        self._right = list(right)
        self._stretch = stretch
        self._gap = gap
        self._at_right = at_right
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
        line = self._bottom if wrapped else self._top
        spring = self._stretch is None  # no widget takes the room left over: a spacer does
        if wrapped and spring:
            self._top.addStretch(1)
        elif not wrapped:
            line.addSpacing(self._gap)
        if spring and self._at_right:
            line.addStretch(1)
        for widget in self._right:
            line.addWidget(widget)
        if (spring and not self._at_right) or (wrapped and not spring):
            line.addStretch(1)  # a line that starts at the left
        self.updateGeometry()

    def _spacing(self) -> int:
        return max(self._top.spacing(), 0)

    def _width(self, widgets: Sequence[QWidget]) -> int:
        shown = [widget for widget in widgets if not widget.isHidden()]
        widths = (self._least_width(widget) for widget in shown)
        return sum(widths) + self._spacing() * max(len(shown) - 1, 0)

    def _least_width(self, widget: QWidget) -> int:
        """A button's whole text; the stretching widget's least (it was so in one line)."""
        if widget is self._stretch:
            return widget.minimumSizeHint().expandedTo(widget.minimumSize()).width()
        return widget.sizeHint().width()

    def _one_line_width(self) -> int:
        return self._width(self._left) + self._spacing() + self._gap + self._width(self._right)

    def _line_height(self) -> int:
        return max((widget.sizeHint().height() for widget in self._left + self._right), default=0)

    def minimumSizeHint(self) -> QSize:
        # As narrow as the wider side; as low as the lines it takes at its width now (the
        # window's least height grows by a line once it is narrow enough for two).
        width = max(self._width(self._left), self._width(self._right))
        return QSize(width, self.sizeHint().height())

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

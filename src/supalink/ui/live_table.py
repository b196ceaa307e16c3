"""The live notification table: new rows at the bottom repaint only themselves and follow
the bottom by moving the pixels already drawn, and its scroll bar repaints only when what
it draws changed. Checked against a fresh render of the window in
tests/ui/test_live_table.py."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QScrollBar,
    QStyle,
    QStyleOptionSlider,
    QTableView,
    QWidget,
)


class QuietScrollBar(QScrollBar):
    """A scroll bar that repaints only when what it draws changed: each row that comes
    changes its range, which repaints it (0.9 ms here, as much as the new row), though in
    a long table the handle moves a pixel only every few rows."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._drawn: tuple[object, ...] | None = None

    def _look(self) -> tuple[object, ...]:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_ScrollBar, option, QStyle.SubControl.SC_ScrollBarSlider, self
        )
        # The handle, and whether an end is reached (the arrows may be drawn disabled).
        at_ends = (self.value() <= self.minimum(), self.value() >= self.maximum())
        return handle.getRect(), at_ends, self.minimum() < self.maximum()

    def sliderChange(self, change: QAbstractSlider.SliderChange) -> None:
        quiet = (
            QAbstractSlider.SliderChange.SliderRangeChange,
            QAbstractSlider.SliderChange.SliderValueChange,
        )
        if change in quiet:
            look = self._look()
            if look == self._drawn:
                return  # Qt's would only repaint it
            # What the repaint asked for draws. Not noted in paintEvent: a render
            # (grab) paints too, and must not count as what the screen shows.
            self._drawn = look
        super().sliderChange(change)


class LiveTable(QTableView):
    """A table that new rows at the bottom do not repaint whole.

    Qt lays an item view out anew whenever its row count changes, and that repaints every
    visible cell (8 ms here for a screenful): on every notification, even at a trickle.
    When the only change since the last layout is rows added after the last one, the
    layout here updates the scroll bar and repaints just those rows; following the bottom,
    the scroll moves the pixels already drawn and paints what it uncovers. Anything else
    (rows removed, a reset, a move) gets Qt's full layout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._appended: tuple[int, int] | None = None  # rows added since the last layout
        self._full = False  # something else changed: lay out as Qt does
        # By pixels: scrolled by whole rows, the last page's partial row made the moved
        # pixels and the freshly painted ones disagree (checked against a fresh grab).
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.scroll_bar = QuietScrollBar(Qt.Orientation.Vertical)
        self.setVerticalScrollBar(self.scroll_bar)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            model.rowsInserted.connect(self._rows_inserted)
            model.rowsRemoved.connect(self._changed)
            model.modelReset.connect(self._changed)
            model.layoutChanged.connect(self._changed)
            model.rowsMoved.connect(self._changed)
            model.columnsInserted.connect(self._changed)
            model.columnsRemoved.connect(self._changed)

    def _rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        model = self.model()
        if self._full or parent.isValid() or last != model.rowCount() - 1:
            self._changed()
        elif self._appended is None:
            self._appended = (first, last)
        else:
            self._appended = (self._appended[0], last)

    def _changed(self) -> None:
        self._full = True
        self._appended = None

    def doItemsLayout(self) -> None:
        appended, full = self._appended, self._full
        self._appended, self._full = None, False
        if appended is None or full:
            super().doItemsLayout()
            return
        self.updateGeometries()  # Qt's layout without its repaint of the viewport
        first, last = appended
        model = self.model()
        top = self.visualRect(model.index(first, 0))
        bottom = self.visualRect(model.index(last, model.columnCount() - 1))
        # visualRect leaves out the grid line a cell draws below itself: one pixel more.
        height = bottom.bottom() - top.top() + 2
        self.viewport().update(QRect(0, top.top(), self.viewport().width(), height))

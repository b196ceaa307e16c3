"""Issue 31, point 4: what lets a window fit 1024x768 at 200 % (512 px wide) and look as it
did on a laptop at 100 %. A row of buttons takes a second line only when one does not fit;
the monitor's band (banner and health bar) is as high as its wrapped lines and scrolls only
when the window is lower than that; the pool's tiles go two across in a narrow panel."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from supalink.ui.panel_parts import Band, scrolled
from supalink.ui.pool_panel import NARROW_COLUMNS, WIDE_COLUMNS, PoolPanel
from supalink.ui.wrapping_row import WrappingRow

LONG = "A long error, in words that wrap to more lines the narrower the label is. " * 4


def row_in_window(qtbot: Any, row: QWidget) -> QWidget:
    window = QWidget()
    QVBoxLayout(window).addWidget(row)
    qtbot.addWidget(window)
    window.show()
    return window


def test_buttons_take_a_second_line_only_when_one_does_not_fit(qtbot: Any) -> None:
    save = QPushButton("Save")
    actions = [QPushButton(text) for text in ("Test", "Write config…", "Monitor")]
    row = WrappingRow([save], actions)
    window = row_in_window(qtbot, row)
    one_line = sum(button.sizeHint().width() for button in [save, *actions])
    window.resize(one_line + 200, 100)
    qtbot.waitUntil(lambda: row.wrapped is False)
    assert {button.y() for button in [save, *actions]} == {save.y()}
    assert actions[-1].geometry().right() > row.width() - 20  # the actions at the right

    window.resize(row.minimumSizeHint().width() + 20, 200)
    qtbot.waitUntil(lambda: all(button.y() > save.geometry().bottom() for button in actions))
    assert row.wrapped
    assert row.minimumSizeHint().width() < one_line
    assert row.height() >= 2 * save.height()
    for button in [save, *actions]:  # whole, in the row
        assert row.rect().contains(button.geometry())
        assert button.width() >= button.sizeHint().width()

    window.resize(one_line + 200, 200)  # wide again: one line again
    qtbot.waitUntil(lambda: row.wrapped is False)


def test_a_stretching_field_keeps_the_line_and_a_growing_label_wraps_it(qtbot: Any) -> None:
    field = QLineEdit()
    tool = QPushButton("Pause")
    counts = QLabel("0/s")
    row = WrappingRow([field, tool], [counts], stretch=field, gap=8)
    window = row_in_window(qtbot, row)
    window.resize(400, 100)
    qtbot.waitUntil(lambda: row.wrapped is False and counts.x() > tool.x())
    assert field.width() > field.minimumSizeHint().width()  # the field takes the room
    counts.setText("12,345/s · 1,000,000 received · 3 gaps · paused, 50,000 new, and more")
    # The label grew: a line of its own, from the left.
    qtbot.waitUntil(lambda: counts.y() > tool.geometry().bottom())
    assert row.wrapped
    assert counts.x() < tool.x()


def test_the_band_is_as_high_as_its_lines_and_scrolls_only_when_lower(qtbot: Any) -> None:
    message = QLabel(LONG)
    message.setWordWrap(True)
    band = Band(message)
    filler = QWidget()
    filler.setMinimumHeight(100)
    window = QWidget()
    layout = QVBoxLayout(window)
    layout.addWidget(band)
    layout.addWidget(filler, 1)
    qtbot.addWidget(window)
    window.show()
    for width in (900, 300):  # the narrower, the more lines: all of them shown
        window.resize(width, 800)
        qtbot.waitUntil(
            lambda: (
                band.height() >= message.heightForWidth(message.width())
                and not band.verticalScrollBar().isVisible()
            )
        )
    window.resize(300, 160)  # lower than the lines and the filler: the band scrolls
    qtbot.waitUntil(band.verticalScrollBar().isVisible)
    assert not band.horizontalScrollBar().isVisible()


def test_the_pool_tiles_go_two_across_rather_than_scroll_sideways(qtbot: Any) -> None:
    panel = PoolPanel(1, 2)
    area = scrolled(panel)
    qtbot.addWidget(area)
    area.show()
    area.resize(900, 600)
    qtbot.waitUntil(lambda: panel.columns == WIDE_COLUMNS)
    area.resize(panel.minimumSizeHint().width() + 30, 600)  # two tiles wide, and a bit
    qtbot.waitUntil(lambda: panel.columns == NARROW_COLUMNS)
    qtbot.waitUntil(lambda: panel.width() <= area.viewport().width())
    assert not area.horizontalScrollBar().isVisible()
    area.resize(900, 600)
    qtbot.waitUntil(lambda: panel.columns == WIDE_COLUMNS)

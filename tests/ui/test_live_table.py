"""The live table draws only what changed as rows come (new rows, the scrolled pixels, a
scroll bar repainted only when its look changed), in one repaint of the window
with the counts and the channel list, and what is on screen is then exactly what a full
repaint draws. On screen is the window's backing store, read back
with QScreen.grabWindow; `grab()` renders the widgets afresh."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from supalink.monitor import Gap, MonitorEngine
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target
from supalink.ui.notifications_panel import NotificationsPanel
from supalink.ui.tasks import TaskRunner
from tests.ui.test_monitor_model import note


class PaintCounter(QObject):
    def __init__(self, widget: QWidget, kind: QEvent.Type = QEvent.Type.Paint) -> None:
        super().__init__()
        self.count = 0
        self.kind = kind
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == self.kind:
            self.count += 1
        return False


def on_screen(widget: QWidget) -> QImage:
    image = widget.screen().grabWindow(widget.winId()).toImage()
    return image.convertToFormat(QImage.Format.Format_RGB32)


def fresh(widget: QWidget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


@pytest.fixture
def panel(qtbot: Any) -> NotificationsPanel:
    engine = MonitorEngine(
        Target.from_conninfo("postgresql://u@127.0.0.1:1/db"),
        MonitorSettings(log_capacity=60),
        channels=["jobs"],
    )
    shown = NotificationsPanel(engine, TaskRunner())
    qtbot.addWidget(shown)
    shown.resize(900, 420)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def drawn_as_fresh(panel: NotificationsPanel, qtbot: Any) -> None:
    """Once the paints already asked for are done, the screen is what a full repaint draws
    (waited for, not assumed done after one round of events: a loaded machine is slow)."""
    qtbot.waitUntil(lambda: on_screen(panel) == fresh(panel), timeout=5000)


def test_rows_that_come_one_by_one_end_as_a_full_repaint_draws_them(
    panel: NotificationsPanel, qtbot: Any
) -> None:
    bar = panel.table.scroll_bar
    bar_paints = PaintCounter(bar)
    looks = []
    for n in range(80):  # past the log's 60: the oldest rows leave the top too
        if n == 30:
            panel.engine.log.append(Gap(1_700_000_030.0, 1_700_000_031.0, ("jobs",), "restart"))
        panel.engine.log.append(note(n))
        panel.show_new_rows()
        QApplication.processEvents()  # each row drawn before the next comes
        looks.append(bar._look())
    assert bar.value() == bar.maximum() > 0  # it followed the bottom
    # Repainted when its look changed, not for every row: once the log is full, a row
    # that comes is one that leaves, and the handle stays where it is.
    changes = sum(1 for before, after in pairwise(looks) if before != after)
    assert bar_paints.count <= changes + 1 < 60, (bar_paints.count, changes)
    drawn_as_fresh(panel, qtbot)


def test_the_scroll_bar_the_person_moves_is_drawn_at_once(
    panel: NotificationsPanel, qtbot: Any
) -> None:
    for n in range(40):
        panel.engine.log.append(note(n))
    panel.show_new_rows()
    bar = panel.table.scroll_bar
    bar.setValue(0)
    drawn_as_fresh(panel, qtbot)
    # Scrolled up, new rows do not move the view; the handle still ends right.
    panel.engine.log.extend([note(n) for n in range(40, 45)])
    panel.show_new_rows()
    assert bar.value() == 0
    drawn_as_fresh(panel, qtbot)


def test_a_notification_repaints_the_window_once_with_its_channel_count(
    panel: NotificationsPanel, qtbot: Any
) -> None:
    """The channel list lays itself out again when a count changes; its repaint came in a
    window repaint of its own, a turn of the loop later (0.3 ms a notification)."""
    for n in range(20):
        panel.engine.log.append(note(n))
    panel.show_new_rows()
    qtbot.wait(50)
    repaints = PaintCounter(panel, QEvent.Type.UpdateRequest)
    list_paints = PaintCounter(panel.channels.viewport())
    panel.engine.log.append(note(20))
    panel.show_new_rows()
    qtbot.wait(50)  # the list's own layout timer, had it one, fires meanwhile
    assert "jobs  ·  21" in panel.channels.item(0).text()
    assert (repaints.count, list_paints.count) == (1, 1)
    drawn_as_fresh(panel, qtbot)

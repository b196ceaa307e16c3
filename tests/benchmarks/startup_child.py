"""One timed start, in a fresh process: `bare` (a plain PySide6 QMainWindow), `bare-scheme`
(the same, reading the desktop's colour scheme from Qt before it shows: what a themed app
pays for asking, as the Qt.ColorScheme answer builds PySide's whole Qt namespace) or `app`
(Supalink's real GUI start, `supalink` with no arguments, on SUPALINK_HOME).

The parent takes the time from spawning this process to the line `shown` on its stdout,
which is printed at the first paint of the main window; the window is then closed and
the process ends. Every kind is marked the same way, by the same event filter.

PySide is imported where each kind would import it, not at the top: the `supalink`
command loads its own modules first, and once PySide is imported it reads the source of
every module imported after it (its `__feature__` hook), which the command does not pay
for the modules it loaded before.
"""

from __future__ import annotations

import sys
from typing import Any


def first_paint_marker() -> Any:
    """An event filter that prints `shown` at the watched window's first paint, then closes
    the app."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.done = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if not self.done and event.type() == QEvent.Type.Paint:
                self.done = True
                print("shown", flush=True)
                QTimer.singleShot(0, QApplication.quit)
            return False

    return FirstPaint()


def bare(read_scheme: bool = False) -> int:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv)
    if read_scheme:
        from PySide6.QtCore import Qt

        app.setProperty("dark", app.styleHints().colorScheme() == Qt.ColorScheme.Dark)
    window = QMainWindow()
    marker = first_paint_marker()
    window.installEventFilter(marker)
    window.show()
    app.exec()
    window.close()
    return 0


def app() -> int:
    from supalink import cli
    from supalink.app import startup

    shown = startup.show_and_wait_for_paint
    markers = []

    def watched_show(window: Any, **options: Any) -> None:  # the main window, before its show
        markers.append(first_paint_marker())
        window.installEventFilter(markers[-1])
        shown(window, **options)

    startup.show_and_wait_for_paint = watched_show
    return cli.main([])


if __name__ == "__main__":
    kind = sys.argv[1:]
    sys.exit(bare() if kind == ["bare"] else bare(True) if kind == ["bare-scheme"] else app())

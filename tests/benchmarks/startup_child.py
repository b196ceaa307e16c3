"""One timed start, in a fresh process: `bare` (a plain PySide6 QMainWindow) or `app`
(Supalink's real GUI start, `supalink` with no arguments, on SUPALINK_HOME).

The parent takes the time from spawning this process to the line `shown` on its stdout,
which is printed at the first paint of the main window; the window is then closed and
the process ends. Both kinds are marked the same way, by the same event filter.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class FirstPaint(QObject):
    """Prints `shown` at the watched window's first paint, then closes the app."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print("shown", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def bare() -> int:
    app = QApplication(sys.argv)
    window = QMainWindow()
    marker = FirstPaint()
    window.installEventFilter(marker)
    window.show()
    app.exec()
    window.close()
    return 0


def app() -> int:
    from supalink import cli
    from supalink.ui import main_window

    marker = FirstPaint()
    original_init = main_window.MainWindow.__init__

    def watched_init(self: main_window.MainWindow, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        self.installEventFilter(marker)

    main_window.MainWindow.__init__ = watched_init  # type: ignore[method-assign]
    return cli.main([])


if __name__ == "__main__":
    sys.exit(bare() if sys.argv[1:] == ["bare"] else app())

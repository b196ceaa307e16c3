"""The Qt application and the asyncio loop on it: the app's name, icon and desktop entry,
Qt's own messages routed to the log, and the one place the loop is built."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from supalink.app.quitting import install_quit_signals

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

DESKTOP_FILE_NAME = "io.github.supalink.Supalink"  # packaging/linux/*.desktop


def build_event_loop(qt_app: QCoreApplication) -> asyncio.AbstractEventLoop:
    """The one place the loop is built (ui/event_loop.py holds its parts).

    qasync's default loop on Windows is the IOCP (proactor) one, which psycopg's
    async connections refuse; the selector loop works on every OS.
    """
    from concurrent.futures import ThreadPoolExecutor

    from supalink.ui import collect_garbage_on_the_main_thread, selector_loop_class

    collect_garbage_on_the_main_thread(qt_app)
    loop: asyncio.AbstractEventLoop = selector_loop_class()(qt_app)
    # qasync's own default executor runs on QThreads; Python's threads touch no Qt object.
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="supalink-worker"))
    return loop


def configure_application(qt_app: QApplication, *, icon: bool = True) -> None:
    """Name, icon and desktop entry (Wayland links windows to the .desktop file by it).
    Without `icon` the caller sets it (`set_window_icon`) once the main window has painted:
    QIcon's enums are some 5 ms of a start, for an icon the window
    system draws outside the window (Wayland, Windows and macOS take the desktop file's or
    the bundle's; an X11 title bar has it a moment after the first paint)."""
    qt_app.setApplicationName("Supalink")
    qt_app.setOrganizationName("Supalink")
    qt_app.setDesktopFileName(DESKTOP_FILE_NAME)
    if icon:
        set_window_icon(qt_app)
    route_qt_messages()


WINDOW_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)  # 256: macOS's Dock at 2x


def set_window_icon(qt_app: QApplication) -> None:
    """The icon from the PNGs rendered from the SVG (hicolor's, which Linux desktops
    install): the SVG would load QtSvg and its icon plugin, about 1.3 MB kept for the app's
    run. QIcon reads a file only when a size of it is asked for."""
    from PySide6.QtGui import QIcon

    from supalink.paths import resources_dir

    hicolor = resources_dir() / "icons" / "hicolor"
    icon = QIcon()
    for size in WINDOW_ICON_SIZES:
        icon.addFile(str(hicolor / f"{size}x{size}" / "apps" / "supalink.png"))
    qt_app.setWindowIcon(icon)


def route_qt_messages() -> None:
    """Qt's own warnings go to the log file, not the terminal the user started us from."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("supalink.qt")
    ours = logging.getLogger("supalink")
    if not ours.handlers:  # no log file (self-check): nowhere, rather than the terminal
        ours.addHandler(logging.NullHandler())
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def qt_application(*, icon: bool = True) -> QApplication:
    from PySide6.QtWidgets import QApplication

    read_sources_without_keeping()
    from supalink.ui import fusion_application

    existing = QApplication.instance()
    qt_app = existing if isinstance(existing, QApplication) else fusion_application(sys.argv)
    configure_application(qt_app, icon=icon)
    return qt_app


def read_sources_without_keeping() -> None:
    """Once PySide is loaded it looks at the source of every module imported after it (is
    it a PySide user, for its `__feature__` switches?) through inspect.getsource, and
    linecache then keeps every line of it: some 10 MB for the app's modules, for good, in
    small objects the allocator cannot give back. The same test (the text "PySide6" in the
    file), reading the file without keeping it; our own modules are not read at all (~30 µs
    each, some 40 before the first frame): True, the default feature set, suits them all.
    Left alone if PySide's internals change."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return

    def uses_pyside(module: object) -> bool:
        if getattr(module, "__name__", "").startswith("supalink."):
            return True
        origin = getattr(getattr(module, "__spec__", None), "origin", None)
        if not isinstance(origin, str) or not origin.endswith(".py"):
            return False  # built in, compiled or frozen: inspect finds no source either
        try:
            with open(origin, "rb") as file:
                return b"PySide6" in file.read()
        except OSError:
            return False

    setattr(feature, "_mod_uses_pyside", uses_pyside)  # noqa: B010 - mypy knows no such name on a module


def start_loop(qt_app: QApplication) -> asyncio.AbstractEventLoop:
    import asyncio

    loop = build_event_loop(qt_app)
    asyncio.set_event_loop(loop)
    install_quit_signals(loop, qt_app.quit)
    return loop


def start_qt() -> tuple[QApplication, asyncio.AbstractEventLoop]:
    qt_app = qt_application()
    return qt_app, start_loop(qt_app)

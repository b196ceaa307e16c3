"""Composition root: paths, logging, the Qt application, the qasync loop, shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from supalink.logs import SecretMasker, configure_logging
from supalink.paths import AppPaths

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from supalink.ui.context import AppContext

log = logging.getLogger(__name__)


def build_event_loop(qt_app: QCoreApplication) -> asyncio.AbstractEventLoop:
    """The one place the loop is built.

    qasync's default loop on Windows is the IOCP (proactor) one, which psycopg's
    async connections refuse; the selector loop works on every OS.
    """
    import qasync

    loop: asyncio.AbstractEventLoop = qasync.QSelectorEventLoop(qt_app)
    return loop


DESKTOP_FILE_NAME = "io.github.supalink.Supalink"  # packaging/linux/*.desktop


def configure_application(qt_app: QApplication) -> None:
    """Name, icon and desktop entry (Wayland links windows to the .desktop file by it)."""
    from PySide6.QtGui import QIcon

    from supalink.paths import resources_dir

    qt_app.setApplicationName("Supalink")
    qt_app.setOrganizationName("Supalink")
    qt_app.setDesktopFileName(DESKTOP_FILE_NAME)
    qt_app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "supalink.svg")))
    route_qt_messages()


def route_qt_messages() -> None:
    """Qt's own warnings go to the log file, not the terminal the user started us from."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("supalink.qt")
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


def install_quit_signals(loop: asyncio.AbstractEventLoop, quit_app: Callable[[], object]) -> None:
    """SIGINT and SIGTERM quit the app cleanly instead of killing it mid-write."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, quit_app)
        except (NotImplementedError, RuntimeError):  # Windows: no signal handlers on loops
            signal.signal(signum, lambda *_: quit_app())


def build_context(paths: AppPaths) -> AppContext:
    from supalink.profiles.repository import open_repository
    from supalink.profiles.secrets import KeyringSecretStore
    from supalink.ui.context import AppContext
    from supalink.ui.tasks import TaskRunner

    secrets = KeyringSecretStore()
    return AppContext(
        paths=paths,
        repository=open_repository(paths, secrets),
        tasks=TaskRunner(),
        keyring_description=secrets.description,
        keyring_usable=secrets.is_usable,
    )


def run_gui(paths: AppPaths | None = None) -> int:
    paths = paths or AppPaths.for_user()
    masker = SecretMasker()
    configure_logging(paths.log_file, masker)

    from PySide6.QtWidgets import QApplication

    from supalink.ui.main_window import MainWindow

    existing = QApplication.instance()
    qt_app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    configure_application(qt_app)
    loop = build_event_loop(qt_app)
    asyncio.set_event_loop(loop)
    install_quit_signals(loop, qt_app.quit)

    from supalink.ui.theme import Theme, apply_theme

    context = build_context(paths)
    apply_theme(qt_app, Theme(str(context.repository.preference("theme", Theme.SYSTEM))))
    window = MainWindow(context)
    window.show()
    log.info("app started")

    quit_requested = asyncio.Event()
    qt_app.aboutToQuit.connect(quit_requested.set)
    try:
        loop.run_until_complete(quit_requested.wait())
    finally:
        loop.close()
    log.info("app stopped")
    return 0


def versions(keyring_description: str) -> dict[str, str]:
    import platform

    import psycopg
    from PySide6 import QtCore
    from PySide6 import __version__ as pyside_version

    from supalink import __version__

    libpq = psycopg.pq.version()
    return {
        "supalink": __version__,
        "python": platform.python_version(),
        "qt": QtCore.qVersion(),
        "pyside6": pyside_version,
        "psycopg": psycopg.__version__,
        "libpq": f"{libpq // 10000}.{libpq % 100}",
        "keyring": keyring_description,
    }


def self_check(paths: AppPaths | None = None) -> int:
    """Open the windows offscreen, print versions, exit 0: packaging's smoke test."""
    import os
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from supalink.ui.main_window import MainWindow

    # A throwaway settings folder: a self-check never touches the user's profiles.
    with tempfile.TemporaryDirectory(prefix="supalink-self-check-") as scratch:
        context = build_context(paths or AppPaths.under(Path(scratch)))
        existing = QApplication.instance()
        qt_app = existing if isinstance(existing, QApplication) else QApplication([])
        configure_application(qt_app)
        window = MainWindow(context)
        window.show()
        qt_app.processEvents()
        opened = ["main"] if window.isVisible() else []
        window.close()
        for key, value in versions(context.keyring_description).items():
            print(f"{key}: {value}")
        print(f"qt platform: {qt_app.platformName()}")
        print(f"windows: {', '.join(opened) or 'none'}")
    return 0 if opened == ["main"] else 1


def run_demo() -> int:
    print("supalink: --demo is not available yet", file=sys.stderr)
    return 1

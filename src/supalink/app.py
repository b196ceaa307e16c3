"""Composition root: paths, logging, the Qt application, the qasync loop, shutdown.

The GUI starts in two halves: the main window is built and painted first, then asyncio,
qasync, the keyring (its backend probe) and the monitors (psycopg) load, as each of them
costs more than Qt itself (tests/benchmarks/run.py measures the start).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from supalink.paths import AppPaths

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication, QWidget

    from supalink.mcp import Host
    from supalink.profiles import SecretStore
    from supalink.ui.context import AppContext
    from supalink.ui.entry_banner import EntryBanner
    from supalink.ui.main_window import MainWindow
    from supalink.ui.theme import Theme
    from supalink.ui.tray import HealthTray

log = logging.getLogger(__name__)


def build_event_loop(qt_app: QCoreApplication) -> asyncio.AbstractEventLoop:
    """The one place the loop is built (ui/event_loop.py holds its parts).

    qasync's default loop on Windows is the IOCP (proactor) one, which psycopg's
    async connections refuse; the selector loop works on every OS.
    """
    from concurrent.futures import ThreadPoolExecutor

    from supalink.ui.event_loop import collect_garbage_on_the_main_thread, selector_loop_class

    collect_garbage_on_the_main_thread(qt_app)
    loop: asyncio.AbstractEventLoop = selector_loop_class()(qt_app)
    # qasync's own default executor runs on QThreads; Python's threads touch no Qt object.
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="supalink-worker"))
    return loop


DESKTOP_FILE_NAME = "io.github.supalink.Supalink"  # packaging/linux/*.desktop


def configure_application(qt_app: QApplication, *, icon: bool = True) -> None:
    """Name, icon and desktop entry (Wayland links windows to the .desktop file by it).
    Without `icon` the caller sets it (`set_window_icon`) once the main window has painted:
    QIcon's enums and the SVG plugin are some 5 ms of a start, for an icon the window
    system draws outside the window (Wayland, Windows and macOS take the desktop file's or
    the bundle's; an X11 title bar has it a moment after the first paint)."""
    qt_app.setApplicationName("Supalink")
    qt_app.setOrganizationName("Supalink")
    qt_app.setDesktopFileName(DESKTOP_FILE_NAME)
    if icon:
        set_window_icon(qt_app)
    route_qt_messages()


def set_window_icon(qt_app: QApplication) -> None:
    from PySide6.QtGui import QIcon

    from supalink.paths import resources_dir

    qt_app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "supalink.svg")))


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


def install_quit_signals(loop: asyncio.AbstractEventLoop, quit_app: Callable[[], object]) -> None:
    """SIGINT and SIGTERM quit the app cleanly instead of killing it mid-write."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, quit_app)
        except (NotImplementedError, RuntimeError):  # Windows: no signal handlers on loops
            signal.signal(signum, lambda *_: quit_app())


KEYRING_NOT_PROBED = "the keyring (checking…)"


def build_context(
    paths: AppPaths, secrets: SecretStore | None = None, *, probe_keyring: bool = True
) -> AppContext:
    """The windows' services. Without `probe_keyring` the keyring's description and
    usability are placeholders until `probe_keyring_of(context)`: the probe imports
    keyring and asks every backend (about 0.3 s), which the GUI does after its window
    is up."""
    from supalink.profiles import KeyringSecretStore, open_repository
    from supalink.ui.context import AppContext
    from supalink.ui.tasks import TaskRunner

    store = secrets or KeyringSecretStore()
    context = AppContext(
        repository=open_repository(paths, store),
        tasks=TaskRunner(lambda name, error: log.error("task %s failed: %s", name, error)),
        backup_dir=paths.backup_dir,
        keyring_description=KEYRING_NOT_PROBED,
        keyring_usable=True,
        audit_file=paths.audit_file,
    )
    if probe_keyring:
        probe_keyring_of(context)
    return context


def probe_keyring_of(context: AppContext) -> None:
    store = context.repository.secrets
    context.keyring_description = store.description
    context.keyring_usable = getattr(store, "is_usable", True)


def qt_application(*, icon: bool = True) -> QApplication:
    from PySide6.QtWidgets import QApplication

    from supalink.ui.theme import fusion_application

    existing = QApplication.instance()
    qt_app = existing if isinstance(existing, QApplication) else fusion_application(sys.argv)
    configure_application(qt_app, icon=icon)
    return qt_app


def start_loop(qt_app: QApplication) -> asyncio.AbstractEventLoop:
    import asyncio

    loop = build_event_loop(qt_app)
    asyncio.set_event_loop(loop)
    install_quit_signals(loop, qt_app.quit)
    return loop


def start_qt() -> tuple[QApplication, asyncio.AbstractEventLoop]:
    qt_app = qt_application()
    return qt_app, start_loop(qt_app)


# Qt platforms that draw without a window system.
HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)
NO_DISPLAY = (
    "no display: the app needs a desktop session (DISPLAY and WAYLAND_DISPLAY are not set); "
    "use the command line (`supalink --help`), or `supalink --self-check` to check the install"
)


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> str | None:
    """Why the window cannot open, or None. On Linux, Qt aborts the process (SIGABRT) when
    it finds no display: say so first, in words."""
    import os

    environ = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    # "offscreen", "offscreen:fontengine=freetype" or a list of fallbacks, "wayland;xcb".
    chosen = environ.get("QT_QPA_PLATFORM", "")
    names = {choice.split(":", 1)[0].strip() for choice in chosen.split(";")}
    return None if names & HEADLESS_PLATFORMS else NO_DISPLAY


def refuse_without_display() -> bool:
    """Print why there is no window and say True, when there is no display."""
    problem = display_problem()
    if problem is not None:
        print(f"supalink: {problem}", file=sys.stderr)
    return problem is not None


def run_gui(paths: AppPaths | None = None) -> int:
    if refuse_without_display():
        return 1
    paths = paths or AppPaths.for_user()
    # The context's plain modules (the profiles, json, dataclasses…) load before PySide: once
    # imported, PySide reads the source file of every module imported after it (for its
    # `__feature__` imports), some 0.2 ms a module.
    context = build_context(paths, probe_keyring=False)
    return run_windows(qt_application(icon=False), context, log_file=paths.log_file)


def run_windows(
    qt_app: QApplication,
    context: AppContext,
    *,
    after_start: Callable[[MainWindow], None] | None = None,
    log_file: Path | None = None,
) -> int:
    """Show the main window, then start the loop, the log file, the tray and the rest; run
    until the app quits, then stop every monitor and every task (bounded) before the loop
    closes."""
    import gc

    # No collector passes over the first frame's new objects (a dozen, ~3 ms of a start);
    # on again once it has painted.
    gc.disable()
    from PySide6.QtCore import QTimer

    from supalink.errors import SupalinkError
    from supalink.ui.main_window import MainWindow
    from supalink.ui.theme import (
        apply_theme,
        follow_system_color_scheme,
        remember_system_dark,
        remembered_system_dark,
        settle_system_scheme,
        theme_named,
    )

    def chosen_theme() -> Theme:
        try:
            return theme_named(context.repository.preference("theme"))
        except SupalinkError:  # settings it cannot read: the window opens and says why
            return theme_named(None)

    # The desktop's scheme as last seen: asking Qt builds the Qt namespace's enums (about a
    # fifth of a bare window's start), which the first paint then need not wait for.
    remembered = remembered_system_dark(context.repository)
    try:
        apply_theme(qt_app, chosen_theme(), system_dark=remembered)
        window = MainWindow(context, load_profiles=False, fill_menus=False)
        # Painted first: what follows (asyncio and qasync here, then the keyring probe, the
        # saved profiles and the monitors with psycopg) takes a good part of a second.
        show_and_wait_for_paint(window)
    finally:
        gc.enable()
    window.fill_menus()
    if qt_app.windowIcon().isNull():  # run_gui leaves it for now
        set_window_icon(qt_app)
    settle_system_scheme(qt_app, context.repository, chosen_theme, remembered)
    stop_following = follow_system_color_scheme(
        qt_app, chosen_theme, seen=lambda dark: remember_system_dark(context.repository, dark)
    )
    import asyncio

    loop = start_loop(qt_app)
    trays: list[HealthTray] = []
    QTimer.singleShot(
        0, lambda: trays.append(_finish_start(qt_app, context, window, after_start, log_file))
    )
    quit_requested = asyncio.Event()
    qt_app.aboutToQuit.connect(quit_requested.set)
    try:
        loop.run_until_complete(quit_requested.wait())
        loop.run_until_complete(shut_down(qt_app, context))
    finally:
        stop_following()
        for tray in trays:
            tray.close()
        loop.close()
    log.info("app stopped")
    return 0


FIRST_PAINT_WAIT_MS = 500


def show_and_wait_for_paint(window: QWidget) -> None:
    """Show the window and run Qt's own loop until it has painted once (at most 0.5 s): on
    a desktop the window system's expose event comes a moment after show()."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    waiting = QEventLoop()

    class FirstPaint(QObject):
        painted = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.painted = True
                waiting.quit()
            return False

    spotter = FirstPaint()
    window.installEventFilter(spotter)
    window.show()
    if not spotter.painted:
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, waiting.quit)
        waiting.exec()
    window.removeEventFilter(spotter)


def _finish_start(
    qt_app: QApplication,
    context: AppContext,
    window: MainWindow,
    after_start: Callable[[MainWindow], None] | None,
    log_file: Path | None,
) -> HealthTray:
    """The second half of the start, on the loop's first turn: the log file (its handler
    loads logging.handlers, socket and pickle: ~17 ms), the keyring, the saved profiles,
    the tray and the monitors."""
    from supalink.logs import SecretMasker, configure_logging, route_library_logs
    from supalink.ui.monitors import Monitors
    from supalink.ui.tray import HealthTray

    if log_file is not None:
        configure_logging(log_file, SecretMasker())
    route_library_logs()
    probe_keyring_of(context)
    tray = HealthTray()
    context.monitors = Monitors(tray, audit_file=context.audit_file)
    window.load_profiles()
    tray.show_main_requested.connect(lambda: _bring_up(window))
    tray.show_monitor_requested.connect(window.open_monitor)
    tray.quit_requested.connect(qt_app.quit)
    _watch_entries(context, window, tray)
    if after_start is not None:
        after_start(window)
    freeze_loaded_objects()
    log.info("app started")
    return tray


def _watch_entries(
    context: AppContext, window: MainWindow, tray: HealthTray, host: Host | None = None
) -> EntryBanner:
    """Notice when a client removes or changes an entry Supalink wrote: a banner in the
    main window (Write it again) and a tray message."""
    from supalink.mcp import ConfigWriter, McpClient, WatchEvent
    from supalink.ui.entry_banner import EntryBanner, attach_banner
    from supalink.ui.entry_watcher import EntryWatcher, described

    watcher = EntryWatcher(window)
    banner = EntryBanner(watcher, ConfigWriter(context.backup_dir))
    attach_banner(window, banner)

    def tell(event: WatchEvent, client: McpClient, _path: object) -> None:
        if event.event in ("removed", "changed") and tray.icon is not None:
            tray.icon.showMessage(
                "Supalink", f"{described(event, client.name)}: Write it again in Supalink."
            )

    watcher.happened.connect(tell)
    watcher.watch_found(host)
    return banner


def freeze_loaded_objects() -> None:
    """Leave everything loaded so far (modules, Qt wrappers, the main window: some 90,000
    objects) out of the garbage collector's full passes. A flood of notifications makes
    the collector run full passes, and each one walked all of it: a 70-90 ms stall of the
    loop, twice per 200,000 notifications. What stays is what a monitor adds."""
    import gc

    gc.collect()
    gc.freeze()


async def shut_down(qt_app: QApplication, context: AppContext) -> None:
    """Close every window, stop every monitor and task (each bounded): nothing is left
    holding a connection when the process ends."""
    # Closing the last window must not quit (and stop the loop) a second time.
    qt_app.setQuitOnLastWindowClosed(False)
    for widget in qt_app.topLevelWidgets():
        widget.close()
    if context.monitors is not None:
        await context.monitors.stop_all()
    await context.tasks.shutdown()


def _bring_up(window: QWidget) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()


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
    """Open the main and monitor windows offscreen, print versions, exit 0: packaging's
    smoke test. Nothing connects and the user's settings are not read."""
    import os
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from supalink.monitor import MonitorEngine
    from supalink.profiles import Target
    from supalink.ui.main_window import MainWindow
    from supalink.ui.monitor_window import MonitorWindow

    with tempfile.TemporaryDirectory(prefix="supalink-self-check-") as scratch:
        context = build_context(paths or AppPaths.under(Path(scratch)))
        qt_app, loop = start_qt()
        opened = []
        window = MainWindow(context)
        window.show()
        # A monitor that is built and shown but never started: no connection is made.
        monitor = MonitorWindow(MonitorEngine(Target.from_conninfo(SELF_CHECK_URI)), "self-check")
        monitor.show()
        qt_app.processEvents()
        opened = [name for name, w in (("main", window), ("monitor", monitor)) if w.isVisible()]
        try:
            loop.run_until_complete(monitor.stop())
        finally:
            window.close()
            monitor.close()
            loop.close()
        for key, value in versions(context.keyring_description).items():
            print(f"{key}: {value}")
        print(f"qt platform: {qt_app.platformName()}")
        print(f"windows: {', '.join(opened) or 'none'}")
    return 0 if opened == ["main", "monitor"] else 1


SELF_CHECK_URI = "postgresql://self-check@127.0.0.1:1/postgres"


def run_demo() -> int:
    """A throwaway local PostgreSQL, a demo profile (password in memory only), the monitor
    open on it and a notifier, so a newcomer sees everything move."""
    from supalink.demo import DEMO_CHANNEL, DemoUnavailable, run_notifier, start_demo_server
    from supalink.profiles import MemorySecretStore, Target

    if refuse_without_display():  # before a server is started for nothing
        return 1
    try:
        server = start_demo_server()
    except DemoUnavailable as error:
        print(f"supalink --demo: {error}", file=sys.stderr)
        return 1
    try:
        # The settings and the log live in the server's folder, which goes with it.
        paths = AppPaths.under(server.root / "settings")
        qt_app = qt_application()
        context = build_context(paths, MemorySecretStore())
        profile = server.profile()
        context.repository.save(profile, server.password)
        print(
            f"supalink --demo: PostgreSQL on 127.0.0.1:{server.port}, "
            f"notifications on {DEMO_CHANNEL!r}; close the windows to end the demo "
            f"(its files: {server.root})",
            flush=True,
        )

        def started(window: MainWindow) -> None:
            window.reload_profiles(select=profile.name)
            assert context.monitors is not None
            target = Target.from_profile(profile, server.password)
            context.monitors.open(profile.name, target, channels=[DEMO_CHANNEL])
            context.tasks.run("demo-notifier", run_notifier(target.connection_kwargs()))

        return run_windows(qt_app, context, after_start=started, log_file=paths.log_file)
    finally:
        server.stop()

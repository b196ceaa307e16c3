"""The app's windows from start to quit, the start in two halves.

The main window is built and painted first; then asyncio, qasync, the keyring (its
backend probe) and the monitors (psycopg) load on the loop's first turn, as each of them
costs more than Qt itself (tests/benchmarks/run.py measures the start). The loop runs
until the app quits, and everything is stopped before it closes (quitting.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from supalink.app.context import probe_keyring_of
from supalink.app.qt import set_window_icon, start_loop
from supalink.app.quitting import quit_signals_through, shut_down
from supalink.app.tray import connect_tray, watch_entries

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from PySide6.QtWidgets import QApplication, QWidget

    from supalink.app.session import Session
    from supalink.app.session_keeper import SessionKeeper
    from supalink.ui import AppContext, HealthTray, MainWindow, Preferences, Theme

log = logging.getLogger(__name__)


def run_windows(
    qt_app: QApplication,
    context: AppContext,
    *,
    after_start: Callable[[MainWindow], None] | None = None,
    log_file: Path | None = None,
    restore: bool = True,
    first_frame: Preferences | None = None,
) -> int:
    """Show the main window, then start the loop, the log file, the tray and the rest; run
    until the app quits, then stop every monitor and every task (bounded) before the loop
    closes. With `restore` the windows come back as the last run left them (the session:
    app/session.py); without, the app starts clean, and the session is written again only
    once this run changes something. The first frame reads its preferences from
    `first_frame` (the settings file as it stands: app/first_frame.py), when given, so that
    the repository opens after it."""
    import gc

    # No collector passes over the first frame's new objects, all of which stay (the app's
    # command turns it off before its imports already); on again once it has painted.
    gc.disable()
    from PySide6.QtCore import QTimer

    from supalink.app.session import Session
    from supalink.app.session_keeper import place_window, remembered_session
    from supalink.errors import SupalinkError
    from supalink.ui import (
        MainWindow,
        apply_theme,
        follow_system_color_scheme,
        remember_system_dark,
        remembered_system_dark,
        settle_system_scheme,
        theme_named,
    )

    def chosen_theme(preferences: Preferences | None = None) -> Theme:
        try:
            return theme_named((preferences or context.repository).preference("theme"))
        except SupalinkError:  # settings it cannot read: the window opens and says why
            return theme_named(None)

    # The desktop's scheme as last seen: asking Qt builds the Qt namespace's enums (about a
    # fifth of a bare window's start), which the first paint then need not wait for.
    preferences = first_frame or context.repository
    remembered = remembered_system_dark(preferences)
    session = remembered_session(preferences) if restore else Session()
    try:
        apply_theme(qt_app, chosen_theme(preferences), system_dark=remembered)
        window = MainWindow(context, load_profiles=False, fill_menus=False)
        place_window(window, session.main)
        # Painted first: what follows (asyncio and qasync here, then the keyring probe, the
        # saved profiles and the monitors with psycopg) takes a good part of a second.
        show_and_wait_for_paint(
            window, maximized=session.main is not None and session.main.maximized
        )
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
    started: list[tuple[HealthTray, SessionKeeper]] = []
    QTimer.singleShot(
        0,
        lambda: started.append(
            _finish_start(loop, context, window, after_start, log_file, session, restore)
        ),
    )
    quit_requested = asyncio.Event()
    qt_app.aboutToQuit.connect(quit_requested.set)
    try:
        loop.run_until_complete(quit_requested.wait())
        keeper = started[0][1] if started else None
        loop.run_until_complete(shut_down(qt_app, context, keeper))
    finally:
        stop_following()
        for tray, _ in started:
            tray.close()
        loop.close()
    log.info("app stopped")
    return 0


FIRST_PAINT_WAIT_MS = 500


def show_and_wait_for_paint(window: QWidget, *, maximized: bool = False) -> None:
    """Show the window (maximized, when it was) and run Qt's own loop until it has painted
    once (at most 0.5 s): on a desktop the window system's expose event comes a moment
    after show()."""
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
    if maximized:
        window.showMaximized()
    else:
        window.show()
    if not spotter.painted:
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, waiting.quit)
        waiting.exec()
    window.removeEventFilter(spotter)


def _finish_start(
    loop: asyncio.AbstractEventLoop,
    context: AppContext,
    window: MainWindow,
    after_start: Callable[[MainWindow], None] | None,
    log_file: Path | None,
    session: Session,
    restore: bool,
) -> tuple[HealthTray, SessionKeeper]:
    """The second half of the start, on the loop's first turn: the log file (its handler
    loads logging.handlers, socket and pickle: ~17 ms), the keyring, the saved profiles,
    the tray, and the monitors (those of the session reopened)."""
    from supalink.app.session_keeper import SessionKeeper
    from supalink.logs import SecretMasker, configure_logging, route_library_logs
    from supalink.ui import HealthTray, MonitorAlerts, Monitors, desktop_sink

    if log_file is not None:
        configure_logging(log_file, SecretMasker())
    route_library_logs()
    probe_keyring_of(context)
    tray = HealthTray()
    alerts = MonitorAlerts(desktop_sink(tray), context.repository)
    context.monitors = Monitors(tray, audit_file=context.audit_file, alerts=alerts)
    window.load_profiles()
    connect_tray(window, tray)
    quit_signals_through(loop, window)
    watch_entries(context, window, tray)
    keeper = SessionKeeper(context.repository, window, context.monitors)
    keeper.reopen(session.monitors)
    keeper.settle(session if restore else None)
    if after_start is not None:
        after_start(window)
    freeze_loaded_objects()
    log.info("app started")
    return tray, keeper


def freeze_loaded_objects() -> None:
    """Leave everything loaded so far (modules, Qt wrappers, the main window: some 90,000
    objects) out of the garbage collector's full passes. A flood of notifications makes
    the collector run full passes, and each one walked all of it: a 70-90 ms stall of the
    loop, twice per 200,000 notifications. What stays is what a monitor adds."""
    import gc
    import linecache

    # The lines linecache kept of sources PySide's check read before the app replaced it
    # (app/qt.py, read_sources_without_keeping), and any traceback's: a traceback that
    # needs a line reads the file again.
    linecache.clearcache()
    gc.collect()
    gc.freeze()

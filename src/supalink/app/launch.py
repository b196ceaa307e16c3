"""The app's three ways to run, as `supalink` starts them: the windows (no command), the
demo (`--demo`) and packaging's smoke test (`--self-check`); the first two say so and stop
when there is no display to open a window on."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from supalink.app.context import build_context
from supalink.app.first_frame import FirstFramePreferences
from supalink.app.qt import qt_application, start_qt
from supalink.app.startup import run_windows
from supalink.paths import AppPaths

if TYPE_CHECKING:
    from supalink.ui import MainWindow

# Qt platforms that draw without a window system.
HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)
NO_DISPLAY = (
    "no display: the app needs a desktop session (DISPLAY and WAYLAND_DISPLAY are not set); "
    "use the command line (`supalink --help`), or `supalink --self-check` to check the install"
)
SELF_CHECK_URI = "postgresql://self-check@127.0.0.1:1/postgres"


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


def run_gui(paths: AppPaths | None = None, *, restore: bool = True) -> int:
    """The app's windows. Without `restore` (`--no-restore`) they start clean: no monitor
    reopens, the main window at its default size."""
    if refuse_without_display():
        return 1
    paths = paths or AppPaths.for_user()
    # The context's plain modules (the profiles, json, dataclasses…) load before PySide: once
    # imported, PySide reads the source file of every module imported after it (for its
    # `__feature__` imports), some 0.2 ms a module.
    context = build_context(paths, probe_keyring=False)
    first_frame = FirstFramePreferences(paths.settings_file)
    return run_windows(
        qt_application(icon=False),
        context,
        log_file=paths.log_file,
        restore=restore,
        first_frame=first_frame,
    )


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


def self_check(paths: AppPaths | None = None) -> int:
    """Open the main and monitor windows offscreen, print versions, exit 0: packaging's
    smoke test. Nothing connects and the user's settings are not read."""
    import os
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from supalink.monitor import MonitorEngine
    from supalink.profiles import Target
    from supalink.ui import MainWindow, MonitorWindow

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

"""Every top-level window at its minimum size, checked in a child process: QT_SCALE_FACTOR
is read once, before the QApplication exists (tests/ui/test_window_sizes.py starts one
child per screen: 1024x768 and 1366x768, each at 100 % and at 200 %, offscreen).

    QT_SCALE_FACTOR=2 QT_QPA_PLATFORM=offscreen:configfile=screen.json \\
        python -m tests.support.window_sizes

prints one JSON object: each window state's minimum size in device pixels, and what is
wrong with it at that size ("problems"). Each window is shown in its fullest state (a test
result with its diagnosis, every row of the Write config dialog, the monitor's every tab):
what a person may meet, not a blank form.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QRect, QSize, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QTabBar,
    QTabWidget,
    QWidget,
)

# The windows this checks, by class: tests/ui/test_window_sizes.py fails when ui/ has a
# top-level window class (a QDialog's, a QMainWindow's) this list does not name.
WINDOW_CLASSES = (
    "MainWindow",
    "MonitorWindow",
    "ConfigDialog",
    "RoleDialog",
    "SizingDialog",
    "SnippetsDialog",
    "SupabaseDialog",
)
# The dialogs Qt makes for a static call (QInputDialog.getText), by the ui module that
# makes the call: the test fails when another module makes one this does not name.
PROMPTS = {
    "password_prompt": "password prompt",
    "profile_actions": "rename prompt",
    "profile_exchange": "project ref prompt",
}
TASKBAR = 40  # device pixels a desktop's panel takes off the screen's height
TALLEST = 4000  # logical pixels: a window cut even this tall is cut for good
# Widgets a person reads or uses: each must be whole on screen or in a scroll area.
SEEN = (
    QAbstractButton,
    QLineEdit,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QProgressBar,
    QTabBar,
    QAbstractScrollArea,
)
LONG_ERROR = (
    "connection to server at db.abcdefghijklmnopqrst.supabase.co (2600:1f18::1), port 5432 "
    "failed: server closed the connection unexpectedly. This probably means the server "
    "terminated abnormally before or while processing the request."
)

# A window, or a call that opens one and waits on it (a QInputDialog's static call).
State = tuple[str, QWidget | Callable[[], object]]


# A folder to grab each window into, at its minimum size (for a person to look at).
SHOTS = "SUPALINK_WINDOW_SHOTS"


def problems_of(window: QWidget) -> list[str]:
    """What is cut at the window's present size: a widget outside the window (or outside
    the content of the scroll area it is in), a button narrower than its text, a wrapped
    label lower than its lines."""
    found: list[str] = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, SEEN) or not widget.isVisibleTo(window):
            continue
        if _inside_item_view(widget, window):
            continue  # a table's header, a spin box's line edit: the view's own
        name = _name(widget)
        if (cut := _cut_by(widget, window)) is not None:
            found.append(f"{name} cut by {cut}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.sizeHint().width() > widget.width():
                found.append(f"{name}: text cut ({widget.width()} < {widget.sizeHint().width()})")
        elif isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
            needed = widget.heightForWidth(widget.width())
            if needed > widget.height():
                found.append(f"{name}: lines cut ({widget.height()} < {needed})")
    return found


def _inside_item_view(widget: QWidget, window: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        owner = isinstance(parent, QAbstractScrollArea | QAbstractSpinBox | QComboBox)
        if owner and not isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _cut_by(widget: QWidget, window: QWidget) -> str | None:
    """The first ancestor that does not show all of `widget`; a scroll area's content is
    reached by scrolling, so there the question is whether it holds the widget."""
    rect = QRect(0, 0, widget.width(), widget.height())
    if rect.isEmpty():
        return "its own size (empty)"
    current = widget
    while current is not window:
        parent = current.parentWidget()
        assert parent is not None, "a widget of the window"
        rect = rect.translated(current.pos())
        scroll = parent.parentWidget()
        if isinstance(scroll, QScrollArea) and scroll.widget() is current:
            if not QRect(0, 0, current.width(), current.height()).contains(
                rect.translated(-current.pos())
            ):
                return _name(current)
            rect = QRect(0, 0, scroll.width(), scroll.height())
            current = scroll
            continue
        if not QRect(0, 0, parent.width(), parent.height()).contains(rect):
            return f"{_name(parent)} {rect.getRect()} in {parent.width()}x{parent.height()}"
        current = parent
    return None


def _name(widget: QWidget) -> str:
    text = ""
    if isinstance(widget, QAbstractButton | QLabel):
        text = widget.text()[:30]
    label = widget.accessibleName() or text or widget.objectName()
    return f"{type(widget).__name__}({label!r})"


def minimum_size(window: QWidget) -> tuple[int, int]:
    size = window.minimumSizeHint().expandedTo(window.minimumSize())
    return size.width(), size.height()


def check(
    name: str, window: QWidget, app: QApplication, screen: QSize, report: dict[str, object]
) -> None:
    """Record `window`'s minimum size, the least height at which nothing is cut when it is
    as wide as `screen` (a wrapped label takes more lines when the window is narrow, which
    Qt's minimum height does not count), and what is cut: buttons at the minimum size, and
    anything at all when the window fills `screen`."""
    window.show()
    app.processEvents()
    width, height = minimum_size(window)
    window.resize(width, height)
    app.processEvents()
    # Again at that width: a row of buttons that takes two lines when narrow is higher there.
    width, height = minimum_size(window)
    problems = [p for p in problems_at(window, app, width, height) if "text cut" in p]
    wide = max(width, screen.width())
    least = height
    if problems_at(window, app, wide, least):
        low, least = least, max(TALLEST, screen.height())
        while least - low > 1:
            middle = (low + least) // 2
            if problems_at(window, app, wide, middle):
                low = middle
            else:
                least = middle
    problems += problems_at(window, app, wide, max(screen.height(), height))
    if shots := os.environ.get(SHOTS):  # to look at each window as the test left it
        window.resize(width, height)
        app.processEvents()
        window.grab().save(str(Path(shots) / f"{name}-minimum.png"))
    ratio = window.devicePixelRatioF()
    report[name] = {
        "minimum": [round(width * ratio), round(height * ratio)],
        "least_height": round(least * ratio),
        "problems": problems,
    }


def problems_at(window: QWidget, app: QApplication, width: int, height: int) -> list[str]:
    """What is cut at this size, on each page of each tab widget."""
    window.resize(width, height)
    app.processEvents()
    problems = problems_of(window)
    for tabs in window.findChildren(QTabWidget):
        if not tabs.isVisibleTo(window):
            continue
        shown = tabs.currentIndex()
        for index in range(tabs.count()):
            if index != shown:
                tabs.setCurrentIndex(index)
                app.processEvents()
                problems += [f"tab {tabs.tabText(index)}: {p}" for p in problems_of(window)]
        tabs.setCurrentIndex(shown)
    return problems


def free_port() -> int:
    """A local port nothing listens on: a test there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def windows(app: QApplication, folder: Path) -> Iterator[State]:
    """Each window in the states worth checking, the fullest first built."""
    from supalink.mcp import Host
    from supalink.paths import AppPaths
    from supalink.profiles import MemorySecretStore, Mode, Profile, ProfileRepository, Target
    from supalink.profiles.settings import SettingsFile
    from supalink.ui.context import AppContext
    from supalink.ui.tasks import TaskRunner

    paths = AppPaths.under(folder)
    secrets = MemorySecretStore()
    repository = ProfileRepository(SettingsFile(paths.settings_file), secrets)
    context = AppContext(
        open_repository=lambda: repository,
        tasks=TaskRunner(),
        backup_dir=paths.backup_dir,
        keyring_description=secrets.description,
        keyring_usable=True,
    )
    profile = Profile(
        "Production eu-central-1",
        host="127.0.0.1",
        port=free_port(),
        user="postgres",
        sslmode="verify-full",
        sslrootcert=str(folder / "prod-ca-2021.crt"),  # missing: the form says so
    )
    target = Target.from_profile(profile, "pw")

    from supalink.ui.main_window import MainWindow

    main = MainWindow(context)  # no profile: the welcome shows
    yield "MainWindow welcome", main
    main.form.set_profile(profile, "pw")
    main.test_panel.show()
    loop = asyncio.get_event_loop()
    loop.run_until_complete(
        main.test_panel.run(target)
    )  # refused at once: a failure and its diagnosis
    yield "MainWindow test result", main
    main.close()

    yield from monitor_window(target)

    from supalink.ui.config_dialog import ConfigDialog

    host = Host("linux", {"XDG_CONFIG_HOME": str(folder / "xdg")}, folder / "home")
    dialog = ConfigDialog(
        context.tasks, context.backup_dir, target, password_in_keyring=False, host=host
    )
    for row in (dialog.role_row, dialog.repoint):  # every row it may show, at once
        row.message.setText(LONG_ERROR)
        row.button.setText(row.button.text() or "Give the agent a role of its own…")
        row.show()
    dialog.notes.setText(LONG_ERROR)
    dialog.status.setText(LONG_ERROR)
    dialog.client_log.setPlainText(LONG_ERROR)
    dialog.client_log.show()
    yield "ConfigDialog", dialog

    from supalink.ui.role_dialog import RoleDialog

    yield "RoleDialog", RoleDialog(context.tasks, repository, target)

    from supalink.ui.sizing_dialog import SizingDialog

    # The server's own limit, one no compute size has: its entry and its line show.
    yield "SizingDialog", SizingDialog(max_connections=41)

    from supalink.ui.snippets_dialog import SnippetsDialog

    yield "SnippetsDialog", SnippetsDialog(profile)

    from supalink.ui.supabase_dialog import SupabaseDialog

    yield "SupabaseDialog", SupabaseDialog(context.tasks, secrets)

    from supalink.ui.password_prompt import ask_password

    yield PROMPTS["password_prompt"], lambda: ask_password(main, repository, profile.name)
    yield PROMPTS["profile_actions"], lambda: main.profile_actions.rename(profile.name)

    from supalink.profiles import ImportPlan, Incoming
    from supalink.ui import profile_exchange

    # An imported Supabase profile without its ref: the longest question an import asks.
    locked = Incoming(Profile(profile.name, Mode.SESSION, ref=None), True, False)
    plan = ImportPlan("profiles.json", (locked,))
    yield PROMPTS["profile_exchange"], lambda: profile_exchange._ask_refs(main, plan)


def monitor_window(target: object) -> Iterator[State]:
    from supalink.monitor import (
        Health,
        HealthReport,
        MonitorEngine,
        ServerSnapshot,
        StatsSample,
    )
    from supalink.monitor.server_view import ActivityGroup
    from supalink.profiles import Target
    from supalink.ui.monitor_window import MonitorWindow

    assert isinstance(target, Target)
    window = MonitorWindow(MonitorEngine(target), "Production eu-central-1")
    now = time.time()
    sample = StatsSample(now, "open", 4, 3, 1, 0, 12_345, 2, 1, 0.4, 1, 4)
    window.pool_panel.show_sample(sample)
    window.pool_panel.show_history([sample])
    groups = tuple(
        ActivityGroup(name, state, count)
        for name, state, count in (
            ("supalink-monitor", "idle", 2),
            ("postgrest", "idle in transaction", 12),
            ("Supavisor", "active", 40),
        )
    )
    window.server_panel.show_snapshot(ServerSnapshot(now, groups, 54, 60, 3, 0.0123))
    window.health_bar.show_report(
        HealthReport(Health.DOWN, now, None, LONG_ERROR, LONG_ERROR, since=now - 60)
    )
    window.banner.show_failure("listener", LONG_ERROR)
    window.notifications.listener_disconnected(LONG_ERROR)
    yield "MonitorWindow", window
    window.agent.stop()


def check_modal(
    name: str,
    opens: Callable[[], object],
    app: QApplication,
    screen: QSize,
    report: dict[str, object],
) -> None:
    """Check the dialog `opens` shows and waits on, while it is open; then close it."""
    seen: list[str] = []

    def catch() -> None:
        widget = QApplication.activeModalWidget()
        if not isinstance(widget, QDialog):
            QTimer.singleShot(10, catch)
            return
        check(name, widget, app, screen, report)
        seen.append(name)
        widget.reject()

    QTimer.singleShot(0, catch)
    opens()
    assert seen, f"{name}: no dialog opened"


def main() -> None:
    app = QApplication(sys.argv[:1])
    import qasync

    asyncio.set_event_loop(qasync.QEventLoop(app))  # the dialogs' tasks run on it
    from supalink.ui.theme import apply_theme, theme_named

    apply_theme(app, theme_named(None))  # Fusion, as the app starts
    screen = app.primaryScreen()
    ratio = screen.devicePixelRatio()
    whole = screen.geometry()
    # What a window may take: the screen less a desktop's panel (TASKBAR device pixels).
    room = QSize(whole.width(), whole.height() - round(TASKBAR / ratio))
    report: dict[str, object] = {
        "ratio": ratio,
        "room": [round(room.width() * ratio), round(room.height() * ratio)],
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, window in windows(app, Path(folder)):
            if isinstance(window, QWidget):
                check(name, window, app, room, report)
                window.hide()
            else:
                check_modal(name, window, app, room, report)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

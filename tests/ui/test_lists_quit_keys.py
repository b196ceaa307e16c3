"""Issue 31, a window left open for days: the profile list follows what the form shows (a
profile the role step made is listed at once; after Add a click goes back to a saved one;
Delete is the shown profile's, No its default), every Quit asks the same questions in the same
order and does nothing until all are answered yes, and each Alt letter of the main window
belongs to one thing, the menus' to the menus."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from supalink.app.quitting import quit_signals_through
from supalink.app.tray import connect_tray
from supalink.errors import SupalinkError
from supalink.mcp import ConfigWriter
from supalink.profiles import Profile
from supalink.roles import AgentLink
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.entry_banner import EntryBanner, attach_banner
from supalink.ui.entry_watcher import EntryWatcher
from supalink.ui.main_window import MainWindow
from supalink.ui.tray import HealthTray

QUESTION = "PySide6.QtWidgets.QMessageBox.question"
QUIT = "supalink.ui.main_window.QApplication.quit"
Button = QMessageBox.StandardButton


def local(name: str) -> Profile:
    return Profile(name, host="127.0.0.1", port=5432, user="app")


def window_on(qtbot: QtBot, context: AppContext, *saved: str) -> MainWindow:
    for name in saved:
        context.repository.save(local(name), "pw")
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    return window


def listed(window: MainWindow) -> list[str]:
    rows = window.profiles.list
    return [rows.item(row).data(Qt.ItemDataRole.UserRole) for row in range(rows.count())]


def click_row(qtbot: QtBot, window: MainWindow, row: int) -> None:
    rows = window.profiles.list
    where = rows.visualItemRect(rows.item(row)).center()
    QTest.mouseClick(rows.viewport(), Qt.MouseButton.LeftButton, pos=where)


class Answers:
    """QMessageBox.question answering by title, keeping each title asked and its default."""

    def __init__(self, by_title: dict[str, Button] | None = None) -> None:
        self.by_title = by_title or {}  # Cancel to any other
        self.asked: list[str] = []
        self.defaults: list[object] = []

    def __call__(self, _parent: object, title: str, _text: str, *args: object) -> Button:
        self.asked.append(title)
        self.defaults.append(args[1] if len(args) > 1 else None)
        return self.by_title.get(title, Button.Cancel)


# ----- point 3: lists that follow ------------------------------------------------------------


def test_the_role_steps_agent_profile_is_listed_at_once_the_form_keeping_its_own(
    qtbot: QtBot, app_context: AppContext, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    window = window_on(qtbot, app_context, "Admin")
    shown: list[ConfigDialog] = []

    def exec_(dialog: ConfigDialog) -> int:  # modal: it would wait for a person
        shown.append(dialog)
        return 0

    with patch.object(ConfigDialog, "exec", exec_):
        window.write_config()
    [dialog] = shown
    qtbot.addWidget(dialog)
    # What roles.apply leaves behind, then the role dialog's accepted announcement.
    app_context.repository.save(local("Admin-agent"), "agent-pw")
    dialog.role_row.made.emit(SimpleNamespace(link=AgentLink("Admin-agent", "Admin", "agent")))
    assert listed(window) == ["Admin", "Admin-agent"]
    assert window.profiles.current() == "Admin"
    assert window.current_name == "Admin"
    assert dialog.profile.name == "Admin-agent"  # the dialog writes the agent's entry
    # The dialog's check of the login's rights is not this test's: stopped, not left pending.
    qasync_loop.run_until_complete(app_context.tasks.shutdown())


def test_after_add_a_click_on_the_saved_profile_goes_back_to_it(
    qtbot: QtBot, app_context: AppContext, message_boxes: list[tuple[str, str]]
) -> None:
    window = window_on(qtbot, app_context, "Local SSL")
    assert window.current_name == "Local SSL"
    window.profiles.add.click()
    assert window.profiles.current() == ""  # nothing highlighted: the form shows a new one
    assert not window.profiles.delete.isEnabled()
    QTest.keyClicks(window.form.database, "edited")
    assert window.windowTitle() == "• new profile — Supalink"
    click_row(qtbot, window, 0)  # the recorded question answers Discard
    assert message_boxes == [("Unsaved changes", "Save the changes to this profile?")]
    assert window.current_name == "Local SSL"
    assert window.windowTitle() == "Local SSL — Supalink"
    assert window.profiles.delete.isEnabled()


def test_delete_is_the_shown_profiles_and_no_is_its_default(
    qtbot: QtBot, app_context: AppContext
) -> None:
    window = window_on(qtbot, app_context, "Local SSL", "Other")
    window.new_profile()
    answers = Answers({"Delete profile": Button.Yes})
    with patch(QUESTION, answers):
        window.profiles.delete_requested.emit("Local SSL")  # a stale request: a new one shows
        assert answers.asked == []
        click_row(qtbot, window, 1)
        assert window.current_name == "Other"
        window.profiles.delete.click()
    assert answers.asked == ["Delete profile"]
    assert answers.defaults == [Button.No]
    assert app_context.repository.names() == ["Local SSL"]


def test_a_profile_that_cannot_open_leaves_the_list_on_the_one_shown(
    qtbot: QtBot, app_context: AppContext
) -> None:
    window = window_on(qtbot, app_context, "Local SSL", "Other")
    repository = app_context.repository
    opened = repository.load

    def load(name: str) -> object:
        if name == "Other":
            raise SupalinkError("the settings file changed under the app")
        return opened(name)

    with patch.object(repository, "load", load):
        click_row(qtbot, window, 1)
    assert window.current_name == "Local SSL"
    assert window.profiles.current() == "Local SSL"  # what Delete and Rename act on


# ----- point 6: one quit path ----------------------------------------------------------------


class OneMonitorOpen:
    open_count = 1


def dirty_window_with_a_monitor(
    qtbot: QtBot, app_context: AppContext
) -> tuple[MainWindow, HealthTray]:
    app_context.monitors = OneMonitorOpen()  # type: ignore[assignment]
    window = window_on(qtbot, app_context, "Kept")
    tray = HealthTray(tray_available=False)
    connect_tray(window, tray)
    window.form.database.setText("edited")
    assert window.dirty
    return window, tray


def test_every_quit_asks_the_edits_then_the_monitors_and_cancel_changes_nothing(
    qtbot: QtBot, app_context: AppContext
) -> None:
    window, tray = dirty_window_with_a_monitor(qtbot, app_context)
    quits: list[bool] = []
    for quit_action in (window.menus.quit_action, tray.quit_action):
        answers = Answers({"Unsaved changes": Button.Save, "Quit Supalink": Button.Cancel})
        with patch(QUESTION, answers), patch(QUIT, lambda: quits.append(True)):
            quit_action.trigger()
        assert answers.asked == ["Unsaved changes", "Quit Supalink"]
        assert quits == []
        assert window.dirty  # nothing saved: the answers were not all yes
        assert window.isVisible()
        assert app_context.repository.load("Kept").profile.database != "edited"
    answers = Answers({"Unsaved changes": Button.Save, "Quit Supalink": Button.Yes})
    with patch(QUESTION, answers), patch(QUIT, lambda: quits.append(True)):
        tray.quit_action.trigger()
        assert answers.asked == ["Unsaved changes", "Quit Supalink"]
        assert quits == [True]
        assert app_context.repository.load("Kept").profile.database == "edited"
        window.close()  # Qt 6's quit closes every window: this one asks nothing more
    assert answers.asked == ["Unsaved changes", "Quit Supalink"]
    assert not window.isVisible()


def test_ctrl_q_is_file_quit(qtbot: QtBot, app_context: AppContext) -> None:
    window, _ = dirty_window_with_a_monitor(qtbot, app_context)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    answers = Answers()
    with patch(QUESTION, answers):
        QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answers.asked == ["Unsaved changes"]  # Cancel there: the monitors are not asked


class SignalLoop:
    """The event loop's side of signals: the handlers it would call."""

    def __init__(self) -> None:
        self.handlers: dict[int, Callable[[], object]] = {}

    def add_signal_handler(self, signum: int, callback: Callable[[], object]) -> None:
        self.handlers[signum] = callback


def test_a_signal_quits_without_a_question(qtbot: QtBot, app_context: AppContext) -> None:
    window, _ = dirty_window_with_a_monitor(qtbot, app_context)
    loop = SignalLoop()
    quit_signals_through(loop, window)  # type: ignore[arg-type]
    assert set(loop.handlers) == {signal.SIGINT, signal.SIGTERM}
    answers = Answers()
    quits: list[bool] = []
    with patch(QUESTION, answers), patch(QUIT, lambda: quits.append(True)):
        loop.handlers[signal.SIGTERM]()
        window.close()  # Qt 6's quit closes every window
    assert (answers.asked, quits) == ([], [True])
    assert not window.isVisible()


# ----- point 7: Alt letters ------------------------------------------------------------------


def alt_letter(text: str) -> str:
    return QKeySequence.mnemonic(text).toString()


def window_with_everything(qtbot: QtBot, app_context: AppContext, tmp_path: Path) -> MainWindow:
    """The main window with all it may show: a profile, the test panel, the welcome and the
    banner about a client's changed entry."""
    window = window_on(qtbot, app_context, "Keys")
    window.fill_menus()
    attach_banner(window, EntryBanner(EntryWatcher(window), ConfigWriter(tmp_path)))
    assert window.test_panel is not None  # built on first use, as a test builds it
    assert window.welcome is not None
    return window


def test_each_alt_letter_of_the_main_window_belongs_to_one_thing_never_to_a_menu(
    qtbot: QtBot, app_context: AppContext, tmp_path: Path
) -> None:
    window = window_with_everything(qtbot, app_context, tmp_path)
    menus = {alt_letter(action.text()): action.text() for action in window.menuBar().actions()}
    assert set(menus) == {"Alt+F", "Alt+P", "Alt+V", "Alt+H"}
    owners = [button.text() for button in window.findChildren(QAbstractButton)]
    owners += [label.text() for label in window.findChildren(QLabel) if label.buddy()]
    letters = Counter(alt_letter(text) for text in owners if alt_letter(text))
    assert [letter for letter, count in letters.items() if count > 1] == []
    assert set(letters) & set(menus) == set()
    assert alt_letter(window.config_button.text()) == "Alt+W"
    for menu in (window.menus.file_menu, window.menus.profile_menu):  # each menu's own
        inside = [alt_letter(action.text()) for action in menu.actions() if action.text()]
        assert len(inside) == len(set(inside)), inside


@pytest.mark.parametrize("key", ["P", "F"])
def test_alt_opens_its_menu(qtbot: QtBot, app_context: AppContext, key: str) -> None:
    window = window_on(qtbot, app_context, "Keys")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    menu = {"P": window.menus.profile_menu, "F": window.menus.file_menu}[key]
    QTest.keyClick(window, getattr(Qt.Key, f"Key_{key}"), Qt.KeyboardModifier.AltModifier)
    try:
        qtbot.waitUntil(menu.isVisible, timeout=2000)
    finally:
        menu.close()

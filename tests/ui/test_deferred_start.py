"""The app shows its main window before the keyring is probed and the profiles are loaded
(supalink.app.startup.run_windows): the window fills in afterwards, as if it had been built
loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from keyring.backends.fail import Keyring as FailKeyring

from supalink.app.context import KEYRING_NOT_PROBED, build_context, probe_keyring_of
from supalink.paths import AppPaths
from supalink.profiles.model import Profile
from supalink.profiles.secrets import KeyringSecretStore
from supalink.ui.context import AppContext
from supalink.ui.form_area import OPENING
from supalink.ui.main_window import MainWindow
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService


def test_the_window_fills_in_the_keyring_and_the_first_profile_once_loaded(
    qtbot: Any, app_context: AppContext
) -> None:
    profile = Profile("Deferred", host="127.0.0.1", port=5432, user="app")
    app_context.repository.save(profile, SPECIAL_PASSWORD)
    app_context.keyring_description = KEYRING_NOT_PROBED
    try:
        window = MainWindow(app_context, load_profiles=False)
        qtbot.addWidget(window)
        window.show()
        assert window.current_name is None
        # No blank form to type into while the profiles are read: it comes with them.
        assert "form" not in window.__dict__
        opening = window.form_area.opening
        assert opening is not None
        assert opening.isVisible()
        assert opening.text() == OPENING
        buttons = (window.save_button, window.test_button, window.config_button)
        assert not any(button.isEnabled() for button in (*buttons, window.monitor_button))
        assert window.keyring_label.text() == f"Keyring: {KEYRING_NOT_PROBED}"

        probe_keyring_of(app_context)
        window.load_profiles()
        assert window.form.isVisible()
        assert window.form_area.opening is None
        assert all(button.isEnabled() for button in (*buttons, window.monitor_button))
        assert window.keyring_label.text().startswith("Keyring: Secret Service")
        assert window.profiles.current() == "Deferred"
        assert window.form.name.text() == "Deferred"
        assert window.form.password_text() == SPECIAL_PASSWORD
        assert window.form.password_status.text().startswith("Saved in Secret Service")
        assert window.form.save_password.isEnabled()
        assert not window.dirty
    finally:
        app_context.repository.remove("Deferred")


def test_an_unusable_keyring_found_late_is_no_edit_of_the_profile(
    qtbot: Any, tmp_path: Any, message_boxes: list[tuple[str, str]]
) -> None:
    context = build_context(
        AppPaths.under(tmp_path), KeyringSecretStore(FailKeyring()), probe_keyring=False
    )
    assert context.keyring_description == KEYRING_NOT_PROBED
    window = MainWindow(context, load_profiles=False)
    qtbot.addWidget(window)
    window.show()
    probe_keyring_of(context)
    window.load_profiles()
    assert window.keyring_label.text() == "Keyring: no usable keyring"
    assert not window.form.save_password.isEnabled()
    assert window.form.password_status.text().startswith("Not saved: no usable keyring")
    assert window.form.name.text() == "New profile"
    assert message_boxes == []  # no "save the changes?" for an edit nobody made
    assert not window.dirty


FIRST_PAINT_PROBE = """
import sys
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from supalink import cli
from supalink.ui import main_window

LATE = (
    "asyncio",
    "qasync",
    "keyring",
    "cryptography",
    "psycopg",
    "supalink.probe",
    "logging.handlers",
    "supalink.ui.profile_form",
    "supalink.profiles.journal",
)


class FirstPaint(QObject):
    seen = False

    def eventFilter(self, watched, event):
        if not self.seen and event.type() == QEvent.Type.Paint:
            self.seen = True
            print("loaded at first paint:", [m for m in LATE if m in sys.modules], flush=True)
            QTimer.singleShot(300, desktop_turns_dark)
        return False


def desktop_turns_dark():
    app = QApplication.instance()
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    window = app.palette().color(QPalette.ColorRole.Window)
    print("dark once the desktop is:", window.lightness() < 128, flush=True)
    app.quit()


spotter = FirstPaint()
built = main_window.MainWindow.__init__


def watched(self, *args, **kwargs):
    built(self, *args, **kwargs)
    self.installEventFilter(spotter)


main_window.MainWindow.__init__ = watched
code = cli.main([])
print("loaded at the end:", [m for m in LATE if m in sys.modules], flush=True)
sys.exit(code)
"""


def probe_start(probe: str, home: Path, secret_service: SecretService) -> list[str]:
    """Run `probe` (a start of the app with marks printed) in a fresh process; its lines."""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={
            **os.environ,
            **secret_service.environment(),
            "SUPALINK_HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_first_paint_waits_for_none_of_the_slow_modules(
    tmp_path: Path, secret_service: SecretService
) -> None:
    """The loop, psycopg, the probe, the log file's handler, the form and the profiles'
    journal all load after the main window's first paint; the start then finishes (log file
    written) and the System theme follows the desktop turning dark. keyring (and
    cryptography, under its Secret Service backend) not at all: the Secret Service is asked
    directly."""
    lines = probe_start(FIRST_PAINT_PROBE, tmp_path, secret_service)
    assert "loaded at first paint: []" in lines
    assert "dark once the desktop is: True" in lines
    assert any(
        line.startswith("loaded at the end:")
        and all(name in line for name in ("asyncio", "qasync", "psycopg", "profile_form"))
        and not any(name in line for name in ("'keyring'", "'cryptography'"))
        for line in lines
    ), lines
    assert "app started" in AppPaths.under(tmp_path).log_file.read_text()


COMMAND_ORDER_PROBE = """
import enum, os, sys

built = []
create = enum.EnumType._create_


def noting(cls, *args, **kwargs):
    made = create(cls, *args, **kwargs)
    built.append(made)
    return made


enum.EnumType._create_ = noting  # PySide makes each class's enums with the enum module
from supalink import cli  # as the `supalink` command starts: its modules, then PySide
from supalink.app import startup

SLOW = ("Qt", "QStyle", "QMessageBox", "QKeySequence", "QAction", "QFileDialog", "QIcon")
shown = startup.show_and_wait_for_paint


def watched(window, **options):
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, watched, event):
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                owners = {made.__qualname__.rsplit(".", 1)[0] for made in built}
                print("enums at first paint:", sorted(owners & set(SLOW)), flush=True)
                print("menus empty at first paint:", window.menus.file_menu.isEmpty(), flush=True)
            return False

    spotter = FirstPaint()
    window.installEventFilter(spotter)
    shown(window, **options)
    window.removeEventFilter(spotter)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def once_started():
        print("test key once painted:", window.menus.test_action.shortcut().toString(), flush=True)
        print("icon once painted:", not QApplication.instance().windowIcon().isNull(), flush=True)
        QApplication.instance().quit()

    QTimer.singleShot(300, once_started)


startup.show_and_wait_for_paint = watched
sys.exit(cli.main([]))
"""


def test_the_first_paint_builds_no_enums_it_does_not_show(
    tmp_path: Path, secret_service: SecretService
) -> None:
    """PySide builds a class's enums when the class is first used (the Qt namespace's take
    about a fifth of a bare window's start): none of the classes the first frame does not
    show (the Qt namespace, QStyle, the dialogs, the actions and their keys, QIcon) is used
    before it. The menus are filled right after it, keys and all, and the icon is set."""
    for start in ("first", "second"):  # the second paints with the scheme the first saw
        lines = probe_start(COMMAND_ORDER_PROBE, tmp_path, secret_service)
        expected = [] if start == "second" else ["Qt"]  # the first start asks Qt the scheme
        assert f"enums at first paint: {expected}" in lines, (start, lines)
        assert "menus empty at first paint: True" in lines
        assert "test key once painted: Ctrl+T" in lines
        assert "icon once painted: True" in lines

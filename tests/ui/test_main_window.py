"""The main window's profile flow on the real Secret Service."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch
from urllib.parse import quote

from PySide6.QtWidgets import QLabel, QMenu, QMessageBox

from supalink.profiles import SecretKind
from supalink.profiles.repository import Password
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from supalink.ui.theme import TONE_PROPERTY
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.typing import type_text

REF = "mnbvcxzlkjhgfdsapoiu"


def make_window(qtbot: Any, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    return window


def fill_supabase(window: MainWindow, qtbot: Any, name: str) -> None:
    form = window.form
    form.name.clear()
    qtbot.keyClicks(form.name, name)
    form.paste.setText(
        f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-us-east-1.pooler.supabase.com:5432/postgres"
    )
    type_text(qtbot, form.password, SPECIAL_PASSWORD)


def test_save_puts_secrets_in_the_keyring_only(qtbot: Any, app_context: AppContext) -> None:
    window = make_window(qtbot, app_context)
    assert window.form.name.text() == "New profile"
    fill_supabase(window, qtbot, "Prod UI")
    assert window.windowTitle().startswith("•")
    assert window.save_profile()
    secrets = app_context.repository.secrets
    assert secrets.get("Prod UI", SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert secrets.get("Prod UI", SecretKind.PROJECT_REF) == REF
    on_disk = app_context.repository.settings_file.path.read_bytes()
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe=""), REF):
        assert secret.encode() not in on_disk
    assert window.profiles.current() == "Prod UI"
    assert window.form.password_status.text().startswith("Saved in Secret Service")
    assert not window.windowTitle().startswith("•")
    app_context.repository.remove("Prod UI")


def test_invalid_profile_is_not_saved_and_the_status_says_why(
    qtbot: Any, app_context: AppContext
) -> None:
    window = make_window(qtbot, app_context)
    qtbot.keyClicks(window.form.server.ref, "nope")
    assert not window.save_profile()
    assert "20 lowercase letters" in window.statusBar().currentMessage()
    assert app_context.repository.names() == []


def test_duplicate_rename_delete(qtbot: Any, app_context: AppContext) -> None:
    window = make_window(qtbot, app_context)
    fill_supabase(window, qtbot, "Alpha")
    assert window.save_profile()
    window.profile_actions.duplicate("Alpha")
    assert app_context.repository.names() == ["Alpha", "Alpha copy"]
    with patch("PySide6.QtWidgets.QInputDialog.getText", return_value=("Beta", True)):
        window.profile_actions.rename("Alpha copy")
    assert app_context.repository.names() == ["Alpha", "Beta"]
    assert app_context.repository.password("Beta") == Password(SPECIAL_PASSWORD, in_keyring=True)
    with patch(
        "PySide6.QtWidgets.QMessageBox.question",
        return_value=QMessageBox.StandardButton.Yes,
    ):
        window.profile_actions.delete("Alpha")
        window.profile_actions.delete("Beta")
    assert app_context.repository.names() == []
    assert app_context.repository.secrets.get("Beta", SecretKind.PASSWORD) is None


def test_switching_with_unsaved_edits_asks_first(qtbot: Any, app_context: AppContext) -> None:
    window = make_window(qtbot, app_context)
    fill_supabase(window, qtbot, "One")
    assert window.save_profile()
    window.new_profile()
    fill_supabase(window, qtbot, "Two")
    assert window.save_profile()
    qtbot.keyClicks(window.form.database, "edited")
    with patch(
        "PySide6.QtWidgets.QMessageBox.question",
        return_value=QMessageBox.StandardButton.Cancel,
    ):
        window.profiles.list.setCurrentRow(0)
    assert window.current_name == "Two"
    assert window.form.database.text() == "edited"
    with patch(
        "PySide6.QtWidgets.QMessageBox.question",
        return_value=QMessageBox.StandardButton.Discard,
    ):
        window.profiles.list.setCurrentRow(0)
    assert window.current_name == "One"
    for name in ("One", "Two"):
        app_context.repository.remove(name)


def test_write_config_checks_the_login_and_offers_the_agent_a_role(
    qtbot: Any, app_context: AppContext
) -> None:
    """Supabase's `postgres` login: the Write config dialog warns at once and offers a
    read-only role, which needs the app's repository."""
    from supalink.ui.config_dialog import ConfigDialog

    window = make_window(qtbot, app_context)
    fill_supabase(window, qtbot, "Prod admin")
    assert window.save_profile()
    shown: list[ConfigDialog] = []

    def exec_(dialog: ConfigDialog) -> int:
        shown.append(dialog)
        return 0

    with patch.object(ConfigDialog, "exec", exec_):
        window.write_config()
    [dialog] = shown
    assert dialog.repository is app_context.repository
    assert not dialog.role_row.isHidden()
    assert "bypasses row level security" in dialog.role_warning.text()
    dialog.close()
    app_context.repository.remove("Prod admin")


# ----- issue 18: first launch, results per profile, Quit -------------------------------------


def test_a_first_launch_greets_and_shows_no_error_before_anything_is_typed(
    qtbot: Any, app_context: AppContext
) -> None:
    window = make_window(qtbot, app_context)
    assert window.welcome.isVisible()
    assert "Connect" in window.welcome.text.text()
    assert "supalink --demo" in window.welcome.text.text()
    messages = [row.message for row in window.form.rows.values()]
    assert not [label.text() for label in messages if label.isVisible()]
    errors = [w for w in window.form.findChildren(QLabel) if w.property(TONE_PROPERTY) == "error"]
    assert not [label.text() for label in errors if label.isVisible() and label.text()]
    qtbot.keyClicks(window.form.server.ref, "abc")  # touched: its error shows, and only its
    shown = [key for key, row in window.form.rows.items() if row.message.isVisible()]
    assert shown == ["ref"]
    window.test()  # Test shows every field's error, named as the form names it
    assert window.form.rows["region"].message.isVisible()
    assert window.form.tls.ca_info.property(TONE_PROPERTY) == "error"
    status = window.statusBar().currentMessage()
    assert status.startswith("Cannot test: Project ref: ")
    assert "ref:" not in status.replace("Project ref:", "")


def test_the_greeting_goes_once_a_profile_is_saved(qtbot: Any, app_context: AppContext) -> None:
    window = make_window(qtbot, app_context)
    fill_supabase(window, qtbot, "Greeted")
    assert window.save_profile()
    try:
        assert not window.welcome.isVisible()
        again = make_window(qtbot, app_context)
        assert not again.welcome.isVisible()
        assert again.form.name.text() == "Greeted"
    finally:
        app_context.repository.remove("Greeted")


def test_a_demo_session_password_line_says_memory(qtbot: Any, tmp_path: Any) -> None:
    """The demo keeps its password in memory: never "Saved in not saved"."""
    from supalink.app.context import build_context
    from supalink.paths import AppPaths
    from supalink.profiles import MemorySecretStore, Profile

    context = build_context(AppPaths.under(tmp_path), MemorySecretStore())
    context.repository.save(Profile("Demo", host="127.0.0.1", port=5432, user="demo"), "pw")
    window = make_window(qtbot, context)
    assert window.form.password_status.text() == "Saved in memory, for this session only"
    assert window.keyring_label.text() == "Keyring: memory, for this session only"


def test_the_keyring_line_names_the_service_that_answered(
    qtbot: Any, app_context: AppContext
) -> None:
    window = make_window(qtbot, app_context)
    assert window.keyring_label.text() == "Keyring: Secret Service (GNOME Keyring)"
    assert "KeePassXC" not in window.form.password_status.text()


def test_quit_asks_when_a_monitor_is_open_and_stays_on_cancel(
    qtbot: Any, app_context: AppContext, message_boxes: list[tuple[str, str]]
) -> None:
    """The app's loop ending is tested in test_quit.py, with real processes."""

    class OneOpen:
        open_count = 1

    app_context.monitors = OneOpen()  # type: ignore[assignment]
    window = make_window(qtbot, app_context)
    quits: list[bool] = []
    with patch("supalink.ui.main_window.QApplication.quit", lambda: quits.append(True)):
        window.menus.quit_action.trigger()  # the recorded question answers Discard: not Yes
        assert message_boxes[-1] == (
            "Quit Supalink",
            "A monitor is open. Quit Supalink and stop monitoring?",
        )
        assert quits == []
        with patch(
            "PySide6.QtWidgets.QMessageBox.question",
            return_value=QMessageBox.StandardButton.Yes,
        ):
            window.menus.quit_action.trigger()
    assert quits == [True]


def test_sign_in_to_supabase_fills_a_new_profile_from_the_project_picked(
    qtbot: Any, app_context: AppContext
) -> None:
    from supalink.profiles import Profile
    from supalink.profiles.supabase import Mode

    window = make_window(qtbot, app_context)
    menu = window.menuBar().actions()[0].menu()  # PySide6 types it QObject
    assert isinstance(menu, QMenu)
    action = next(a for a in menu.actions() if "Supa" in a.text())
    action.trigger()
    dialog = window.supabase_dialog
    assert dialog.isVisible()
    picked = Profile(
        "shop", mode=Mode.SESSION, ref=REF, pooler_host="aws-1-eu-west-2.pooler.supabase.com"
    )
    dialog.profile = picked
    dialog.accept()
    assert window.form.profile().ref == REF
    assert window.form.profile().name == "shop"
    assert window.form.profile().pooler_host == "aws-1-eu-west-2.pooler.supabase.com"
    assert window.current_name is None  # a new profile, not yet saved
    assert app_context.repository.names() == []
    assert "password" in window.statusBar().currentMessage()

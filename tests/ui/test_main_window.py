"""The main window's profile flow on the real Secret Service."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch
from urllib.parse import quote

from PySide6.QtWidgets import QMessageBox

from supalink.profiles import Password, SecretKind
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
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
    qtbot.keyClicks(window.form.ref, "nope")
    assert not window.save_profile()
    assert "20 lowercase letters" in window.statusBar().currentMessage()
    assert app_context.repository.names() == []


def test_duplicate_rename_delete(qtbot: Any, app_context: AppContext) -> None:
    window = make_window(qtbot, app_context)
    fill_supabase(window, qtbot, "Alpha")
    assert window.save_profile()
    window._duplicate("Alpha")
    assert app_context.repository.names() == ["Alpha", "Alpha copy"]
    with patch("supalink.ui.main_window.QInputDialog.getText", return_value=("Beta", True)):
        window._rename("Alpha copy")
    assert app_context.repository.names() == ["Alpha", "Beta"]
    assert app_context.repository.password("Beta") == Password(SPECIAL_PASSWORD, in_keyring=True)
    with patch(
        "supalink.ui.main_window.QMessageBox.question",
        return_value=QMessageBox.StandardButton.Yes,
    ):
        window._delete("Alpha")
        window._delete("Beta")
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
        "supalink.ui.main_window.QMessageBox.question",
        return_value=QMessageBox.StandardButton.Cancel,
    ):
        window.profiles.list.setCurrentRow(0)
    assert window.current_name == "Two"
    assert window.form.database.text() == "edited"
    with patch(
        "supalink.ui.main_window.QMessageBox.question",
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
    with patch.object(ConfigDialog, "exec", lambda dialog: shown.append(dialog) or 0):
        window.write_config()
    [dialog] = shown
    assert dialog.repository is app_context.repository
    assert not dialog.role_row.isHidden()
    assert "bypasses row level security" in dialog.role_warning.text()
    dialog.close()
    app_context.repository.remove("Prod admin")

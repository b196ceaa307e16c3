"""The sign-in flow keeps the password in the keyring, as every other way of making a profile
does. Through the real window, offscreen: File ▸ Sign in to Supabase against the Management
API's stand-in, pick the project, Fill profile, type the password, Save, Write config: the
plan holds no password and the dialog says so. A password left for this session only is
asked about before it goes into the file, and can be saved in the keyring from the dialog."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import quote

import pytest
from PySide6.QtWidgets import QMessageBox

from supalink.profiles import KeyringSecretStore, SecretKind
from supalink.supabase_api import save_token
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from supalink.ui.supabase_dialog import SupabaseDialog
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.supabase_api import HEALTHY_HOST, HEALTHY_REF, TOKEN, StandIn
from tests.support.typing import type_text

PASSWORD_FORMS = (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe=""))


def until(loop: asyncio.AbstractEventLoop, condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    loop.run_until_complete(asyncio.wait_for(wait(), 30))


@pytest.fixture
def window(
    qtbot: Any,
    app_context: AppContext,
    keyring: KeyringSecretStore,
    stand_in: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[MainWindow]:
    monkeypatch.setenv("SUPALINK_SUPABASE_API", stand_in.url)
    # The clients' files under the test's folder: Claude Desktop's, and nobody's real one.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    shown = MainWindow(app_context)
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    for name in app_context.repository.names():
        app_context.repository.remove(name)


def sign_in_and_fill(window: MainWindow, loop: asyncio.AbstractEventLoop) -> SupabaseDialog:
    """File ▸ Sign in to Supabase…, the project picked, Fill profile: the form is filled."""
    window.sign_in_to_supabase()
    dialog = window.supabase_dialog
    if dialog.token.isVisible():
        dialog.token.setText(TOKEN)
        dialog.sign_in_button.click()
    until(loop, lambda: dialog.projects.count() == 3)
    for row in range(dialog.projects.count()):
        if HEALTHY_REF in dialog.projects.item(row).text():
            dialog.projects.setCurrentRow(row)
    dialog.fill_button.click()
    until(loop, lambda: not dialog.isVisible())
    assert dialog.profile is not None
    assert window.form.profile().endpoint().host == HEALTHY_HOST  # the API's exact host
    return dialog


def write_config_dialog(window: MainWindow) -> ConfigDialog:
    """Write config… as the window opens it (modal for a person; here shown and driven), on
    Claude Desktop's file."""
    opened: list[ConfigDialog] = []

    def exec_(dialog: ConfigDialog) -> int:
        opened.append(dialog)
        return 0

    with patch.object(ConfigDialog, "exec", exec_):
        window.write_config()
    [dialog] = opened
    dialog.show()
    clients = dialog.choices.client
    clients.setCurrentIndex(
        next(i for i in range(clients.count()) if clients.itemData(i)[0] == "claude")
    )
    return dialog


def labels(dialog: ConfigDialog) -> dict[str, str]:
    template = dialog.choices.template
    return {template.itemData(i): template.itemText(i) for i in range(template.count())}


def test_a_profile_filled_from_supabase_keeps_its_password_in_the_keyring(
    window: MainWindow,
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    message_boxes: list[tuple[str, str]],
) -> None:
    sign_in_and_fill(window, qasync_loop)
    form = window.form
    assert form.save_password.isChecked()  # as a typed or pasted profile's
    type_text(qtbot, form.password, SPECIAL_PASSWORD)
    assert form.password_status.text().startswith("Will be saved in Secret Service")
    name = form.name.text()
    dialog = write_config_dialog(window)  # saves first, as ever
    qtbot.addWidget(dialog)
    repository = app_context.repository
    assert repository.secrets.get(name, SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert repository.record(name).password_saved

    assert dialog.planned is not None
    assert dialog.planned.secrets == ()
    assert dialog.planned.entry.args[-3:] == ("mcp-serve", "--profile", name)
    assert (
        dialog.choices.template.currentText()
        == "Supalink's own server, read-only — no password in the file"
    )
    assert labels(dialog)["keyring"].endswith(" — no password in the file")
    assert labels(dialog)["reference"].endswith(" — the password will be written into the file")
    assert dialog.password_choice.isHidden()
    assert dialog.write()
    assert message_boxes == []  # nothing to ask: no password goes anywhere
    written = Path(dialog.choices.path.text()).read_text()
    assert json.loads(written)["mcpServers"]["supabase"]["args"][-1] == name
    for form_ in PASSWORD_FORMS:
        assert form_ not in written
    dialog.close()


def test_a_session_only_password_is_asked_about_and_can_go_to_the_keyring_instead(
    window: MainWindow,
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    keyring: KeyringSecretStore,
    message_boxes: list[tuple[str, str]],
) -> None:
    save_token(keyring, TOKEN)  # signed in before: the projects are listed at once
    sign_in_and_fill(window, qasync_loop)
    form = window.form
    form.save_password.setChecked(False)  # the person's choice, never the default
    type_text(qtbot, form.password, SPECIAL_PASSWORD)
    assert form.password_status.text() == "Not saved: you will be asked for it when needed"
    name = form.name.text()
    dialog = write_config_dialog(window)
    qtbot.addWidget(dialog)
    repository = app_context.repository
    assert not repository.record(name).password_saved

    assert dialog.planned is not None
    assert dialog.planned.secrets  # Supalink's server with the URI in its env: asked first
    assert dialog.choices.template.currentText().endswith(
        " — the password will be written into the file"
    )
    assert dialog.password_choice.isVisible()
    assert "held for this session only, not in the keyring: it will be written into the " in (
        dialog.password_choice.message.text()
    )
    assert dialog.password_choice.button.isVisible()
    config = Path(dialog.choices.path.text())
    assert not dialog.write()  # the recorded answer is not Yes
    assert [title for title, _ in message_boxes] == ["Write the password into the file?"]
    assert not config.exists()

    # The dialog's other choice: into the keyring; the entry then holds no password.
    dialog.password_choice.button.click()
    assert repository.secrets.get(name, SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert repository.record(name).password_saved
    assert dialog.planned.secrets == ()
    assert dialog.choices.template.currentText().endswith(" — no password in the file")
    assert dialog.password_choice.isHidden()
    assert dialog.status.text() == f"Saved the password of {name!r} in the keyring."
    assert form.save_password.isChecked()  # the form behind says so too
    assert form.password_status.text().startswith("Saved in Secret Service")
    assert dialog.write()
    assert len(message_boxes) == 1  # not asked again: no password goes into the file
    for form_ in PASSWORD_FORMS:
        assert form_ not in config.read_text()
    dialog.close()


def test_yes_writes_the_session_password_into_a_file_only_its_owner_reads(
    window: MainWindow,
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in_and_fill(window, qasync_loop)
    form = window.form
    form.save_password.setChecked(False)
    type_text(qtbot, form.password, SPECIAL_PASSWORD)
    dialog = write_config_dialog(window)
    qtbot.addWidget(dialog)
    asked: list[str] = []

    def answer(parent: object, title: str, *_: object) -> QMessageBox.StandardButton:
        asked.append(title)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert dialog.write()
    assert asked == ["Write the password into the file?"]
    config = Path(dialog.choices.path.text())
    env = json.loads(config.read_text())["mcpServers"]["supabase"]["env"]
    assert quote(SPECIAL_PASSWORD, safe="") in env["SUPALINK_DATABASE_URI"]
    assert config.stat().st_mode & 0o077 == 0  # readable only by its owner
    for secret in PASSWORD_FORMS:
        assert secret not in dialog.diff.toPlainText()
    dialog.close()

"""Write config from the GUI: masked diff, write beside other settings, verify through the
keyring launcher with the real reference server; Supalink's own server by default, writes
allowed only when ticked, the archived server's warning."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import pytest

from supalink.mcp import Host
from supalink.profiles import Profile, Target, parse_uri
from supalink.ui.config_choices import clients_found_first
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.reference_server import ReferenceServer

SUPALINK = str(Path(sys.executable).with_name("supalink"))


def claude_host(tmp_path: Path) -> Host:
    return Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")


def session_dialog(
    qtbot: Any, app_context: AppContext, pg: PostgresServer, tmp_path: Path
) -> ConfigDialog:
    """The dialog for a profile of the test server whose password is this session's only."""
    profile = Profile("P", host="127.0.0.1", port=pg.port, user=pg.role)
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, pg.password),
        password_in_keyring=False,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    return dialog


def planned_args(dialog: ConfigDialog) -> tuple[str, ...]:
    """The planned entry's args as they are now (read through a call: mypy would hold
    `dialog.planned.entry.args` narrowed by one assert across the clicks that change it)."""
    assert dialog.planned is not None
    return dialog.planned.entry.args


def test_clients_found_on_this_machine_come_first(tmp_path: Path) -> None:
    host = claude_host(tmp_path)
    (tmp_path / "home" / ".cursor").mkdir(parents=True)
    rows = clients_found_first(host)
    assert rows[0][0].id == "cursor"
    assert rows[0][2] is True
    assert all(not found for _, _, found in rows[1:])
    assert rows[1][1] == Path(PurePath(tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"))


@pytest.mark.slow
def test_write_keeps_other_settings_and_verify_passes_through_the_launcher(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    reference_server: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in reference_server.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SUPALINK_HOME", str(tmp_path))  # where the launcher finds the profile
    profile = Profile(
        "Local SSL", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    app_context.repository.save(profile, pg.password)
    config = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    config.write_text('{\n  "globalShortcut": "Ctrl+Space",\n  "preferences": {"a": 1}\n}\n')

    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, pg.password),
        password_in_keyring=True,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.choices.template.currentData() == "supalink"
    dialog.choices.template.setCurrentIndex(dialog.choices.template.findData("keyring"))
    assert dialog.choices.server.isEnabled()
    assert not dialog.choices.allow_writes.isEnabled()
    dialog.choices.server.setCurrentIndex(dialog.choices.server.findData("reference"))
    assert "archived, and its read-only mode can be escaped" in dialog.notes.text()
    assert dialog.choices.selected_client().id == "claude"
    diff = dialog.diff.toPlainText()
    assert '+  "mcpServers": {' in diff
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")):
        assert secret not in diff

    assert dialog.write()
    written = json.loads(config.read_text())
    assert written["globalShortcut"] == "Ctrl+Space"
    assert written["preferences"] == {"a": 1}
    assert written["mcpServers"]["supabase"]["command"] == SUPALINK
    assert written["mcpServers"]["supabase"]["args"][:3] == ["mcp-run", "--profile", "Local SSL"]
    assert quote(SPECIAL_PASSWORD, safe="") not in config.read_text()
    assert "Quit Claude Desktop fully and start it again" in dialog.status.text()
    assert "Backup:" in dialog.status.text()

    dialog.verify()
    assert dialog.cancel_verify.isVisible()
    qasync_loop.run_until_complete(asyncio.wait_for(_until(dialog.verify_button.isEnabled), 60))
    assert dialog.last_report is not None
    assert dialog.last_report.ok, dialog.last_report.describe()
    assert dialog.status.text().startswith("✓ Verified")


def test_a_session_password_goes_into_the_file_only_when_asked_and_the_dialog_says_so(
    qtbot: Any,
    app_context: AppContext,
    pg: PostgresServer,
    tmp_path: Path,
    message_boxes: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    dialog = session_dialog(qtbot, app_context, pg, tmp_path)
    dialog.show()
    # A session password: Supalink's own server still, never the archived one; and its
    # label says what this entry does with the password, not what it does with a saved one.
    assert dialog.choices.template.currentData() == "supalink"
    assert dialog.choices.template.currentText() == (
        "Supalink's own server, read-only — the password will be written into the file"
    )
    assert "no password in the file" not in dialog.choices.template.currentText()
    diff = dialog.diff.toPlainText()
    assert '"SUPALINK_DATABASE_URI": "postgresql://supalink_app:****@' in diff
    assert '"--uri-env",' in diff
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")):
        assert secret not in diff
    assert "no CA certificate" in dialog.notes.text()
    assert "password" not in dialog.notes.text()  # said once, in the password's own row
    assert "--" not in dialog.notes.text()  # the window's words, not the CLI's flags
    choice = dialog.password_choice.message.text()
    assert dialog.password_choice.isVisible()
    assert "'P' is held for this session only, not in the keyring" in choice
    assert "it will be written into the config file (readable only by you)" in choice
    assert not dialog.password_choice.button.isVisible()  # no repository to save it in

    # Write asks first; anything but Yes writes nothing.
    config = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    assert not dialog.write()
    assert message_boxes[-1][0] == "Write the password into the file?"
    assert f"password of 'P': Write puts it into {config}" in message_boxes[-1][1]
    assert not config.exists()
    assert dialog.status.text() == "Not written: the password stays out of the file."
    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    assert dialog.write()
    written = json.loads(config.read_text())["mcpServers"]["supabase"]
    assert parse_uri(written["env"]["SUPALINK_DATABASE_URI"]).password == SPECIAL_PASSWORD

    labels = {
        dialog.choices.template.itemData(i): dialog.choices.template.itemText(i)
        for i in range(dialog.choices.template.count())
    }
    assert labels["keyring"].endswith(" — needs the password saved in the keyring")
    for template in ("reference", "guide", "postgres-mcp"):
        assert labels[template].endswith(" — the password will be written into the file")
    dialog.choices.template.setCurrentIndex(dialog.choices.template.findData("keyring"))
    assert "no password in the keyring" in dialog.notes.text()
    assert "keyring launcher would have nothing to start the server with" in (
        dialog.password_choice.message.text()
    )
    assert not dialog.write_button.isEnabled()


def test_allow_writes_is_for_supalinks_server_and_warns_when_ticked(
    qtbot: Any, app_context: AppContext, pg: PostgresServer, tmp_path: Path
) -> None:
    profile = Profile(
        "W", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, pg.password),
        password_in_keyring=True,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.choices.allow_writes.isEnabled()
    assert not dialog.choices.allow_writes.isChecked()
    assert dialog.notes.text() == ""  # the profile's CA, the keyring: nothing to warn about
    assert dialog.planned is not None
    assert planned_args(dialog) == ("mcp-serve", "--profile", "W")

    dialog.choices.allow_writes.setChecked(True)
    assert planned_args(dialog) == ("mcp-serve", "--profile", "W", "--allow-writes")
    assert dialog.notes.isVisible()
    assert "writes are allowed: the agent can change and delete data" in dialog.notes.text()
    assert '+        "--allow-writes"' in dialog.diff.toPlainText()

    # Another server has no guard to turn off: the box goes grey and the entry has no flag.
    for template in ("reference", "guide"):
        dialog.choices.template.setCurrentIndex(dialog.choices.template.findData(template))
        assert not dialog.choices.allow_writes.isEnabled()
        assert "--allow-writes" not in planned_args(dialog)
        assert "archived" in dialog.choices.template.currentText()
        assert "escaped" in dialog.choices.template.currentText()
        assert "read-only mode can be escaped" in dialog.notes.text()
        assert "writes are allowed" not in dialog.notes.text()
    dialog.choices.template.setCurrentIndex(dialog.choices.template.findData("supalink"))
    assert planned_args(dialog)[-1] == "--allow-writes"  # the box kept its tick


@pytest.mark.slow
def test_supalinks_server_by_default_and_verify_shows_both_refusals(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setenv("SUPALINK_HOME", str(tmp_path))  # where mcp-serve finds the profile
    profile = Profile(
        "Agent", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    app_context.repository.save(profile, pg.password)
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, pg.password),
        password_in_keyring=True,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.write()
    config = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    assert json.loads(config.read_text())["mcpServers"]["supabase"] == {
        "command": SUPALINK,
        "args": ["mcp-serve", "--profile", "Agent"],
        "env": {"SUPALINK_HOME": str(tmp_path)},
    }

    dialog.verify()
    qasync_loop.run_until_complete(asyncio.wait_for(_until(dialog.verify_button.isEnabled), 60))
    assert dialog.last_report is not None
    assert dialog.last_report.ok, dialog.last_report.describe()
    status = dialog.status.text()
    assert status.startswith("✓ Verified: the server answered query 'select 1' and refused")
    assert "\nrefused a write: 'create temporary table supalink_verify_probe (x int)'" in status
    assert "\nrefused several statements in one query: 'select 1; commit; select 1'" in status

    # Writes allowed: the entry says so, and verify sends no write and says writes are allowed.
    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    dialog.choices.allow_writes.setChecked(True)
    assert dialog.write()
    assert json.loads(config.read_text())["mcpServers"]["supabase"]["args"][-1] == (
        "--allow-writes"
    )
    dialog.verify()
    qasync_loop.run_until_complete(asyncio.wait_for(_until(dialog.verify_button.isEnabled), 60))
    assert dialog.last_report is not None
    assert dialog.last_report.ok, dialog.last_report.describe()
    assert dialog.last_report.guard == ()
    assert "writes are allowed: the agent can change data (no write was tried)" in (
        dialog.status.text()
    )


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.05)


def test_a_server_name_with_control_characters_is_refused_in_the_window(
    qtbot: Any, app_context: AppContext, pg: PostgresServer, tmp_path: Path
) -> None:
    dialog = session_dialog(qtbot, app_context, pg, tmp_path)
    assert dialog.write_button.isEnabled()
    dialog.choices.server_name.setText("supa\x07base")  # as typed: refused at once
    assert "control character" in dialog.notes.text()
    assert not dialog.write_button.isEnabled()
    assert not dialog.verify_button.isEnabled()
    assert dialog.diff.toPlainText() == ""
    dialog.choices.server_name.editingFinished.emit()  # left the field: the plan says the same
    assert "control character" in dialog.notes.text()
    assert not dialog.write_button.isEnabled()
    dialog.choices.server_name.setText("supabase-p")
    dialog.choices.server_name.editingFinished.emit()
    assert dialog.write_button.isEnabled()
    assert '"supabase-p"' in dialog.diff.toPlainText()


def test_a_failed_verify_shows_the_clients_own_log_of_the_server_masked(
    qtbot: Any, app_context: AppContext, pg: PostgresServer, tmp_path: Path
) -> None:
    from supalink.mcp import VerifyReport

    logs = tmp_path / "xdg" / "Claude" / "logs"
    logs.mkdir(parents=True)
    (logs / "mcp-server-supabase.log").write_text(
        f"connecting to postgresql://u:{SPECIAL_PASSWORD}@h/db failed\nServer exited\n"
    )
    dialog = session_dialog(qtbot, app_context, pg, tmp_path)
    assert dialog.client_log.isHidden()
    dialog.show_report(VerifyReport(False, "initialize failed", (), "", "", 0.0, (), False))
    shown = dialog.client_log.toPlainText()
    assert not dialog.client_log.isHidden()
    assert f"Claude Desktop's log {logs / 'mcp-server-supabase.log'}:" in shown
    assert "Server exited" in shown
    assert SPECIAL_PASSWORD not in shown
    assert f"{logs / 'mcp.log'}: no log yet" in shown
    dialog.show_report(VerifyReport(True, "the server answered", (), "1", "", 0.1, (), False))
    assert dialog.client_log.isHidden()


def test_for_vs_code_a_session_password_is_asked_by_vs_code_and_the_dialog_says_no_file(
    qtbot: Any,
    app_context: AppContext,
    pg: PostgresServer,
    tmp_path: Path,
    message_boxes: list[tuple[str, str]],
) -> None:
    """VS Code's entry names an `inputs` promptString instead of the password: the dialog
    plans what the client will hold, so it neither warns of a password in the file nor asks
    before writing one."""
    dialog = session_dialog(qtbot, app_context, pg, tmp_path)
    dialog.show()
    assert dialog.password_choice.isVisible()  # Claude Desktop's entry would hold it
    combo = dialog.choices.client
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemData(i)[0] == "vscode"))
    assert dialog.choices.selected_client().id == "vscode"
    # Shown as it is written: a name of what VS Code asks for, not a masked secret.
    qtbot.waitUntil(lambda: "${input:supalink-supabase-password}" in dialog.diff.toPlainText())
    assert not dialog.password_choice.isVisible()
    assert dialog.write()
    assert message_boxes == []  # nothing asked: no password goes into the file
    path = dialog.choices.config_path()
    text = path.read_text()
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")):
        assert secret not in text
    assert json.loads(text)["inputs"][0]["password"] is True


def test_every_warning_of_an_entry_has_the_dialogs_words() -> None:
    from supalink.mcp import EntryWarning
    from supalink.ui.config_preview import WARNINGS

    assert set(WARNINGS) | {EntryWarning.CREDENTIALS_IN_FILE} == set(EntryWarning)

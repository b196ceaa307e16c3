"""The Write config dialog offers the Claude Desktop Extension beside the JSON entry: saved
for the dialog's profile when its password is in the keyring (where the extension's server
reads it), refused in one line when the file cannot be written. The bundle itself is checked
with the real mcpb CLI in tests/mcp/test_extension.py."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog

from supalink.mcp import Host
from supalink.profiles import Profile, Target
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext


def dialog_for(
    qtbot: Any, app_context: AppContext, tmp_path: Path, *, in_keyring: bool
) -> ConfigDialog:
    profile = Profile("team db", host="127.0.0.1", port=5432, user="agent")
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, "pw-not-in-the-bundle"),
        password_in_keyring=in_keyring,
        host=Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home"),
    )
    qtbot.addWidget(dialog)
    return dialog


def test_the_extension_is_saved_for_the_dialogs_profile(
    qtbot: Any, app_context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = dialog_for(qtbot, app_context, tmp_path, in_keyring=True)
    assert dialog.extension.button.isEnabled()
    target = tmp_path / "out" / "team.mcpb"
    offered: list[str] = []

    def choose(*args: Any, **kwargs: Any) -> tuple[str, str]:
        offered.append(args[2])
        return str(target), args[3]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", choose)
    dialog.extension.button.click()
    assert offered == [str(Path.home() / "Supalink-team-db.mcpb")]
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert not any(b"pw-not-in-the-bundle" in archive.read(n) for n in archive.namelist())
    assert manifest["user_config"]["profile"]["default"] == "team db"
    assert manifest["server"]["mcp_config"]["args"][-2:] == ["--profile", "${user_config.profile}"]
    assert dialog.status.text().startswith(f"Saved {target}.")
    # The JSON entry is still the dialog's to write: nothing of it changed.
    assert not (tmp_path / "xdg").exists()


def test_without_the_password_in_the_keyring_there_is_nothing_to_save(
    qtbot: Any, app_context: AppContext, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, app_context, tmp_path, in_keyring=False)
    assert not dialog.extension.button.isEnabled()
    assert "keyring first" in dialog.extension.button.toolTip()


def test_a_file_that_cannot_be_written_is_one_line_in_the_status(
    qtbot: Any, app_context: AppContext, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, app_context, tmp_path, in_keyring=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert not dialog.extension.save(blocker / "x.mcpb")
    assert dialog.status.text() == (
        f"✗ cannot write {blocker / 'x.mcpb'}: a part of its path is a file, not a folder"
    )

"""The windows meet the file-system faults the CLI does, and show the CLI's sentence: the
config dialog's write and preview, the main window's save and its start. Real Qt offscreen,
real mounts (this process is root: only faults root cannot ignore, a read-only file system
and a full disk, plus the ones that are the file itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supalink.mcp import Host
from supalink.profiles import Profile, Target
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from tests.support.file_faults import FAULTS, Fault, faulty, snapshot

OTHER = b'{\n  "globalShortcut": "Ctrl+Space"\n}\n'
# As root, only what the file system itself refuses is a write fault.
WRITE_FAULTS = [f for f in FAULTS if f.action == "write" and not f.unprivileged]
ROOT_READ_FAULTS = [f for f in FAULTS if f.action == "read" and not f.unprivileged]


def sentence(fault: Fault, path: Path) -> str:
    return f"cannot {fault.action} {path}: {fault.cause}"


def claude_host(tmp_path: Path) -> Host:
    return Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"


def dialog_for(qtbot: Any, app_context: AppContext, tmp_path: Path) -> ConfigDialog:
    profile = Profile("P", host="127.0.0.1", port=5432, user="u")
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, "pw"),
        password_in_keyring=True,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.parametrize("fault", WRITE_FAULTS, ids=lambda fault: fault.name)
def test_the_config_dialog_shows_the_sentence_of_a_write_that_failed(
    qtbot: Any,
    app_context: AppContext,
    message_boxes: list[tuple[str, str]],
    tmp_path: Path,
    fault: Fault,
) -> None:
    path = config_file(tmp_path)
    with faulty(fault, path, lambda: path.write_bytes(OTHER)):
        before = snapshot(path.parent)
        dialog = dialog_for(qtbot, app_context, tmp_path)
        assert dialog.write_button.isEnabled()
        assert not dialog.write()
        assert snapshot(path.parent) == before
    assert message_boxes == [("Could not write the config", sentence(fault, path))]
    assert not dialog.written


@pytest.mark.parametrize("fault", ROOT_READ_FAULTS, ids=lambda fault: fault.name)
def test_the_config_dialog_shows_the_sentence_of_a_file_it_cannot_read(
    qtbot: Any, app_context: AppContext, tmp_path: Path, fault: Fault
) -> None:
    path = config_file(tmp_path)
    with faulty(fault, path, lambda: path.write_bytes(OTHER)):
        dialog = dialog_for(qtbot, app_context, tmp_path)
    assert dialog.notes.text() == sentence(fault, path)
    assert not dialog.write_button.isEnabled()
    assert dialog.diff.toPlainText() == ""


def settings_path(app_context: AppContext) -> Path:
    return app_context.repository.settings_file.path


@pytest.mark.parametrize("fault", WRITE_FAULTS, ids=lambda fault: fault.name)
def test_the_main_window_shows_the_sentence_of_a_profile_save_that_failed(
    qtbot: Any,
    app_context: AppContext,
    message_boxes: list[tuple[str, str]],
    fault: Fault,
) -> None:
    path = settings_path(app_context)
    repository = app_context.repository

    def first_profile() -> None:
        repository.save(Profile("First", host="127.0.0.1", port=5432, user="u"), None)

    with faulty(fault, path, first_profile):
        before = snapshot(path.parent)
        window = MainWindow(app_context)
        qtbot.addWidget(window)
        window.show()
        window.new_profile()
        window.form.custom_kind.setChecked(True)
        window.form.name.setText("Second")
        window.form.host.setText("127.0.0.1")
        assert not window.save_profile()
        assert window.statusBar().currentMessage() == ""  # the profile itself was valid
        assert snapshot(path.parent) == before
    assert message_boxes == [("Could not save the profile", sentence(fault, path))]
    assert repository.names() == ["First"]


@pytest.mark.parametrize("fault", ROOT_READ_FAULTS, ids=lambda fault: fault.name)
def test_the_main_window_opens_and_says_why_the_settings_cannot_be_read(
    qtbot: Any,
    app_context: AppContext,
    message_boxes: list[tuple[str, str]],
    fault: Fault,
) -> None:
    path = settings_path(app_context)
    with faulty(fault, path, lambda: None):
        window = MainWindow(app_context)
        qtbot.addWidget(window)
        window.show()
    assert message_boxes == [("Settings file", sentence(fault, path))]
    assert window.form.name.text() == "New profile"

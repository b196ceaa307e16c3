"""The windows meet the file-system faults the CLI does, and show the CLI's sentence: the
config dialog's write and preview, the main window's save and its start. Real Qt offscreen,
real mounts. This process is root, which ignores permission bits: the faults only a user
meets (a read-only folder, an unreadable file) are met by windows in a child process
started without root's powers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from supalink.mcp import Host
from supalink.profiles import MemorySecretStore, Profile, ProfileRepository, Target
from supalink.profiles.settings import SettingsFile
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from tests.support.file_faults import FAULTS, Fault, faulty, snapshot, without_root_powers

OTHER = b'{\n  "globalShortcut": "Ctrl+Space"\n}\n'
# As root, only what the file system itself refuses is a write fault.
WRITE_FAULTS = [f for f in FAULTS if f.action == "write" and not f.unprivileged]
ROOT_READ_FAULTS = [f for f in FAULTS if f.action == "read" and not f.unprivileged]
FIRST = Profile("First", host="127.0.0.1", port=5432, user="u")


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
        window.form.server.custom_kind.setChecked(True)
        window.form.name.setText("Second")
        window.form.server.host.setText("127.0.0.1")
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


# The dialog and the main window in a process of their own; what their message boxes and
# notes say comes back as JSON on stdout.
CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication, QMessageBox
    from supalink.mcp import Host
    from supalink.profiles import MemorySecretStore, Profile, ProfileRepository, Target
    from supalink.profiles.settings import SettingsFile
    from supalink.ui.config_dialog import ConfigDialog
    from supalink.ui.context import AppContext
    from supalink.ui.main_window import MainWindow
    from supalink.ui.tasks import TaskRunner

    root = Path(sys.argv[1])
    shown = []
    QMessageBox.warning = lambda parent, title, text, *a, **k: shown.append([title, text])
    app = QApplication([])
    host = Host("linux", {"XDG_CONFIG_HOME": str(root / "xdg")}, root / "home")
    profile = Profile("P", host="127.0.0.1", port=5432, user="u")
    dialog = ConfigDialog(TaskRunner(), root / "backups", Target.from_profile(profile, "pw"),
                          password_in_keyring=True, host=host)
    wrote = dialog.write() if dialog.write_button.isEnabled() else None
    repository = ProfileRepository(
        SettingsFile(root / "config" / "settings.json"), MemorySecretStore()
    )
    context = AppContext(lambda: repository, TaskRunner(), root / "backups", "memory", True)
    window = MainWindow(context)
    window.new_profile()
    window.form.server.custom_kind.setChecked(True)
    window.form.name.setText("Second")
    window.form.server.host.setText("127.0.0.1")
    saved = window.save_profile()
    print(json.dumps({"notes": dialog.notes.text(), "wrote": wrote, "saved": saved,
                      "shown": shown}))
    """
)


@pytest.mark.parametrize(
    "fault", [f for f in FAULTS if f.unprivileged], ids=lambda fault: fault.name
)
def test_windows_without_root_powers_show_the_sentence_of_a_permission_fault(
    tmp_path: Path, fault: Fault
) -> None:
    config = config_file(tmp_path)
    settings = tmp_path / "config" / "settings.json"
    repository = ProfileRepository(SettingsFile(settings), MemorySecretStore())
    with (
        faulty(fault, config, lambda: config.write_bytes(OTHER)),
        faulty(fault, settings, lambda: repository.save(FIRST, None, save_password=False)),
    ):
        before = snapshot(config.parent), snapshot(settings.parent)
        child = subprocess.run(
            without_root_powers([sys.executable, "-c", CHILD, str(tmp_path)]),
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            check=False,
        )
        assert (snapshot(config.parent), snapshot(settings.parent)) == before
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    if fault.action == "write":
        assert seen["wrote"] is False
        assert seen["shown"] == [
            ["Could not write the config", sentence(fault, config)],
            ["Could not save the profile", sentence(fault, settings)],
        ]
    else:  # the preview could not read the file; the window opened and said why
        assert (seen["wrote"], seen["notes"]) == (None, sentence(fault, config))
        assert seen["shown"] == [
            ["Settings file", sentence(fault, settings)],
            ["Could not save the profile", sentence(fault, settings)],
        ]
    assert seen["saved"] is False

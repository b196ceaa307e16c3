"""File ▸ Export profiles… and Import profiles… in the main window, on the real Secret
Service; the file dialogs and the password prompts answered by the test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from supalink.profiles import Profile, SecretKind
from supalink.profiles.supabase import Mode
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow

REF = "uiexchangerefabcdefg"
PASSWORD = "pw-saved-by-alice-4411"


class Prompts:
    """QInputDialog.getText answered from a list, each question kept."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[tuple[str, bool]] = []
        self.asked: list[str] = []
        monkeypatch.setattr(QInputDialog, "getText", self.get_text)

    def get_text(self, parent: object, title: str, label: str, *args: object) -> Any:
        self.asked.append(label)
        return self.answers.pop(0)


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> Prompts:
    return Prompts(monkeypatch)


@pytest.fixture
def window(qtbot: Any, app_context: AppContext) -> Iterator[MainWindow]:
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    yield window
    repository = app_context.repository
    for name in repository.names():
        repository.remove(name)


def file_action(window: MainWindow, which: str) -> Any:
    """File ▸ Export profiles… or Import profiles… (found by what it is, not its text: the
    menus' mnemonics may change)."""
    action = getattr(window.menus, f"{which}_action")
    assert action in window.menus.file_menu.actions()
    return action


def choose(monkeypatch: pytest.MonkeyPatch, method: str, path: Path | str) -> None:
    monkeypatch.setattr(QFileDialog, method, lambda *args, **kwargs: (str(path), ""))


def test_export_then_import_into_a_fresh_window(
    window: MainWindow,
    prompts: Prompts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: list[tuple[str, str]],
) -> None:
    repository = window.context.repository
    suffix = uuid.uuid4().hex[:6]
    prod, local = f"prod-{suffix}", f"local-{suffix}"
    repository.save(Profile(prod, Mode.DIRECT, ref=REF), PASSWORD)
    repository.save(Profile(local, host="db.example.com"), PASSWORD)
    window.reload_profiles()

    shared = tmp_path / "shared.json"
    texts = [file_action(window, which).text().replace("&", "") for which in ("export", "import")]
    assert texts == ["Export profiles…", "Import profiles…"]
    choose(monkeypatch, "getSaveFileName", shared)
    file_action(window, "export").trigger()
    data = shared.read_bytes()
    assert PASSWORD.encode() not in data
    assert [item["name"] for item in json.loads(data)["profiles"]] == [prod, local]
    assert message_boxes[-1][0] == "Export profiles"
    assert message_boxes[-1][1].startswith(f"2 profiles exported to {shared}, without passwords")

    for name in (prod, local):  # another person's machine
        repository.remove(name)
    window.reload_profiles()
    choose(monkeypatch, "getOpenFileName", shared)
    prompts.answers = [("bobs-password", True), ("", False)]  # Cancel: left unsaved
    file_action(window, "import").trigger()
    assert prompts.asked == [
        f"Password for {prod}, saved in the keyring (Cancel: leave it unsaved):",
        f"Password for {local}, saved in the keyring (Cancel: leave it unsaved):",
    ]
    assert repository.names() == [prod, local]
    assert repository.load(prod).profile.ref == REF
    assert repository.secrets.get(prod, SecretKind.PASSWORD) == "bobs-password"
    assert not repository.record(local).password_saved
    assert window.profiles.current() == prod  # the list shows them, the first selected
    assert window.form.name.text() == prod
    title, text = message_boxes[-1]
    assert title == "Import profiles"
    assert f"No password saved for {local}" in text


def test_names_saved_already_are_replaced_only_when_the_person_says_so(
    window: MainWindow,
    prompts: Prompts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: list[tuple[str, str]],
) -> None:
    repository = window.context.repository
    name = f"local-{uuid.uuid4().hex[:6]}"
    repository.save(Profile(name, host="db.example.com"), PASSWORD)
    window.reload_profiles()
    shared = tmp_path / "shared.json"
    item = {"name": name, "host": "moved.example.com", "supabase": False}
    shared.write_text(json.dumps({"supalink_profiles": 1, "profiles": [item]}))
    choose(monkeypatch, "getOpenFileName", shared)

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Cancel)
    file_action(window, "import").trigger()
    assert repository.record(name).profile.host == "db.example.com"
    assert prompts.asked == []

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    prompts.answers = [("", False)]  # Cancel: the saved password stays
    file_action(window, "import").trigger()
    assert repository.record(name).profile.host == "moved.example.com"
    assert repository.password_value(name) == PASSWORD
    assert prompts.asked == [
        f"Password for {name}, saved in the keyring (Cancel: keep the saved one):"
    ]


def test_a_bad_file_is_said_and_nothing_is_imported(
    window: MainWindow,
    prompts: Prompts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    message_boxes: list[tuple[str, str]],
) -> None:
    shared = tmp_path / "shared.json"
    shared.write_text('{"supalink_profiles": 1, "profiles": [{"name": "x", "port": 0}]}')
    choose(monkeypatch, "getOpenFileName", shared)
    file_action(window, "import").trigger()
    assert message_boxes[-1] == (
        "Could not import the profiles",
        f"{shared} has 2 problems, nothing was imported: profile 1 ('x'): host: a host is "
        "needed (or a Supabase project ref); profile 1 ('x'): port: a port is between 1 and "
        "65535",
    )
    assert window.context.repository.names() == []
    assert prompts.asked == []

    choose(monkeypatch, "getOpenFileName", tmp_path)  # a folder
    file_action(window, "import").trigger()
    assert message_boxes[-1][1] == f"cannot read {tmp_path}: it is a folder, not a file"


def test_a_missing_ref_is_asked_and_cancel_imports_nothing(
    window: MainWindow,
    prompts: Prompts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repository = window.context.repository
    name = f"prod-{uuid.uuid4().hex[:6]}"
    shared = tmp_path / "shared.json"
    items = [{"name": name, "mode": "direct", "supabase": True}]
    shared.write_text(json.dumps({"supalink_profiles": 1, "profiles": items}))
    choose(monkeypatch, "getOpenFileName", shared)

    prompts.answers = [("", False)]
    file_action(window, "import").trigger()
    assert repository.names() == []

    prompts.answers = [("not-a-ref", True), (REF, True), ("", False)]
    file_action(window, "import").trigger()
    assert prompts.asked[1].startswith(f"The project ref of {name} is not in the file")
    assert repository.load(name).profile.ref == REF
    assert not repository.record(name).password_saved

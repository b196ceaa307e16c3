"""The profile list's actions on their own, with no main window: each asks where it must,
does its change in the repository on the real Secret Service, and announces it; a refusal is
said in a message box and announces nothing."""

from __future__ import annotations

from unittest.mock import patch

from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from supalink.profiles import Profile, SecretKind
from supalink.ui.context import AppContext
from supalink.ui.profile_actions import ProfileActions

RENAME_TO = "PySide6.QtWidgets.QInputDialog.getText"
ANSWER = "PySide6.QtWidgets.QMessageBox.question"


def test_duplicate_rename_and_delete_say_what_changed(
    qtbot: QtBot, app_context: AppContext, message_boxes: list[tuple[str, str]]
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    repository = app_context.repository
    actions = ProfileActions(repository, parent)
    repository.save(Profile("Alpha", host="127.0.0.1", port=5432, user="app"), "pw")
    try:
        with qtbot.waitSignal(actions.duplicated, timeout=1000) as copied:
            actions.duplicate("Alpha")
        assert copied.args == ["Alpha copy"]
        assert actions.unique_name("Alpha") == "Alpha 2"

        with (
            patch(RENAME_TO, return_value=(" Beta ", True)),
            qtbot.waitSignal(actions.renamed, timeout=1000) as renamed,
        ):
            actions.rename("Alpha copy")
        assert renamed.args == ["Alpha copy", "Beta"]
        assert repository.names() == ["Alpha", "Beta"]

        with (
            patch(RENAME_TO, return_value=("Alpha", True)),
            qtbot.assertNotEmitted(actions.renamed),
        ):
            actions.rename("Beta")  # the name is taken: refused, in the repository's words
        assert message_boxes[-1][0] == "Could not rename the profile"
        assert repository.names() == ["Alpha", "Beta"]

        with (
            patch(ANSWER, return_value=QMessageBox.StandardButton.No),
            qtbot.assertNotEmitted(actions.deleted),
        ):
            actions.delete("Beta")
        with (
            patch(ANSWER, return_value=QMessageBox.StandardButton.Yes),
            qtbot.waitSignal(actions.deleted, timeout=1000) as deleted,
        ):
            actions.delete("Beta")
        assert deleted.args == ["Beta"]
        assert repository.names() == ["Alpha"]
        assert repository.secrets.get("Beta", SecretKind.PASSWORD) is None
    finally:
        for name in repository.names():
            repository.remove(name)

"""Saving a snippet: written where the person chose, or the one sentence of a file fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from supalink.profiles import Profile
from supalink.ui.snippets_dialog import SnippetsDialog


def dialog_saving_to(qtbot: Any, monkeypatch: pytest.MonkeyPatch, path: Path) -> SnippetsDialog:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_, **__: (str(path), ""))
    dialog = SnippetsDialog(Profile("P", host="db.example.com", user="reader"))
    qtbot.addWidget(dialog)
    return dialog


def test_a_snippet_is_saved_where_chosen(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dialog = dialog_saving_to(qtbot, monkeypatch, tmp_path / "supalink.env")
    dialog.save_button.click()
    assert (tmp_path / "supalink.env").read_text() == dialog.current_text()


def test_a_folder_in_the_files_place_is_a_sentence_not_a_traceback(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "supalink.env"
    folder.mkdir()
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: said.append(text))
    dialog = dialog_saving_to(qtbot, monkeypatch, folder)
    dialog.save_button.click()
    assert said == [f"cannot write {folder}: it is a folder, not a file"]
    assert list(folder.iterdir()) == []

"""At start the app finds what an interrupted profile change left in the keyring, says what
it is and repairs it in one step when asked (as `supalink profile repair --yes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from supalink.app.context import build_context
from supalink.paths import AppPaths
from supalink.profiles import (
    MemorySecretStore,
    Profile,
    SecretKind,
    SecretStoreError,
    leftover_entries,
)
from supalink.ui.main_window import MainWindow


class RefusingDeletes(MemorySecretStore):
    """A keyring that stops answering deletes for a while, as one that locks mid-change."""

    refusing = False

    def delete(self, profile: str, kind: SecretKind) -> None:
        if self.refusing:
            raise SecretStoreError("the keyring did not answer", "timed out")
        super().delete(profile, kind)


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
def test_the_window_offers_to_repair_what_an_interrupted_removal_left(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: QMessageBox.StandardButton
) -> None:
    store = RefusingDeletes()
    context = build_context(AppPaths.under(tmp_path), store, probe_keyring=False)
    context.repository.save(Profile("gone", host="127.0.0.1", port=5432, user="u"), "pw")
    store.refusing = True
    assert context.repository.remove("gone") is False  # the keyring kept its entry
    store.refusing = False
    assert leftover_entries(context.repository) == 1
    asked: list[str] = []

    def question(_: Any, __: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    window = MainWindow(context)
    qtbot.addWidget(window)
    assert len(asked) == 1
    assert "'gone': 1 keyring entry from an interrupted removed" in asked[0]
    left = 0 if answer is QMessageBox.StandardButton.Yes else 1
    assert leftover_entries(context.repository) == left
    assert store.get("gone", SecretKind.PASSWORD) is (None if left == 0 else "pw")

"""Fixtures for tests that open windows (tests/ui/, tests/e2e/): a context built the way
app.py builds it, on a private settings folder, and message boxes that answer instead of
blocking. Each of those folders' conftest.py makes them its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supalink.paths import AppPaths
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore
from supalink.profiles.settings import SettingsFile
from supalink.ui.context import AppContext
from supalink.ui.tasks import TaskRunner
from tests.support.secret_service import SecretService


def context_on(paths: AppPaths, secrets: KeyringSecretStore) -> AppContext:
    """A context as app.py builds it, on `paths`, with `secrets` for the keyring."""
    return AppContext(
        open_repository=lambda: ProfileRepository(SettingsFile(paths.settings_file), secrets),
        tasks=TaskRunner(),
        backup_dir=paths.backup_dir,
        keyring_description=secrets.description,
        keyring_usable=secrets.is_usable,
    )


@pytest.fixture
def app_context(tmp_path: Path, secret_service: SecretService) -> AppContext:
    """A context on the real Secret Service, as a user's desktop session would give."""
    from keyring.backends.SecretService import Keyring

    return context_on(AppPaths.under(tmp_path), KeyringSecretStore(Keyring()))


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Modal message boxes would block an offscreen test forever: record them instead.

    `question` answers Discard (what a test's teardown needs when it closes a window with
    edits); a test that wants another answer patches it itself.
    """
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def recorder(answer: QMessageBox.StandardButton) -> Any:
        def show(parent: object, title: str, text: str, *args: object, **kwargs: object) -> Any:
            shown.append((title, text))
            return answer

        return show

    monkeypatch.setattr(QMessageBox, "question", recorder(QMessageBox.StandardButton.Discard))
    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, recorder(QMessageBox.StandardButton.Ok))
    return shown

"""The Write config dialog's button that removes the backups holding a password, with real
Qt offscreen and real backups of a client's file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from supalink.mcp.backups import backup_folder, write_backup
from supalink.ui.backup_purge import PurgeBackupsButton

WITH_PASSWORD = {"mcpServers": {"s": {"command": "x", "env": {"PGPASSWORD": "purge-me-42"}}}}
WITHOUT = {"mcpServers": {"s": {"command": "x", "args": ["mcp-serve", "--profile", "p"]}}}


def test_it_removes_only_the_copies_that_hold_a_password(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, root = tmp_path / "claude_desktop_config.json", tmp_path / "backups"
    config.write_text(json.dumps(WITHOUT))
    when = datetime(2026, 12, 1, tzinfo=UTC)
    write_backup(config, json.dumps(WITH_PASSWORD).encode(), root, when)
    write_backup(config, json.dumps(WITHOUT).encode(), root, when)
    button = PurgeBackupsButton(root, lambda: config)
    qtbot.addWidget(button)
    assert len(button.holding_a_password()) == 1
    asked: list[str] = []
    told: list[str] = []

    def question(_: Any, __: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "information", lambda _, __, text: told.append(text))
    button.click()
    assert "hold a password" in asked[0]
    assert told == ["Removed 1 backups."]
    left = list(backup_folder(root, config).glob("*.bak"))
    assert len(left) == 1
    assert b"purge-me-42" not in left[0].read_bytes()
    button.click()  # nothing left to remove: said, nothing asked
    assert len(asked) == 1
    assert told[-1] == "No backup of this file holds a password."

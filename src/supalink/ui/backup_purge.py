"""The Write config dialog's "Remove backups with a password…" button: the timestamped copies
Supalink kept of a client's file before each write may hold a password an entry carried
(a URI entry, the reference server); once that entry is gone, they are the last place it
is. What `supalink config backups --purge` does, for the file the dialog shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from supalink.mcp import list_backups, purge_backups
from supalink.ui.questions import said_yes

LABEL = "Remove backups with a password…"


class PurgeBackupsButton(QPushButton):
    def __init__(
        self,
        backup_root: Path,
        config_file: Callable[[], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        """`config_file`: the client's file the dialog shows now (None: none chosen)."""
        super().__init__(LABEL, parent)
        self.backup_root = backup_root
        self.config_file = config_file
        self.setToolTip(
            "Supalink keeps the last 10 copies of the file from before each write; "
            "this removes those that hold a password"
        )
        self.clicked.connect(self.purge)

    def holding_a_password(self) -> list[Path]:
        target = self.config_file()
        if target is None:
            return []
        try:
            groups = list_backups(self.backup_root, target)
        except OSError:
            return []
        return [
            backup.path for group in groups for backup in group.backups if backup.holds_password()
        ]

    def purge(self) -> None:
        found = self.holding_a_password()
        if not found:
            QMessageBox.information(self, "Backups", "No backup of this file holds a password.")
            return
        listed = "\n".join(f"• {path}" for path in found)
        question = f"These copies of the file hold a password:\n{listed}\n\nRemove them?"
        if not said_yes(self, "Remove backups with a password", question):
            return
        purged = purge_backups(self.backup_root, self.config_file())
        failed = [f"{item.path}: {item.error.strerror}" for item in purged if item.error]
        if failed:
            QMessageBox.warning(self, "Backups", "Not removed:\n" + "\n".join(failed))
            return
        QMessageBox.information(self, "Backups", f"Removed {len(purged)} backups.")

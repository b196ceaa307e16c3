"""The main window's banner when a client removed or changed an entry Supalink wrote:
"Claude Desktop removed the supabase entry at 10:42 — Write it again". Writing it again
puts back the entry as Supalink wrote it (the watch kept it), or else as the last backup
of the file that held it; the masked diff is shown first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from supalink.errors import SupalinkError
from supalink.mcp import (
    CLIENTS,
    MISSING,
    ConfigWriter,
    McpClient,
    WatchEvent,
    last_backup_holding,
)
from supalink.ui.entry_watcher import EntryWatcher, described
from supalink.ui.questions import said_yes
from supalink.ui.theme import Tone, toned


class EntryBanner(QWidget):
    def __init__(
        self, watcher: EntryWatcher, writer: ConfigWriter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.watcher = watcher
        self.writer = writer
        self.message = toned(QLabel(), Tone.ERROR)
        self.message.setWordWrap(True)
        self.write_again = QPushButton("Write it &again")
        dismiss = QPushButton("Dismiss")
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.write_again)
        layout.addWidget(dismiss)
        self.shown: tuple[str, Path, str] | None = None  # client id, file, entry name
        self.write_again.clicked.connect(self.write_it_again)
        dismiss.clicked.connect(self.hide)
        watcher.happened.connect(self.happened)
        self.hide()

    def happened(self, event: WatchEvent, client: McpClient, path: Path) -> None:
        key = (client.id, path, event.server)
        if event.event in ("removed", "changed"):
            self.shown = key
            self.message.setText(f"{described(event, client.name)}.")
            self.show()
        elif event.event == "restored" and self.shown == key:
            self.hide()

    def kept_entry(self) -> tuple[Any, str]:
        """The entry to write back and where it comes from."""
        assert self.shown is not None
        client_id, path, name = self.shown
        watch = self.watcher.entry(client_id, path, name)
        if watch is not None and watch.expected is not MISSING:
            return watch.expected, "as Supalink wrote it"
        found = last_backup_holding(CLIENTS[client_id], path, name, self.writer.backup_dir)
        if found is None:
            return MISSING, ""
        return found[1], f"as the backup {found[0].name} held it"

    def write_it_again(self) -> None:
        if self.shown is None:
            return
        client_id, path, name = self.shown
        entry, source = self.kept_entry()
        if entry is MISSING:
            QMessageBox.warning(self, "Write it again", f"No copy of the {name} entry is kept.")
            return
        try:
            plan = self.writer.plan_restore(CLIENTS[client_id], path, name, entry)
            question = f"Write the {name} entry back into {path}, {source}?\n\n{plan.preview()}"
            if not said_yes(self, "Write it again", question):
                return
            self.writer.apply(plan, confirmed=True)
        except SupalinkError as error:
            QMessageBox.warning(self, "Could not write the config", str(error))
            return
        self.hide()


def attach_banner(window: QMainWindow, banner: QWidget) -> None:
    """Put `banner` above the window's own central widget (taken out, not deleted)."""
    central = window.takeCentralWidget()
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(banner)
    if central is not None:
        layout.addWidget(central, 1)
    window.setCentralWidget(holder)

"""Snippets for the profile: .env, Node.js pg Pool, Python psycopg pool and psql."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from supalink.errors import FileFault
from supalink.files import atomic_write_bytes
from supalink.profiles import Profile, snippets_for

SUFFIXES = {"dotenv": ".env", "node": ".mjs", "python": ".py", "psql": ".sh"}


class SnippetsDialog(QDialog):
    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Snippets for {profile.name}")
        self.resize(760, 520)
        note = QLabel(
            "The password is never written into these snippets: they read it from the "
            "<code>PGPASSWORD</code> environment variable."
        )
        note.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Snippets")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._texts: dict[int, tuple[str, str]] = {}
        for snippet in snippets_for(profile):
            view = QPlainTextEdit(snippet.text)
            view.setReadOnly(True)
            view.setFont(mono)
            view.setAccessibleName(f"{snippet.title} snippet")
            index = self.tabs.addTab(view, snippet.title)
            self._texts[index] = (snippet.key, snippet.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy")
        self.save_button = QPushButton("Save &as…")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy_current)
        self.save_button.clicked.connect(self._save_current)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

    def current_text(self) -> str:
        return self._texts[self.tabs.currentIndex()][1]

    def copy_current(self) -> None:
        QGuiApplication.clipboard().setText(self.current_text())

    def _save_current(self) -> None:
        key, text = self._texts[self.tabs.currentIndex()]
        path, _ = QFileDialog.getSaveFileName(self, "Save snippet", f"supalink{SUFFIXES[key]}")
        if not path:
            return
        try:
            atomic_write_bytes(Path(path), text.encode("utf-8"))
        except OSError as error:  # a read-only folder, a full disk: the sentence, no traceback
            QMessageBox.warning(
                self, "Could not save the snippet", str(FileFault.of("write", path, error))
            )

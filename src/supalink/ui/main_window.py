"""The main window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from supalink import __version__


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Supalink")
        self.resize(960, 640)
        welcome = QLabel(
            f"<h2>Supalink {__version__}</h2>"
            "<p>Connect your AI agent to your Supabase database.</p>"
        )
        welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(welcome)

"""A row of the Write config dialog that says something about the entry in the error tone and
offers what to do about it with a button beside the words: the login too powerful (a role of
its own), the password on its way into the file (the keyring), another profile's entry
replaced (a name of this profile's own). Hidden until there is something to say."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from supalink.ui.theme import Tone, toned


class ActionRow(QWidget):
    def __init__(self, button_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = toned(QLabel(), Tone.ERROR)
        self.message.setWordWrap(True)
        self.button = QPushButton(button_text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button)
        self.hide()


__all__ = ["ActionRow"]

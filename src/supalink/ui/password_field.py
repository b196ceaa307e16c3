"""The connection form's password row: the field, Show, "Save in the keyring", and the line
under them that says what becomes of the password: saved, to be saved, held for this session
only, or why the saved one is not at hand.

"Save in the keyring" starts ticked for a profile not saved yet, however it is made (typed,
pasted, filled from a Supabase project), whenever a keyring can keep the password: a password
held for the session only ends up in an MCP client's config file, and that is a choice the
person makes by unticking it, never a default."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QToolButton, QWidget

from supalink.ui.theme import Tone, toned


class PasswordField:
    """The row's widgets (the form lays them out and listens to them) and what they say."""

    def __init__(self, keyring_description: str, keyring_usable: bool) -> None:
        self.keyring_description = keyring_description
        self.keyring_usable = keyring_usable
        self.saved = False  # the profile's password is in the keyring
        self.problem: str | None = None  # why the saved password is not at hand
        self.edit = QLineEdit()
        self.edit.setAccessibleName("Database password")
        self.edit.setPlaceholderText("the database password")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_button = QToolButton()
        self.show_button.setText("Show")
        self.show_button.setCheckable(True)
        self.show_button.setAccessibleName("Show password")
        self.save = QCheckBox("Save in the keyring")
        self.save.setAccessibleName("Save password in the keyring")
        self.status = toned(QLabel(), Tone.HINT)
        self.status.setWordWrap(True)  # why a password is not at hand runs long
        self.show_button.toggled.connect(self._show_text)

    @property
    def widgets(self) -> tuple[QWidget, ...]:
        return (self.edit, self.show_button, self.save)

    def set(self, password: str | None, *, saved: bool, problem: str | None, new: bool) -> None:
        """A profile's password as it opens; `new`: a profile not saved yet, whose password
        goes to the keyring unless the person says otherwise."""
        self.edit.setText(password or "")
        self.saved = saved
        self.problem = problem
        self.save.setChecked(self.keyring_usable and (saved or new))

    def set_keyring(self, description: str, usable: bool) -> None:
        self.keyring_description = description
        self.keyring_usable = usable
        self.save.setEnabled(usable)
        self.refresh()

    def text(self) -> str | None:
        return self.edit.text() or None

    def edited(self) -> bool:
        return self.edit.isModified()

    def wants_saved(self) -> bool:
        return self.save.isChecked() and self.keyring_usable

    def refresh(self) -> None:
        typed = self.edit.isModified() and self.edit.text()
        if self.problem and not typed:
            held = " (held for this session)" if self.edit.text() else ""
            self.status.setText(self.problem + held)
            toned(self.status, Tone.ERROR)
            return
        toned(self.status, Tone.HINT)
        if not self.keyring_usable:
            self.save.setChecked(False)
            self.save.setEnabled(False)
            text = "Not saved: no usable keyring on this system (kept for this session only)"
        elif not self.save.isChecked():
            text = "Not saved: you will be asked for it when needed"
        elif typed:
            text = f"Will be saved in {self.keyring_description}"
        elif self.saved:
            text = f"Saved in {self.keyring_description}"
        else:
            text = "Not saved yet"
        self.status.setText(text)

    def _show_text(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_button.setText("Hide" if shown else "Show")


__all__ = ["PasswordField"]

"""Write config's second step, the preview: what writing the planned entry would change in
the file, as a diff with the passwords masked (`DiffView`); the row that says so when the
entry of that name connects another profile now, with a name of this profile's own
(`RepointRow`); and the notes: the entry's warnings, or why it cannot be planned."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextEdit, QWidget

from supalink.errors import SupalinkError
from supalink.mcp import EntryWarning, MissingCaFile, PasswordNotSaved, Plan, PlannedEntry
from supalink.ui.action_row import ActionRow

ADDED, REMOVED = "#2f9e6f", "#d9534f"
# The password in the file is the password row's to say (entry_password), not a warning's.
WARNINGS = {
    EntryWarning.NO_CA: "the profile has no CA certificate file, so the server will fail to "
    "verify the database's certificate (verify-full): choose it in the profile's CA file",
    EntryWarning.ESCAPABLE_READ_ONLY: "this server is archived, and its read-only mode can be "
    "escaped: an agent that sends COMMIT and then a statement can change or drop anything the "
    "login may. Supalink's own server is read-only in depth.",
    EntryWarning.WRITES_ALLOWED: "writes are allowed: the agent can change and delete data. "
    "Untick Allow writes for a read-only agent.",
    EntryWarning.ASKED_BY_CLIENT: "the file holds no password: VS Code asks for it the first "
    "time it starts the server and keeps it in its secret storage.",
    EntryWarning.NO_INPUTS: "this format cannot ask for the password (Copilot skips entries "
    "that use ${input:…}), so it goes into the file.",
}


def error_text(error: SupalinkError) -> str:
    """An error of the MCP package in this dialog's words (the CLI names its flags)."""
    if isinstance(error, PasswordNotSaved) and not error.for_launcher:
        return f"{error}: type it into the password field, or save it in the keyring"
    if isinstance(error, MissingCaFile):
        return f"{error}: choose the right one in the profile's CA file"
    return str(error)


def warnings_text(planned: PlannedEntry) -> str:
    """The entry's warnings, a line each ("" when it has none)."""
    shown = [w for w in planned.warnings if w is not EntryWarning.CREDENTIALS_IN_FILE]
    return "\n".join(f"Warning: {WARNINGS[w]}" for w in shown)


class DiffView(QTextEdit):
    """The file's change, read-only, in a fixed font: lines added green, removed red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Changes to the config file, passwords masked")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

    def show_plan(self, plan: Plan) -> None:
        preview = plan.preview() or "(no changes)"
        lines = []
        for line in preview.splitlines():
            color = ""
            if line.startswith("+") and not line.startswith("+++"):
                color = ADDED
            elif line.startswith("-") and not line.startswith("---"):
                color = REMOVED
            text = html.escape(line) or "&nbsp;"
            lines.append(f"<span style='color:{color}'>{text}</span>" if color else text)
        self.setHtml("<pre>" + "<br>".join(lines) + "</pre>")


class RepointRow(ActionRow):
    """Hidden unless the entry of the chosen name connects another profile (or database)
    now; `take_name` with the name offered in its place."""

    take_name = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.replaced: str | None = None  # in words: whom the entry of that name connects now
        self.own_name: str | None = None
        self.button.clicked.connect(self._take_own_name)

    def clear(self) -> None:
        self.replaced = self.own_name = None
        self.hide()

    def show_for(
        self, entry: str, profile: str | None, database: str | None, own: str | None, now: str
    ) -> None:
        """Entry `entry` connects `profile` (or, written by another tool, `database`);
        writing it makes the agent use profile `now`; `own`: a name free for `now`'s."""
        self.replaced = f"the profile {profile!r}" if profile is not None else database
        self.own_name = own
        self.message.setText(
            f"The {entry!r} entry in this file connects {self.replaced} now: "
            f"writing it makes the agent use {now!r} instead."
            + (f" Keep both with an entry named {own!r}." if own else "")
        )
        self.button.setText(f"Name it {own!r}" if own else "")
        self.button.setVisible(own is not None)
        self.show()

    def _take_own_name(self) -> None:
        if self.own_name is not None:
            self.take_name.emit(self.own_name)


__all__ = ["DiffView", "RepointRow", "error_text", "warnings_text"]

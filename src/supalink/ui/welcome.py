"""What a first launch shows above the empty form: where the connection string comes from,
and the demo for those without a project; and what Help > About says."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from supalink import __version__

WELCOME = (
    "<b>Welcome to Supalink.</b> To connect a Supabase project, open it in the Supabase "
    "dashboard, press <b>Connect</b> at the top and copy the connection string under "
    "<i>Session pooler</i> (it works on every network). Paste it into <i>Paste URI</i> "
    "below, type the database password (reset it under Database Settings if you do not "
    "have it), then press <b>Test</b> and <b>Write config…</b>."
    "<br>No project at hand? Run <code>supalink --demo</code> in a terminal: a throwaway "
    "local database with a live monitor."
)


class Welcome(QFrame):
    """Shown while there is no saved profile."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from PySide6.QtCore import Qt  # built when shown: the Qt namespace costs a start

        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Welcome")
        self.text = QLabel(WELCOME)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.hide()  # until the window finds no profile


def show_about(parent: QWidget) -> None:
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.about(
        parent,
        "About Supalink",
        f"<b>Supalink {__version__}</b><p>Connects AI agents to Supabase Postgres, "
        "safely, and keeps watching the connection.</p>",
    )


__all__ = ["WELCOME", "Welcome", "show_about"]

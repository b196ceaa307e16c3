"""The Write config dialog's other way into Claude Desktop: the profile's extension (`.mcpb`,
`supalink config extension`), saved where the person says, beside the entry the dialog
writes into the config file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QWidget

from supalink.errors import SupalinkError

TITLE = "Save Claude Desktop Extension"
FILE_TYPES = "Claude Desktop Extension (*.mcpb)"


class ExtensionSave:
    """Its button, and the save itself; what came of it goes in the dialog's status line."""

    def __init__(self, parent: QWidget, status: QLabel) -> None:
        self.parent = parent
        self.status = status
        self.profile_name: str | None = None
        self.button = QPushButton("Save as e&xtension…")
        self.button.clicked.connect(self.ask_and_save)

    def show_for(self, profile_name: str, *, password_in_keyring: bool) -> None:
        """The extension's server reads the password from the keyring when Claude starts it:
        without it there, there is nothing to save."""
        self.profile_name = profile_name
        self.button.setEnabled(password_in_keyring)
        self.button.setToolTip(
            "A Claude Desktop Extension (.mcpb) for this profile: Claude Desktop's own install "
            "flow (Settings > Extensions), instead of the entry in its config file."
            if password_in_keyring
            else "Save the profile's password in the keyring first: the extension's server "
            "reads it there."
        )

    def ask_and_save(self) -> None:
        from supalink.mcp import extension_file_name

        chosen, _ = QFileDialog.getSaveFileName(
            self.parent,
            TITLE,
            str(Path.home() / extension_file_name(self.profile_name)),
            FILE_TYPES,
        )
        if chosen:
            self.save(Path(chosen))

    def save(self, path: Path) -> bool:
        from supalink.agent import ServeOptions, tool_specs
        from supalink.mcp import extension_bundle, extension_manifest, write_extension

        assert self.profile_name is not None, "shown for a profile first"
        tools = tool_specs(ServeOptions())  # as a read-only server lists them
        try:
            manifest = extension_manifest(tools, profile=self.profile_name)
            written = write_extension(path, extension_bundle(manifest))
        except SupalinkError as error:
            self.status.setText(f"✗ {error}")
            return False
        self.status.setText(
            f"Saved {written}. Open it in Claude Desktop (Settings > Extensions > Install "
            "Extension) and enable it. If the install does nothing, as on some 2026 builds, "
            "press Write for the entry in the config file instead."
        )
        return True


__all__ = ["ExtensionSave"]

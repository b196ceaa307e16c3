"""Write config's first step, the choices: which client and which of its files, which
server template (and, for the launcher, the server behind it), whether the agent may write,
and the entry's name. Any change is announced (`changed`) for the dialog to plan again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from supalink import mcp
from supalink.ui.backup_purge import PurgeBackupsButton


def clients_found_first(host: mcp.Host) -> list[tuple[mcp.McpClient, Path, bool]]:
    """Every client with its config path; those present on this machine first."""
    rows = []
    for client in mcp.CLIENTS.values():
        pure = client.config_path(host)
        # The file, or a folder of the client's own (not the home folder itself).
        folder = pure.parent
        found = host.exists(pure) or (folder != host.path(str(host.home)) and host.exists(folder))
        rows.append((client, Path(pure), found))
    return sorted(rows, key=lambda row: not row[2])


def wide_combo(name: str) -> QComboBox:
    """A combo whose items may name whole paths: the dialog must still fit a 1024-pixel
    screen."""
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(40)
    return combo


class EntryChoices(QWidget):
    changed = Signal()  # a choice was made: plan the entry again
    name_edited = Signal()  # the entry's name, as it is typed (planned once the field is left)

    def __init__(self, host: mcp.Host, backup_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = wide_combo("MCP client")
        for client, path, found in clients_found_first(host):
            note = "" if found else "  (not found on this machine)"
            self.client.addItem(f"{client.name} — {path}{note}", (client.id, str(path)))
        self.path = QLineEdit()
        self.path.setAccessibleName("Config file")
        browse = QPushButton("Browse…")
        self.purge_backups = PurgeBackupsButton(backup_dir, self.config_file)
        self.template = wide_combo("Server template")
        for template in mcp.TEMPLATES:
            self.template.addItem(template, template)
        self.template.setCurrentIndex(self.template.findData(mcp.DEFAULT_TEMPLATE))
        self.server = QComboBox()
        self.server.setAccessibleName("Server behind the launcher")
        for template in mcp.URI_SERVERS:
            self.server.addItem(template, template)
        self.server.setCurrentIndex(self.server.findData(mcp.DEFAULT_LAUNCHED_SERVER))
        self.allow_writes = QCheckBox("&Allow writes (the agent can change data)")
        self.allow_writes.setToolTip(
            "Supalink's server refuses every write unless this is ticked: leave it off for an "
            "agent that only reads"
        )
        self.server_name = QLineEdit(mcp.DEFAULT_SERVER_NAME)
        self.server_name.setAccessibleName("Server name")
        self._lay_out(browse)
        self.client.currentIndexChanged.connect(self._client_changed)
        self.path.editingFinished.connect(self.changed)
        browse.clicked.connect(self._browse)
        self.template.currentIndexChanged.connect(self.changed)
        self.server.currentIndexChanged.connect(self.changed)
        self.allow_writes.toggled.connect(self.changed)
        self.server_name.editingFinished.connect(self.changed)
        self.server_name.textChanged.connect(self.name_edited)

    def _lay_out(self, browse: QPushButton) -> None:
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        path_row.addWidget(self.purge_backups)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Client", self.client)
        path_label = QLabel("Config &file")
        path_label.setBuddy(self.path)
        form.addRow(path_label, path_row)
        form.addRow("&Template", self.template)
        form.addRow("Server behind the launcher", self.server)
        form.addRow("", self.allow_writes)
        form.addRow("Server &name", self.server_name)

    def start(self) -> None:
        """The chosen client's file in the path field, announced: the first plan."""
        self._client_changed()

    # ----- what was chosen --------------------------------------------------------------
    def selected_client(self) -> mcp.McpClient:
        client_id, _ = self.client.currentData()
        return mcp.CLIENTS[client_id]

    def config_path(self) -> Path:
        return Path(self.path.text()).expanduser()

    def config_file(self) -> Path | None:
        """The file named, if any (the backups' button asks)."""
        text = self.path.text().strip()
        return Path(text).expanduser() if text else None

    def template_name(self) -> str:
        return str(self.template.currentData())

    def launched_server(self) -> str | None:
        """The server behind the launcher, for the launcher's template only."""
        if self.template_name() != mcp.KEYRING_TEMPLATE:
            return None
        return str(self.server.currentData())

    def writes_allowed(self) -> bool:
        return self.allow_writes.isEnabled() and self.allow_writes.isChecked()

    def entry_name(self) -> str:
        return self.server_name.text().strip() or mcp.DEFAULT_SERVER_NAME

    def fit_template(self) -> None:
        """Only the launcher has a server behind it, only Supalink's own server a guard to
        turn off."""
        template = self.template_name()
        self.server.setEnabled(template == mcp.KEYRING_TEMPLATE)
        self.allow_writes.setEnabled(template == mcp.SUPALINK_TEMPLATE)

    # ----- reacting ---------------------------------------------------------------------
    def _client_changed(self, *_: object) -> None:
        self.path.setText(self.client.currentData()[1])
        self.changed.emit()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Config file",
            self.path.text(),
            "JSON (*.json);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path.setText(path)
            self.changed.emit()


__all__ = ["EntryChoices", "clients_found_first"]

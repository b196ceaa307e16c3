"""The client's own log of a server, shown beside Verify when Verify failed: the first
place to look when a client cannot start a server (mcp.server_logs reads and masks it)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit

from supalink.errors import FileFault
from supalink.logs import SecretMasker
from supalink.mcp import Host, McpClient, server_logs

SHOWN_LINES = 30


class ClientLogView(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setAccessibleName("The client's own log of this server, passwords masked")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMaximumHeight(160)
        self.hide()

    def show_for(
        self, client: McpClient, host: Host, server_name: str, secrets: Iterable[str]
    ) -> None:
        """Show the end of the client's log of `server_name`; hidden where the client keeps
        none Supalink knows."""
        masker = SecretMasker()
        masker.add_secrets(secrets)
        try:
            logs = server_logs(client, host, server_name, lines=SHOWN_LINES, masker=masker)
        except OSError as error:
            self.setPlainText(str(FileFault.of("read", error.filename or "its log", error)))
            self.show()
            return
        if not logs:
            self.hide()
            return
        parts = []
        for log in logs:
            if not log.exists:
                parts.append(f"{log.path}: no log yet ({client.name} has not started it).")
            elif log.lines:
                parts.append("\n".join([f"{client.name}'s log {log.path}:", *log.lines]))
        self.setPlainText("\n\n".join(parts))
        self.show()

"""Write config's last step, Verify: start the entry the file holds as the client would
(mcp.verify_entry), and say what came back in the dialog's status line; when it failed, the
client's own log of the server shows beside it, the first place to look."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from PySide6.QtWidgets import QLabel, QPushButton

from supalink.mcp import Host, McpClient, ServerEntry, VerifyReport, verify_entry
from supalink.ui.client_log_view import ClientLogView
from supalink.ui.tasks import TaskRunner

VERIFY_TASK = "verify-config"


class LogPlace(NamedTuple):
    """Where the client keeps its log of the server: for the log shown after a failure."""

    client: McpClient
    host: Host
    server_name: str


class VerifyStep:
    """Verify's buttons and the client's log (the dialog lays them out); its words go in
    the dialog's `status`."""

    def __init__(self, tasks: TaskRunner, status: QLabel) -> None:
        self.tasks = tasks
        self.status = status
        self.last_report: VerifyReport | None = None
        self.button = QPushButton("&Verify")
        self.button.setToolTip(
            "Start the server as the client would and run select 1; Supalink's own server must "
            "also refuse a write"
        )
        self.cancel = QPushButton("Cancel verify")
        self.cancel.hide()
        self.client_log = ClientLogView()
        self.cancel.clicked.connect(lambda: self.tasks.cancel(VERIFY_TASK))

    def start(self, entry: ServerEntry, secrets: tuple[str, ...], log: LogPlace) -> None:
        """`secrets`: those the entry may hold, masked in whatever is shown."""
        self.button.setEnabled(False)
        self.cancel.show()
        self.status.setText("Starting the server as the client would…")
        self.tasks.run(VERIFY_TASK, self._verify(entry, secrets, log))

    async def _verify(self, entry: ServerEntry, secrets: tuple[str, ...], log: LogPlace) -> None:
        try:
            report = await verify_entry(entry, secrets=secrets)
        except asyncio.CancelledError:
            self.status.setText("Verify cancelled.")
            raise
        finally:
            self.button.setEnabled(True)
            self.cancel.hide()
        self.show_report(report, secrets, log)

    def show_report(self, report: VerifyReport, secrets: tuple[str, ...], log: LogPlace) -> None:
        self.last_report = report
        checks = "".join(f"\n{line}" for line in report.details())
        self.client_log.hide()
        if report.ok:
            self.status.setText(f"✓ Verified: {report.summary} ({report.elapsed:.1f} s).{checks}")
        else:
            detail = f"\n{report.stderr.strip()[-600:]}" if report.stderr.strip() else ""
            self.status.setText(f"✗ {report.summary}{checks}{detail}")
            self.client_log.show_for(log.client, log.host, log.server_name, secrets)


__all__ = ["VERIFY_TASK", "LogPlace", "VerifyStep"]

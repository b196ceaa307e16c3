"""The user's day in one test, typing into the real widgets: fill the form, save (keyring),
test (real server), write config (a temporary Claude config), verify it, open the monitor,
receive a NOTIFY sent from another connection, quit cleanly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from PySide6.QtCore import QPoint, Qt

from supalink.app.quitting import shut_down
from supalink.profiles.secrets import SecretKind
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.main_window import PROBE_TASK, MainWindow
from supalink.ui.monitors import Monitors
from supalink.ui.tray import HealthTray
from tests.support.monitoring import wait_for
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.reference_server import ReferenceServer
from tests.support.typing import type_text


async def until(condition: Callable[[], object], timeout: float = 30) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def click(qtbot: Any, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_from_empty_form_to_a_monitored_agent_connection(
    qtbot: Any,
    qapp: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    reference_server: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in reference_server.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SUPALINK_HOME", str(tmp_path))  # where the MCP launcher looks
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # Claude Desktop's folder
    claude_config = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    claude_config.parent.mkdir(parents=True)
    claude_config.write_text('{\n  "preferences": {"menuBarEnabled": true}\n}\n')
    app_context.monitors = Monitors(HealthTray(tray_available=False))
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    form = window.form

    # Fill in the form for the local SSL server, as a person types it.
    form.name.clear()
    qtbot.keyClicks(form.name, "Agent DB")
    # On the radio button's indicator: the widget is wider than its text.
    indicator = QPoint(8, form.server.custom_kind.height() // 2)
    qtbot.mouseClick(form.server.custom_kind, Qt.MouseButton.LeftButton, pos=indicator)
    assert form.server.custom_kind.isChecked()
    qtbot.keyClicks(form.server.host, "127.0.0.1")
    form.server.port.setValue(pg.port)
    qtbot.keyClicks(form.user, pg.role)
    type_text(qtbot, form.password, SPECIAL_PASSWORD)
    qtbot.keyClicks(form.tls.sslrootcert, str(pg.ca_cert))
    assert form.problems() == {}
    assert "Supalink Test CA" in form.tls.ca_info.text()

    # Save: the password goes to the keyring, nowhere else.
    click(qtbot, window.save_button)
    assert app_context.repository.secrets.get("Agent DB", SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert SPECIAL_PASSWORD.encode() not in app_context.repository.settings_file.path.read_bytes()

    # Test against the real server.
    click(qtbot, window.test_button)
    qasync_loop.run_until_complete(until(lambda: not app_context.tasks.is_running(PROBE_TASK)))
    assert window.test_panel.result is not None
    assert window.test_panel.result.ok, window.test_panel.result.to_dict()

    # Write config: the dialog is modal for a person; here it is shown and driven.
    dialogs: list[ConfigDialog] = []

    def exec_(dialog: ConfigDialog) -> int:
        dialogs.append(dialog)
        return 0

    monkeypatch.setattr(ConfigDialog, "exec", exec_)
    click(qtbot, window.config_button)
    (dialog,) = dialogs
    qtbot.addWidget(dialog)
    assert dialog.choices.selected_client().id == "claude"
    assert Path(dialog.choices.path.text()) == claude_config
    click(qtbot, dialog.write_button)
    written = claude_config.read_text()
    assert json.loads(written)["preferences"] == {"menuBarEnabled": True}
    assert "mcp-serve" in written
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")):
        assert secret not in written
    assert "Quit Claude Desktop fully" in dialog.status.text()
    click(qtbot, dialog.verify_button)
    qasync_loop.run_until_complete(until(dialog.verify_button.isEnabled, 60))
    assert dialog.status.text().startswith("✓ Verified"), dialog.status.text()
    dialog.close()

    # Open the monitor, listen on a channel, receive a NOTIFY from another connection.
    click(qtbot, window.monitor_button)
    monitor = app_context.monitors.windows["Agent DB"]
    qtbot.addWidget(monitor)
    panel = monitor.notifications
    qtbot.keyClicks(panel.channel_name, "agent events")
    click(qtbot, panel.add_button)

    def healthy() -> bool:
        if monitor.health_status == "healthy":
            return True
        # The first check also waits for the pool's first connection, which on a loaded
        # machine can take longer than the 0.5 s still called healthy: check again (bounded
        # by the 30 s wait) rather than wait for the next check, 60 s later.
        monitor.engine.health.check_soon()
        return False

    qasync_loop.run_until_complete(until(healthy))
    qasync_loop.run_until_complete(
        until(lambda: "agent events" in monitor.engine.listener.channels)
    )

    async def notify_until_shown() -> None:
        # LISTEN takes effect a moment after the channel is added: send until one arrives.
        async with await psycopg.AsyncConnection.connect(pg.uri(), autocommit=True) as sender:
            while panel.model.rowCount() == 0:
                await sender.execute(
                    "SELECT pg_notify('agent events', %s)", ('{"task": "done", "id": 7}',)
                )
                await asyncio.sleep(0.3)

    qasync_loop.run_until_complete(asyncio.wait_for(notify_until_shown(), 15))
    panel.table.selectRow(0)
    assert '"task": "done"' in panel.detail.toPlainText()

    # Quit as the app does: every window closes, every connection is given back (within 5 s).
    qasync_loop.run_until_complete(asyncio.wait_for(shut_down(qapp, app_context), 5))
    qapp.setQuitOnLastWindowClosed(True)
    assert not window.isVisible()
    assert not monitor.isVisible()
    assert app_context.monitors.open_count == 0
    with psycopg.connect(pg.uri(), autocommit=True) as check:

        def monitors_gone() -> bool:
            row = check.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name LIKE 'supalink-monitor%'"
            ).fetchone()
            return row == (0,)

        # The server drops a closed client's backend a moment later: a bounded wait.
        wait_for(monitors_gone, 5.0, "the monitor's backends to leave pg_stat_activity")

"""The monitor window on a real engine, for the test_monitor_* files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon

from supalink.monitor import MonitorEngine
from supalink.monitor.listener import ListenerState
from supalink.profiles import Target
from supalink.ui.monitor_window import MonitorWindow
from tests.support.monitoring import quick_settings, wait_until


def center_color(icon: QIcon) -> QColor:
    """The colour in the middle of an icon: the health light's."""
    return icon.pixmap(32, 32).toImage().pixelColor(16, 16)


def model_payloads(window: MonitorWindow) -> list[str]:
    return [getattr(row, "payload", "<gap>") for row in window.notifications.model.rows()]


def keep_loop_running_on_close(window: MonitorWindow) -> None:
    """Closing the last window quits a QApplication, which stops the qasync loop under the
    test; what closing the last window does is the app's policy (supalink.app), not the window's."""
    window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)


@asynccontextmanager
async def live_window(
    qtbot: Any, uri: str, channels: Iterable[str] = (), *, listening: bool = True, **settings: Any
) -> AsyncIterator[MonitorWindow]:
    """A shown, started window (listening, when given channels and `listening`); closed,
    and its engine stopped, on the way out."""
    engine = MonitorEngine(Target.from_conninfo(uri), quick_settings(**settings), channels=channels)
    window = MonitorWindow(engine, "Test project")
    keep_loop_running_on_close(window)
    qtbot.addWidget(window)
    window.show()
    await window.start()
    try:
        if channels and listening:
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, what="listening"
            )
        yield window
    finally:
        window.close()
        await window.stop()


async def notify(uri: str, channel: str, *payloads: str) -> None:
    """NOTIFY from another connection, one transaction per payload."""
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
        for payload in payloads:
            await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))

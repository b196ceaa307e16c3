"""The server restarts under the window: the table gets a gap row, the light follows."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from supalink.monitor.events import Gap, Notification
from supalink.monitor.health import Health
from supalink.monitor.listener import ListenerState
from supalink.ui.notification_model import GAP_BACKGROUND
from supalink.ui.status_light import HEALTH_COLORS
from supalink.ui.tray import HealthTray
from tests.support.monitoring import channel_name, run, wait_until
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles
from tests.ui.monitor_support import center_color, live_window, model_payloads, notify


@pytest.fixture(scope="module")
def restartable_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server of this module's own, to stop and start without disturbing `pg`."""
    server = start_postgres(
        system_tools, services_root / f"ui-monitor-{uuid.uuid4().hex[:8]}", tls_files
    )
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.mark.slow
def test_a_restart_shows_a_gap_row_and_the_light_follows_the_server(
    qtbot: Any, restartable_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    server = restartable_pg
    channel = channel_name()

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, server.uri(), channels=[channel]) as window:
            engine, model = window.engine, window.notifications.model
            statuses: list[str] = []
            window.health_changed.connect(lambda status, _: statuses.append(status))
            tray = HealthTray(tray_available=False)
            tray.watch(window)
            lights: list[QColor] = []
            window.health_changed.connect(
                lambda *_: lights.append(center_color(tray.current_icon()))
            )
            await notify(server.uri(), channel, "before")
            await wait_until(lambda: len(model) == 1, what="before")
            # The first health check must have reported before the server goes away.
            await wait_until(lambda: window.health_status is Health.HEALTHY, what="healthy first")
            # The light as the server stops: the healthy report may have come before the
            # recorder above was connected, so it is read off the tray, not waited for.
            lights.append(center_color(tray.current_icon()))
            lights_before_stop = len(lights)
            await asyncio.to_thread(server.stop, "fast")
            await wait_until(lambda: window.health_status is Health.DOWN, what="down")
            down = (window.health_bar.status.text(), window.health_bar.last_error.text())
            await asyncio.sleep(1.0)  # away long enough to see in the gap row
            await asyncio.to_thread(server.start)
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, what="listening again"
            )
            await notify(server.uri(), channel, "after")
            await wait_until(lambda: len(model) == 3, what="gap and after")
            await wait_until(lambda: window.health_status is Health.HEALTHY, what="healthy")
            gap_index = 1
            window.notifications.table.selectRow(gap_index)
            return {
                "rows": model.rows(),
                "payloads": model_payloads(window),
                "gap_cells": [model.index(gap_index, c).data() for c in range(4)],
                "gap_span": window.notifications.table.columnSpan(gap_index, 1),
                "gap_background": model.index(gap_index, 3).data(Qt.ItemDataRole.BackgroundRole),
                "normal_background": model.index(0, 3).data(Qt.ItemDataRole.BackgroundRole),
                "detail": window.notifications.detail.toPlainText(),
                "down": down,
                "statuses": statuses,
                "counts": window.notifications.counts.text(),
                "lights": lights,
                "lights_before_stop": lights_before_stop,
                "tray": tray,
            }

    seen = run(qasync_loop, scenario(), timeout=90)
    assert [type(row) for row in seen["rows"]] == [Notification, Gap, Notification]
    assert seen["payloads"] == ["before", "<gap>", "after"]
    gap: Gap = seen["rows"][1]
    assert gap.seconds >= 1.0
    _, text, pid, payload = seen["gap_cells"]
    assert (pid, payload) == ("", "")
    assert seen["gap_span"] == 3  # the text reads across the row
    # Over TLS the listener only sees its connection close; the pool may hear why.
    assert re.fullmatch(
        rf"— not listening on {re.escape(channel)} for {gap.seconds:.1f} s "
        r"\((server restart|connection lost)\) —",
        text,
    )
    assert text.endswith(f" ({gap.reason}) —")  # the listener's reason, as it set it
    assert seen["gap_background"] == GAP_BACKGROUND
    assert seen["normal_background"] is None
    assert seen["detail"].startswith(f"Not listening for {gap.seconds:.3f} s")
    assert re.search(r"^Reason: (server restart|connection lost)$", seen["detail"], re.M)
    assert f"\nReason: {gap.reason}\n" in seen["detail"]
    assert seen["down"][0] == "Down"
    assert seen["down"][1].startswith("Last error: ")
    statuses = seen["statuses"]
    assert statuses.index(Health.DOWN) < len(statuses) - 1 - statuses[::-1].index(Health.HEALTHY)
    assert "1 gap" in seen["counts"]
    # The tray's light went red with the server and green again after it.
    lights = seen["lights"]
    red, green = QColor(HEALTH_COLORS[Health.DOWN]), QColor(HEALTH_COLORS[Health.HEALTHY])
    before_stop = seen["lights_before_stop"]
    # (A first check on a loaded machine may time out: only the light at the stop counts.)
    assert lights[before_stop - 1] == green
    assert red in lights[before_stop:]
    assert lights[-1] == green
    assert seen["tray"].status is Health.UNKNOWN  # the window closed: nothing to show

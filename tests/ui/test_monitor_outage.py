"""An outage under the window, told once: the health card leaves green as the channel pane
says reconnecting, "Down" leads with the cause, the server panel says its figures are old
and since when, and after recovery the card and the status bar sum the outage up in a
line. The monitor's default timings (a 10 s check), on a server stopped for real."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supalink.monitor.health import Health
from supalink.monitor.listener import ListenerState
from tests.support.monitoring import channel_name, run, wait_until
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles
from tests.ui.monitor_support import live_window

WAIT = 60.0
CAUSES = "(connection refused|server restart|connection lost)"


@pytest.fixture(scope="module")
def outage_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    server = start_postgres(
        system_tools, services_root / f"ui-outage-{uuid.uuid4().hex[:8]}", tls_files
    )
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.mark.slow
def test_the_card_the_channel_pane_the_server_panel_and_the_status_bar_tell_one_story(
    qtbot: Any, outage_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    server = outage_pg
    channel = channel_name()

    async def scenario() -> dict[str, Any]:
        # The default check: a minute apart, 10 s to answer; only the chart looks often.
        async with live_window(
            qtbot,
            server.uri(),
            channels=[channel],
            health_interval=60.0,
            health_timeout=None,
            connect_timeout=10,
            server_view_interval=30.0,
        ) as window:
            engine = window.engine
            bar, pane = window.health_bar, window.notifications.listening
            await wait_until(lambda: window.health_status is Health.HEALTHY, WAIT, "healthy")
            await wait_until(
                lambda: window.server_panel.updated.text().startswith("pg_stat_activity at"),
                WAIT,
                "a server view shown",
            )
            await asyncio.to_thread(server.stop, "fast")
            await wait_until(lambda: pane.text().startswith("Reconnecting"), WAIT, "pane")
            at_reconnecting = (window.health_status, bar.status.text())
            await wait_until(lambda: window.health_status is Health.DOWN, WAIT, "down")
            down = {
                "card": bar.status.text(),
                "error": bar.last_error.text(),
                "detail": bar.detail.text(),
                "pane": pane.text(),
                "server": window.server_panel.updated.text(),
                "server_enabled": window.server_panel.activity.isEnabled(),
                "status": window.statusBar().currentMessage(),
            }
            await asyncio.sleep(1.0)
            await asyncio.to_thread(server.start)
            await wait_until(lambda: window.health_status is Health.HEALTHY, WAIT, "back")
            back = {
                "error": bar.last_error.text(),
                "status": window.statusBar().currentMessage(),
            }
            await wait_until(
                lambda: engine.listener.state is ListenerState.LISTENING, WAIT, "listening"
            )
            window.check_now()  # a fresh server view: the figures are new again
            await wait_until(lambda: not window.server_panel.old, WAIT, "new figures")
            fresh = window.server_panel.updated.text()
            return {"reconnecting": at_reconnecting, "down": down, "back": back, "fresh": fresh}

    seen = run(qasync_loop, scenario(), timeout=240)
    status, card = seen["reconnecting"]
    assert status is not Health.HEALTHY
    assert card != "Healthy"
    down = seen["down"]
    assert down["card"] == "Down"
    assert re.match(rf"Last error: {CAUSES}", down["error"]), down["error"]
    assert re.match(r"since \d\d:\d\d:\d\d · no answer", down["detail"]), down["detail"]
    card_cause = re.match(rf"Last error: {CAUSES}", down["error"])
    pane_cause = re.fullmatch(rf"Reconnecting: {CAUSES} \(since \d\d:\d\d:\d\d\)", down["pane"])
    assert card_cause is not None
    assert pane_cause is not None, down["pane"]
    assert pane_cause[1] == card_cause[1]  # one cause, said by both
    assert re.fullmatch(
        r"Old: pg_stat_activity at \d\d:\d\d:\d\d; no answer from the server since "
        r"\d\d:\d\d:\d\d",
        down["server"],
    )
    assert not down["server_enabled"]
    assert re.match(rf"Down since \d\d:\d\d:\d\d: {CAUSES}", down["status"]), down["status"]
    summary = rf"down \d+ s \(\d\d:\d\d:\d\d\u2013\d\d:\d\d:\d\d\): {CAUSES}"
    assert re.fullmatch(f"Last outage: {summary}", seen["back"]["error"]), seen["back"]
    assert re.fullmatch(f"Back: {summary}", seen["back"]["status"]), seen["back"]
    assert seen["fresh"].startswith("pg_stat_activity at ")

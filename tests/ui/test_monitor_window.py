"""The monitor window against the real server: stats, health, notifications and the
actions on them, the failure banner, and a clean close."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QFileDialog,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QWidget,
)

from supalink.monitor import MonitorEngine
from supalink.monitor.events import Notification
from supalink.monitor.health import Health
from supalink.monitor.pool import PoolState
from supalink.profiles import Target
from supalink.ui.monitor_window import MonitorWindow
from tests.support.monitoring import channel_name, quick_settings, run, wait_for, wait_until
from tests.support.postgres import PostgresServer, integer
from tests.support.typing import type_text
from tests.ui.monitor_support import (
    keep_loop_running_on_close,
    live_window,
    model_payloads,
    notify,
)


def first_cell(table: QTableWidget, row: int) -> str:
    item = table.item(row, 0)
    assert item is not None
    return item.text()


def test_stats_and_chart_follow_checked_out_connections(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, pg.uri(), min_size=1, max_size=4) as window:
            engine, panel = window.engine, window.pool_panel
            await wait_until(lambda: window.health_status is Health.HEALTHY, what="healthy")
            health_text = (window.health_bar.status.text(), window.health_bar.detail.text())
            async with AsyncExitStack() as stack:
                for _ in range(3):
                    await stack.enter_async_context(engine.pool.connection())
                # A health check may wait a moment for the fourth connection the pool
                # opens for it (a sample may see that); then nobody waits.
                await wait_until(
                    lambda: (
                        (panel.tiles["in_use"].value.text(), panel.tiles["waiting"].value.text())
                        == ("3", "0")
                    ),
                    what="3 in use, none waiting",
                )
                busy = {key: tile.value.text() for key, tile in panel.tiles.items()}
                chart_busy = panel.chart.points("in_use")
            await wait_until(lambda: panel.tiles["in_use"].value.text() == "0", what="back to 0")
            await window.engine.refresh_server_view()
            await wait_until(lambda: window.server_panel.activity.rowCount() > 0, what="server")
            server = window.server_panel
            apps = {first_cell(server.activity, row) for row in range(server.activity.rowCount())}
            return {
                "health": health_text,
                "busy": busy,
                "chart_busy": chart_busy,
                "chart_size": panel.chart.points("size"),
                "apps": apps,
                "connections": server.connections.text(),
                "queue": server.queue.text(),
            }

    seen = run(qasync_loop, scenario())
    assert seen["health"][0] == "Healthy"
    assert seen["health"][1].startswith("SELECT 1 in ")
    assert seen["busy"]["size"].endswith("/ 4")
    assert int(seen["busy"]["size"].split()[0]) >= 3
    assert int(seen["busy"]["requests"].replace(",", "")) >= 3
    assert seen["chart_busy"][-1] == 3.0
    assert max(seen["chart_size"]) >= 3.0
    assert "supalink-monitor" in seen["apps"]
    assert "supalink-monitor/listen" not in seen["apps"]  # no channels: no listener
    assert "max_connections 100" in seen["connections"]
    assert seen["queue"].endswith("% used")


def test_a_notify_shows_its_payload_and_the_detail_pane_pretty_prints_json(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = f'Jobs "Queue" é {channel_name()}'  # any name: spaces, quotes, accents
    payload = json.dumps({"id": 7, "tags": ["a", "é"], "nested": {"ok": True}})

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, pg.uri()) as window:
            panel = window.notifications
            type_text(qtbot, panel.channel_name, channel)
            qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: "Listening on" in panel.listening.text(), what="listening")
            await notify(pg.uri(), channel, payload, "plain text")
            await wait_until(lambda: len(panel.model) == 2, what="two rows")
            model = panel.model
            cells = [model.index(0, column).data() for column in range(4)]
            panel.table.selectRow(0)
            detail_json = panel.detail.toPlainText()
            panel.table.selectRow(1)
            detail_text = panel.detail.toPlainText()
            return {
                "cells": cells,
                "detail_json": detail_json,
                "detail_text": detail_text,
                "channels": panel.channels.item(0).text(),
                "counts": panel.counts.text(),
            }

    seen = run(qasync_loop, scenario())
    time_cell, channel_cell, pid_cell, payload_cell = seen["cells"]
    assert channel_cell == channel
    assert int(pid_cell) > 0
    assert payload_cell == payload
    assert len(time_cell) == len("12:34:56.789")
    assert f"Channel: {channel}" in seen["detail_json"]
    assert '{\n  "id": 7,\n  "tags": [\n    "a",\n    "é"\n  ],' in seen["detail_json"]
    assert seen["detail_text"].endswith("\n\nplain text")
    assert seen["channels"] == f"{channel}  ·  2"
    assert "2 received" in seen["counts"]


def test_filter_pause_clear_and_export_do_what_they_say(
    qtbot: Any,
    pg: PostgresServer,
    qasync_loop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders, jobs = channel_name("orders"), channel_name("jobs")

    def save_as(name: str, chosen: str) -> Path:
        target = tmp_path / name
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), chosen)
        )
        return target

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with live_window(qtbot, pg.uri(), channels=[orders, jobs]) as window:
            panel, engine = window.notifications, window.engine
            await notify(pg.uri(), orders, "order 1", "order 2")
            await notify(pg.uri(), jobs, "job 1", '{"job": 2}')
            await wait_until(lambda: len(panel.model) == 4, what="four rows")

            qtbot.keyClicks(panel.filter, "JOB")  # case-insensitive, payload or channel
            await wait_until(lambda: len(panel.model) == 2, what="filtered")
            seen["filtered"] = model_payloads(window)
            seen["jsonl"] = save_as("shown.jsonl", "JSON Lines (*.jsonl)")
            panel.export_action.trigger()

            panel.pause_action.trigger()
            await notify(pg.uri(), jobs, "job 3")
            # The window caught up with it (within a second): the view must not move.
            await wait_until(lambda: "5 received" in panel.counts.text(), what="counted")
            seen["paused_rows"] = model_payloads(window)
            seen["paused_counts"] = panel.counts.text()
            panel.pause_action.trigger()
            seen["resumed"] = model_payloads(window)

            panel.filter.clear()
            await wait_until(lambda: len(panel.model) == 5, what="unfiltered")
            seen["csv"] = save_as("all", "CSV (*.csv)")  # no suffix: the chosen type's
            panel.export_action.trigger()

            panel.clear_action.trigger()
            seen["cleared"] = (len(panel.model), len(engine.log), panel.counts.text())
            await notify(pg.uri(), orders, "after clear")
            await wait_until(lambda: len(panel.model) == 1, what="a row after clear")
            seen["after_clear"] = (model_payloads(window), engine.log.total)
        return seen

    seen = run(qasync_loop, scenario())
    assert seen["filtered"] == ["job 1", '{"job": 2}']
    exported = [json.loads(line) for line in seen["jsonl"].read_text().splitlines()]
    assert [(row["channel"], row["payload"]) for row in exported] == [
        (jobs, "job 1"),
        (jobs, '{"job": 2}'),
    ]
    assert all(row["event"] == "notification" and row["pid"] > 0 for row in exported)
    assert seen["paused_rows"] == ["job 1", '{"job": 2}']
    assert "5 received" in seen["paused_counts"]
    assert "paused, 1 new" in seen["paused_counts"]
    assert seen["resumed"] == ["job 1", '{"job": 2}', "job 3"]
    csv_path = seen["csv"].with_suffix(".csv")
    table = list(csv.reader(io.StringIO(csv_path.read_text())))
    assert table[0] == ["kind", "time", "channel", "pid", "payload"]
    assert [row[4] for row in table[1:]] == ["order 1", "order 2", "job 1", '{"job": 2}', "job 3"]
    assert seen["cleared"][:2] == (0, 0)
    assert "5 received" in seen["cleared"][2]  # clearing the view keeps the counts
    assert seen["after_clear"] == (["after clear"], 6)


def test_send_test_notification_and_resize_the_pool(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name("test")

    async def scenario() -> dict[str, Any]:
        async with live_window(qtbot, pg.uri(), channels=[channel]) as window:
            panel = window.notifications
            panel.send_action.trigger()
            await wait_until(lambda: len(panel.model) == 1, what="the test notification")
            row = panel.model.row_at(0)
            pool = window.pool_panel
            pool.min_size.setValue(2)
            pool.max_size.setValue(6)
            qtbot.mouseClick(pool.apply_button, Qt.MouseButton.LeftButton)
            await wait_until(
                lambda: pool.tiles["size"].value.text().endswith("/ 6"), what="new max shown"
            )
            resized = window.engine.pool.settings
            await wait_until(
                lambda: (
                    "pool max 6" in pool.cost.text() and "of max_connections" in pool.cost.text()
                ),
                what="the new cost, with the server's limit",
            )
            cost = pool.cost.text()
            pool.min_size.setValue(5)
            pool.max_size.setValue(3)
            pool.apply_button.click()
            await wait_until(
                lambda: "not changed" in window.statusBar().currentMessage(), what="refusal"
            )
            return {
                "row": row,
                "resized": (resized.min_size, resized.max_size),
                "after_refusal": window.engine.pool.settings.max_size,
                "refusal": window.statusBar().currentMessage(),
                "cost": cost,
                "max_connections": window.engine.server.max_connections
                if window.engine.server
                else None,
            }

    seen = run(qasync_loop, scenario())
    # What the pool costs the server, said where its sizes are set (the server's own
    # max_connections, as this test server matches no compute size).
    assert seen["cost"] == (
        "At most 7 server connections (pool max 6, listener 1): "
        f"7 of max_connections {seen['max_connections']} "
        f"({7 / seen['max_connections']:.0%})"
    )
    assert isinstance(seen["row"], Notification)
    assert seen["row"].channel == channel
    assert json.loads(seen["row"].payload)["test"] is True
    assert seen["resized"] == (2, 6)
    assert seen["after_refusal"] == 6
    assert "0 <= min <= max" in seen["refusal"]


def test_a_permanent_failure_shows_the_banner_and_retry_recovers(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    wrong = "wrong-Passw0rd-" + uuid.uuid4().hex[:6]
    channel = channel_name()

    async def scenario() -> dict[str, Any]:
        async with live_window(
            qtbot, pg.uri(password=wrong), channels=[channel], listening=False
        ) as window:
            await wait_until(window.banner.isVisible, what="the banner")
            await wait_until(lambda: window.health_status is Health.DOWN, what="down")
            banner = window.banner.message.text()
            retry_enabled = window.retry_action.isEnabled()
            window._retry_target = lambda: Target.from_conninfo(pg.uri())
            qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: window.health_status is Health.HEALTHY, what="healthy")
            await wait_until(lambda: "Listening on" in window.notifications.listening.text())
            return {
                "banner": banner,
                "retry_enabled": retry_enabled,
                "banner_after": window.banner.isVisible(),
                "light": window.health_bar.status.text(),
                "last_error": window.health_bar.last_error.text(),
            }

    seen = run(qasync_loop, scenario())
    assert "password authentication failed" in seen["banner"]
    assert wrong not in seen["banner"]
    assert seen["retry_enabled"]
    assert not seen["banner_after"]
    assert seen["light"] == "Healthy"
    assert wrong not in seen["last_error"]


def test_closing_the_window_stops_the_engine_within_five_seconds(
    qtbot: Any, pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    app_name = f"supalink-close-{uuid.uuid4().hex[:6]}"
    channel = channel_name()

    def connections() -> int:
        with pg.admin_connect() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s",
                (app_name + "%",),
            ).fetchone()
        return integer(row[0]) if row else -1

    async def scenario() -> dict[str, Any]:
        settings = quick_settings(application_name=app_name, min_size=3)
        engine = MonitorEngine(Target.from_conninfo(pg.uri()), settings, channels=[channel])
        window = MonitorWindow(lambda: engine, "Closing")
        keep_loop_running_on_close(window)
        qtbot.addWidget(window)
        stopped: list[float] = []
        window.stopped.connect(lambda: stopped.append(time.monotonic()))
        window.show()
        window.start_soon()
        await wait_until(lambda: window.health_status is Health.HEALTHY, what="healthy")
        await wait_until(lambda: "Listening on" in window.notifications.listening.text())

        def filled() -> int:  # the pool opens its connections in the background
            count = connections()
            return count if count >= 4 else 0

        before = await asyncio.to_thread(wait_for, filled, 10.0, "3 pool connections and LISTEN")
        window.notifications.send_action.trigger()  # an action in flight as it closes
        started = time.monotonic()
        window.close()
        await window.stop()
        took = time.monotonic() - started
        ours = [
            task
            for task in asyncio.all_tasks()
            if task is not asyncio.current_task() and "monitor" in task.get_name()
        ]
        # The server drops a closed client's backend a moment later: wait for that, bounded.
        await asyncio.to_thread(
            wait_for, lambda: connections() == 0, 5.0, "our backends to leave pg_stat_activity"
        )
        gone = time.monotonic() - started
        return {
            "before": before,
            "gone": gone,
            "took": took,
            "stopped": stopped,
            "running": engine.running,
            "pool": engine.pool.state,
            "visible": window.isVisible(),
            "left": ours,
        }

    seen = run(qasync_loop, scenario())
    print(f"engine stopped in {seen['took']:.2f} s, its backends gone in {seen['gone']:.2f} s")
    assert seen["before"] >= 4  # three pool connections and the listener
    assert seen["took"] < 5.0
    assert len(seen["stopped"]) == 1
    assert not seen["running"]
    assert seen["pool"] is PoolState.STOPPED
    assert not seen["visible"]
    assert seen["left"] == []


def test_controls_have_accessible_names_and_distinct_shortcuts(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    window = MonitorWindow(
        MonitorEngine(Target.from_conninfo("postgresql://u@127.0.0.1:1/db")), "Names"
    )
    keep_loop_running_on_close(window)
    qtbot.addWidget(window)
    window.show()
    unnamed = [
        widget.objectName() or type(widget).__name__
        for widget in window.findChildren(QAbstractButton)
        + window.findChildren(QLineEdit)
        + window.findChildren(QSpinBox)
        if widget.isVisible()
        and not widget.accessibleName()
        and not isinstance(widget.parent(), QSpinBox)  # the spin box's own editor
    ]
    assert unnamed == []
    # No style sheets (theme.py says why): the cards and colours are painted by hand.
    assert [w for w in [window, *window.findChildren(QWidget)] if w.styleSheet()] == []
    shortcuts = [
        action.shortcut().toString()
        for action in window.findChildren(type(window.retry_action))
        if not action.shortcut().isEmpty()
    ]
    assert len(shortcuts) == len(set(shortcuts)) >= 10
    # psycopg_pool's retry warnings go to our log file (here none), never to stderr.
    assert logging.getLogger("psycopg").handlers
    window.activateWindow()
    window.notifications.filter_action.trigger()
    qtbot.waitUntil(window.notifications.filter.hasFocus)
    window.close()
    run(qasync_loop, window.stop())


def test_the_compute_size_line_shows_for_supabase_hosts_only(qtbot: Any) -> None:
    from supalink.monitor.server_view import ServerSnapshot
    from supalink.ui.server_panel import ServerPanel

    nano = ServerSnapshot(time.time(), (), 3, 60, 3, 0.0)
    shown = {}
    for supabase in (True, False):
        panel = ServerPanel(supabase=supabase)
        qtbot.addWidget(panel)
        panel.show()
        panel.show_snapshot(nano)
        shown[supabase] = (panel.compute.isVisible(), panel.compute.text())
    assert shown[True][0] is True
    assert shown[True][1].startswith("Supabase compute size Nano or Micro")
    assert shown[False][0] is False


def test_on_a_768_px_screen_the_panels_show_whole_above_the_tabs(qtbot: Any) -> None:
    """The panels scroll only on a small screen: at 1240x700 (what a 1366x768 desktop gives a
    window) the pool panel, chart and sizing line included, needs no scrolling, and the
    health line keeps its one line."""
    engine = MonitorEngine(Target.from_conninfo("postgresql://u@127.0.0.1:1/db"))
    window = MonitorWindow(engine, "Shop")
    qtbot.addWidget(window)
    window.resize(1240, 700)
    window.show()
    qtbot.waitUntil(lambda: window.split.sizes()[0] > window.split.sizes()[1], timeout=5000)
    window.health_bar.detail.setText("SELECT 1 in 38.9 ms · checked 01:23:11")
    qtbot.wait(10)  # laid out again
    viewport = window.pool_panel.parentWidget()
    assert viewport is not None
    pool_area = viewport.parentWidget()
    assert isinstance(pool_area, QScrollArea)
    assert pool_area.verticalScrollBar().maximum() == 0
    assert window.split.sizes()[1] >= 220  # the tabs keep room for some rows
    detail = window.health_bar.detail
    assert detail.height() < 2 * detail.fontMetrics().lineSpacing()

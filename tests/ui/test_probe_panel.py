"""Test in the main window: steps appear live with ticks, crosses and times; a failure
shows its diagnosis and hint; Cancel works."""

from __future__ import annotations

import asyncio
from typing import Any

from supalink.profiles.model import Profile
from supalink.ui.context import AppContext
from supalink.ui.main_window import PROBE_TASK, MainWindow
from tests.support.postgres import PostgresServer


def window_on(qtbot: Any, context: AppContext, profile: Profile, password: str) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.form.set_profile(profile, password)
    return window


def local(pg: PostgresServer, **changes: Any) -> Profile:
    return Profile(
        "Local", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    ).replace(**changes)


async def finished(window: MainWindow) -> None:
    while window.context.tasks.is_running(PROBE_TASK):
        await asyncio.sleep(0.02)


def test_success_shows_every_step_ticked_with_times_and_the_server(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    window = window_on(qtbot, app_context, local(pg), pg.password)
    seen_running = []
    original = window.test_panel.show_step

    def spy(step: Any) -> None:
        original(step)
        seen_running.append(window.test_panel.cancel.isVisible())

    window.test_panel.show_step = spy  # type: ignore[method-assign]
    window.test()
    qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
    panel = window.test_panel
    assert panel.result is not None
    assert panel.result.ok
    assert all(seen_running)  # steps arrived while the test was still running
    for step in panel.result.steps:
        assert panel.marks[step.name].accessibleName() == "passed"
        assert panel.times[step.name].text().endswith(" ms")
    assert "connections in use" in panel.diagnosis.text()
    assert "encrypted" in panel.diagnosis.text()
    assert pg.password not in panel.psql.text()
    assert not panel.cancel.isVisible()


def test_failure_shows_the_cross_diagnosis_and_hint(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    window = window_on(qtbot, app_context, local(pg), "not-the-password")
    window.test()
    qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
    panel = window.test_panel
    assert panel.result is not None
    assert panel.result.diagnosis is not None
    assert str(panel.result.diagnosis.kind) == "auth_failed"
    failed = panel.result.failed_step
    assert failed is not None
    assert panel.marks[failed.name].accessibleName() == "failed"
    assert panel.result.diagnosis.hint in panel.diagnosis.text()
    assert "not-the-password" not in panel.diagnosis.text()


def test_cancel_stops_the_test(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext
) -> None:
    # A port that accepts TCP and never answers keeps the test in flight until cancelled.
    async def scenario() -> MainWindow:
        accepted: list[asyncio.StreamWriter] = []
        server = await asyncio.start_server(lambda r, w: accepted.append(w), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        window = window_on(
            qtbot, app_context, Profile("Silent", host="127.0.0.1", port=port, connect_timeout=30),
            "pw",
        )  # fmt: skip
        window.test()
        await asyncio.sleep(0.5)
        assert window.test_panel.cancel.isVisible()
        window.test_panel.cancel.click()
        await asyncio.wait_for(finished(window), 5)
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        return window

    window = qasync_loop.run_until_complete(scenario())
    assert "cancelled" in window.test_panel.title.text()

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
        silent = Profile("Silent", host="127.0.0.1", port=port, connect_timeout=30)
        window = window_on(qtbot, app_context, silent, "pw")
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


def test_a_missing_ca_file_is_fixed_in_the_form_s_words(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    profile = local(pg, sslmode="verify-full", sslrootcert=str(pg.ca_cert) + ".missing")
    window = window_on(qtbot, app_context, profile, pg.password)
    window.test()
    qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
    text = window.test_panel.diagnosis.text()
    assert "choose it in CA file" in text
    assert "--" not in text  # no command-line flag in a window


def saved(context: AppContext, pg: PostgresServer, name: str, **changes: Any) -> None:
    context.repository.save(local(pg, name=name, **changes), "not-the-password")


def choose(window: MainWindow, name: str) -> None:
    """Click the profile in the list."""
    names = [window.profiles.list.item(row).text().split("\n")[0] for row in range(2)]
    window.profiles.list.setCurrentRow(names.index(name))
    assert window.current_name == name


def test_a_result_stays_with_its_profile(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    saved(app_context, pg, "Alpha")
    saved(app_context, pg, "Beta")
    try:
        window = MainWindow(app_context)
        qtbot.addWidget(window)
        window.show()
        choose(window, "Alpha")
        window.test()
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
        panel = window.test_panel
        assert panel.isVisible()
        assert "Alpha" in panel.title.text()
        choose(window, "Beta")
        assert not panel.isVisible()
        assert panel.result is None
        assert panel.diagnosis.text() == ""
        window.test()
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
        assert "Beta" in panel.title.text()
        window.new_profile()
        assert not panel.isVisible()
        assert panel.result is None
    finally:
        app_context.repository.remove("Alpha")
        app_context.repository.remove("Beta")


def test_a_test_still_running_stops_when_another_profile_is_chosen(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    async def scenario() -> MainWindow:
        accepted: list[asyncio.StreamWriter] = []
        server = await asyncio.start_server(lambda r, w: accepted.append(w), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        saved(app_context, pg, "Silent", port=port, connect_timeout=30)
        saved(app_context, pg, "Other")
        window = MainWindow(app_context)
        qtbot.addWidget(window)
        window.show()
        choose(window, "Silent")
        window.test()
        await asyncio.sleep(0.5)
        assert window.context.tasks.is_running(PROBE_TASK)
        choose(window, "Other")
        await asyncio.wait_for(finished(window), 5)
        # The cancelled run's own ending (its except and finally) has run, too.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=5)
        assert all(task.done() for task in others)
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        return window

    try:
        window = qasync_loop.run_until_complete(scenario())
        assert window.current_name == "Other"
        assert not window.test_panel.isVisible()
        assert "Silent" not in window.test_panel.title.text()
        assert window.test_panel.result is None
    finally:
        app_context.repository.remove("Silent")
        app_context.repository.remove("Other")

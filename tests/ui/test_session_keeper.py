"""The session's keeper (issue 31): the remembered monitors reopened with their channels,
tab and place, those that cannot be left closed with a log line; the session saved within a
second of a change, as a monitor is closed by the person, and as the app quits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMainWindow

from supalink.app.context import build_context
from supalink.app.quitting import shut_down
from supalink.app.session import SESSION_KEY, MonitorState, Place, Session, session_from
from supalink.app.session_keeper import SessionKeeper, place_of
from supalink.monitor.listener import ListenerState
from supalink.paths import AppPaths
from supalink.profiles import Profile, Target
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import MemorySecretStore
from supalink.ui.context import AppContext
from supalink.ui.monitor_window import MonitorWindow
from supalink.ui.monitors import Monitors
from supalink.ui.tray import HealthTray
from tests.support.file_faults import make_read_only, tmpfs
from tests.support.monitoring import channel_name, run, wait_until
from tests.support.postgres import PostgresServer

WAIT = 20.0  # for a debounced save on a loaded machine: never a measure of the delay


def shown_window(qtbot: Any) -> QMainWindow:
    window = QMainWindow()
    qtbot.addWidget(window)
    return window


# ----- the keeper: monitors reopened, the session saved ------------------------------------
@pytest.fixture
def restore_quit_on_last_window(qapp: Any) -> Iterator[None]:
    """shut_down turns quitting on the last window off, as the app's end; the next tests'
    application is as it was."""
    yield
    qapp.setQuitOnLastWindowClosed(True)


class Running:
    """A main window, the monitors and the keeper, as the app has them once started."""

    def __init__(self, qtbot: Any, context: AppContext) -> None:
        self.context = context
        self.main = shown_window(qtbot)
        self.main.setGeometry(300, 80, 500, 400)
        self.main.show()
        context.monitors = self.monitors = Monitors(HealthTray(tray_available=False))
        self.monitors.opened.connect(lambda _name, window: keep_open_in_test(qtbot, window))
        self.keeper = SessionKeeper(context.repository, self.main, self.monitors)

    def saved(self) -> Session:
        """The session as the settings file holds it now."""
        file = ProfileRepository(self.context.repository.settings_file, MemorySecretStore())
        return session_from(file.preference(SESSION_KEY))

    async def stop(self) -> None:
        self.keeper.finish()
        await self.monitors.stop_all()


def keep_open_in_test(qtbot: Any, window: MonitorWindow) -> None:
    from tests.ui.monitor_support import keep_loop_running_on_close

    keep_loop_running_on_close(window)
    qtbot.addWidget(window)


def local_profile(app_context: AppContext, pg: PostgresServer, name: str, password: bool) -> None:
    profile = Profile(
        name, host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    app_context.repository.save(profile, pg.password if password else None, save_password=password)


@pytest.mark.slow
def test_the_monitors_come_back_listening_on_their_channels_with_their_tab(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
) -> None:
    name, channel = "Session DB", channel_name("jobs")
    local_profile(app_context, pg, name, password=True)
    try:
        first = Running(qtbot, app_context)
        repository = app_context.repository
        target = Target.from_profile(repository.load(name).profile, pg.password)
        window = first.monitors.open(name, target)
        window.notifications.channel_name.setText(channel)
        window.notifications.add_channel()  # as the person adds it
        assert window.show_tab("Agent")
        window.setGeometry(40, 30, 760, 700)
        first.keeper.save()
        run(qasync_loop, first.stop())
        assert first.saved() == Session(
            Place("", (300, 80, 500, 400)),
            (MonitorState(name, (channel,), "Agent", Place("", (40, 30, 760, 700))),),
        )

        second = Running(qtbot, app_context)
        second.keeper.reopen(first.saved().monitors)
        back = second.monitors.windows[name]
        assert back.channels() == (channel,)
        assert back.current_tab_name() == "Agent"
        assert back.geometry().getRect() == (40, 30, 760, 700)
        run(
            qasync_loop,
            wait_until(
                lambda: back.engine.listener.state is ListenerState.LISTENING, 30, "listening"
            ),
        )
        run(qasync_loop, wait_until(lambda: channel in back.notifications.listening.text(), 30))
        run(qasync_loop, second.stop())
    finally:
        app_context.repository.remove(name)


def test_a_monitor_whose_profile_or_password_is_gone_is_left_closed_and_leaves_the_session(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    message_boxes: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    local_profile(app_context, pg, "No password", password=False)
    try:
        running = Running(qtbot, app_context)
        remembered = Session(
            Place("", (300, 80, 500, 400)),
            (MonitorState("Deleted since", ("jobs",)), MonitorState("No password")),
        )
        app_context.repository.set_preference(SESSION_KEY, remembered.to_preference())
        with caplog.at_level(logging.WARNING, "supalink.app.session_keeper"):
            running.keeper.reopen(remembered.monitors)
        running.keeper.settle(remembered)
        assert running.monitors.windows == {}
        assert message_boxes == []
        # Only the keeper's: another test may have left the repository's INFO lines on.
        keeper_lines = [
            record.getMessage()
            for record in caplog.records
            if record.name == "supalink.app.session_keeper"
        ]
        assert keeper_lines == [
            "session: the monitor of 'Deleted since' is not reopened: no profile has that name now",
            "session: the monitor of 'No password' is not reopened: "
            "its password is not at hand (open it from the window)",
        ]
        run(qasync_loop, running.stop())
        assert running.saved() == Session(remembered.main)  # not asked about at every start
    finally:
        app_context.repository.remove("No password")


def test_a_window_moved_is_saved_within_a_second_without_waiting_for_the_quit(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext
) -> None:
    running = Running(qtbot, app_context)
    running.keeper.settle()
    running.main.setGeometry(200, 100, 640, 480)
    moved = Place("", (200, 100, 640, 480))
    run(qasync_loop, wait_until(lambda: running.saved().main == moved, WAIT))
    run(qasync_loop, running.stop())


def test_an_unchanged_session_is_not_written(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext
) -> None:
    """What `--no-restore` relies on: a run that changes nothing leaves the last session."""
    earlier = Session(Place("elsewhere", (1, 2, 300, 400)), (MonitorState("Production"),))
    app_context.repository.set_preference(SESSION_KEY, earlier.to_preference())
    running = Running(qtbot, app_context)
    running.keeper.settle()
    run(qasync_loop, running.stop())
    assert running.saved() == earlier


def test_a_session_that_cannot_be_written_is_said_once_in_the_log(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with tmpfs(tmp_path / "settings") as folder:
        context = build_context(AppPaths.under(folder), MemorySecretStore())
        context.repository.set_preference("theme", "dark")  # the settings file is there
        make_read_only(folder)
        running = Running(qtbot, context)
        running.keeper.settle()
        with caplog.at_level(logging.WARNING, "supalink.app.session_keeper"):
            for left in (10, 20):
                running.main.move(left, 30)
                running.keeper.save()
        run(qasync_loop, running.stop())
    (said,) = [r for r in caplog.records if r.name == "supalink.app.session_keeper"]
    assert said.getMessage().startswith("session not saved: ")
    assert "read-only" in said.getMessage()
    assert said.exc_info is None


@pytest.mark.slow
def test_a_monitor_closed_by_the_person_leaves_the_session_and_quitting_keeps_the_others(
    qtbot: Any,
    qapp: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    restore_quit_on_last_window: None,
) -> None:
    for name in ("Kept", "Closed"):
        local_profile(app_context, pg, name, password=True)
    try:
        running = Running(qtbot, app_context)
        running.keeper.reopen([MonitorState("Kept", ("jobs",)), MonitorState("Closed")])
        assert list(running.monitors.windows) == ["Kept", "Closed"]
        running.keeper.settle()
        running.keeper.save()  # nothing left waiting to be saved: the close alone is seen
        running.monitors.windows["Closed"].close()
        kept = MonitorState(
            "Kept", ("jobs",), "Notifications", place_of(running.monitors.windows["Kept"])
        )
        run(qasync_loop, wait_until(lambda: running.saved().monitors == (kept,), WAIT))
        # Quitting saves what changed a moment before, then closes every window: Kept stays.
        assert running.monitors.windows["Kept"].show_tab("Agent")
        run(qasync_loop, shut_down(qapp, app_context, running.keeper))
        assert running.monitors.open_count == 0
        assert running.saved().monitors == (replace(kept, tab="Agent"),)
    finally:
        for name in ("Kept", "Closed"):
            app_context.repository.remove(name)

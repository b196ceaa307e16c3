"""The app remembers its session (issue 31): where its windows were, per screen and fitted
to the screen they open on, and which monitors were open with their channels and tab;
saved as the app quits, as a monitor is closed, and within a second of a change;
`supalink --no-restore` starts clean and loses nothing by merely running."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMainWindow

from supalink.app.context import build_context
from supalink.app.quitting import shut_down
from supalink.app.session import SESSION_KEY, MonitorState, Place, Session, fitted, session_from
from supalink.app.session_keeper import SessionKeeper, place_of, place_window
from supalink.cli import build_parser
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
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService

SCREEN = (0, 0, 1366, 768)
RIGHT_SCREEN = (1366, 0, 1920, 1080)  # a second screen to the right of the first
WAIT = 20.0  # for a debounced save on a loaded machine: never a measure of the delay


# ----- the rule for a rect on a screen (no screen needed) ---------------------------------
@pytest.mark.parametrize(
    ("rect", "area", "expected"),
    [
        ((300, 80, 900, 600), SCREEN, (300, 80, 900, 600)),  # inside: left alone
        ((0, 0, 1366, 768), SCREEN, (0, 0, 1366, 768)),  # exactly the screen
        ((100, 50, 2000, 600), SCREEN, (0, 50, 1366, 600)),  # too wide: shrunk, moved in
        ((100, 50, 900, 1500), SCREEN, (100, 0, 900, 768)),  # too tall
        ((-400, -30, 900, 600), SCREEN, (0, 0, 900, 600)),  # off the left and top
        ((1300, 700, 900, 600), SCREEN, (466, 168, 900, 600)),  # off the right and bottom
        ((5000, 4000, 300, 200), SCREEN, (1066, 568, 300, 200)),  # far away
        ((100, 100, 800, 600), RIGHT_SCREEN, (1366, 100, 800, 600)),  # onto the second one
        ((3000, 900, 800, 600), RIGHT_SCREEN, (2486, 480, 800, 600)),
    ],
)
def test_a_rect_is_fitted_to_the_available_part_of_its_screen(
    rect: tuple[int, int, int, int],
    area: tuple[int, int, int, int],
    expected: tuple[int, int, int, int],
) -> None:
    assert fitted(rect, area) == expected


def test_a_session_reads_back_as_it_was_saved() -> None:
    session = Session(
        Place("HDMI-1", (300, 80, 900, 600)),
        (
            MonitorState("Production", ("jobs", "orders"), "Agent", Place("DP-2", (0, 0, 1, 1))),
            MonitorState("Staging", (), None, Place("", (10, 20, 800, 500), maximized=True)),
        ),
    )
    value = session.to_preference()
    assert session_from(json.loads(json.dumps(value))) == session


def test_a_session_read_back_keeps_what_makes_sense_and_drops_the_rest() -> None:
    value = {
        "main": {"screen": "HDMI-1", "rect": [1, 2, True, 4]},  # a bool is no width
        "monitors": [
            "Production",
            {"profile": "", "channels": ["jobs"]},
            {"profile": "Production", "channels": ["jobs", 7, "", "jobs"], "tab": 3},
            {"profile": "Production", "channels": ["other"]},  # one window per profile
            {"profile": "Staging", "place": {"screen": "x", "rect": [0, 0, 0, 10]}},
        ],
    }
    assert session_from(value) == Session(
        None, (MonitorState("Production", ("jobs",)), MonitorState("Staging"))
    )
    nonsense: list[object] = [None, [], "session", {"monitors": {"Production": {}}}]
    for read in nonsense:
        assert session_from(read) == Session()


# ----- windows on the screen (offscreen: one screen, 800x800, named "") --------------------
def shown_window(qtbot: Any) -> QMainWindow:
    window = QMainWindow()
    qtbot.addWidget(window)
    return window


def test_a_window_comes_back_where_it_was_on_its_screen(qtbot: Any) -> None:
    window = shown_window(qtbot)
    place_window(window, Place("", (120, 40, 500, 300)))
    window.show()
    assert window.geometry().getRect() == (120, 40, 500, 300)
    assert place_of(window) == Place("", (120, 40, 500, 300))


def test_a_window_from_a_screen_that_is_gone_is_fitted_to_the_primary_one(qtbot: Any) -> None:
    window = shown_window(qtbot)
    area = window.screen().availableGeometry()
    place_window(window, Place("HDMI-9", (700, 650, 1500, 300)))
    window.show()
    assert window.geometry().getRect() == fitted(
        (700, 650, 1500, 300), (area.x(), area.y(), area.width(), area.height())
    )
    assert area.contains(window.geometry())


def test_a_maximized_window_is_remembered_with_the_rect_it_goes_back_to(qtbot: Any) -> None:
    window = shown_window(qtbot)
    place_window(window, Place("", (50, 60, 300, 200)))
    window.showMaximized()
    qtbot.waitUntil(window.isMaximized)
    assert place_of(window) == Place("", (50, 60, 300, 200), maximized=True)


TWO_SCREENS = """
import json, sys
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow
from supalink.app.session import Place
from supalink.app.session_keeper import maximize, place_of, place_window

app = QApplication(sys.argv)
print("screens:", [screen.name() for screen in app.screens()])
for place in json.loads(sys.argv[1]):
    window = QMainWindow()
    # Offscreen draws a 2-pixel frame, which it keeps on the desktop: a frame is the window
    # system's to place; the session fits the window itself.
    window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    place = Place(place[0], tuple(place[1]), place[2])
    place_window(window, place)
    if place.maximized:
        maximize(window)
    window.show()
    app.processEvents()
    print(json.dumps([window.screen().name(), window.geometry().getRect(), place_of(window).rect,
                      window.isMaximized()]))
    window.close()
"""


def screens_config(tmp_path: Path, *screens: tuple[str, tuple[int, int, int, int]]) -> str:
    """Qt's offscreen platform with these screens (the first is the primary)."""
    config = tmp_path / f"screens-{len(screens)}.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {"name": name, "x": x, "y": y, "width": width, "height": height}
                    for name, (x, y, width, height) in screens
                ]
            }
        )
    )
    return f"offscreen:configfile={config}"


def placed_on_screens(platform: str, places: list[Any]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", TWO_SCREENS, json.dumps(places)],
        env={**os.environ, "QT_QPA_PLATFORM": platform},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
def test_each_window_goes_back_to_its_screen_or_to_the_primary_once_that_is_gone(
    tmp_path: Path,
) -> None:
    places = [
        ["Right", [100, 100, 800, 600], False],  # on the second screen, as it was
        ["Right", [1500, 900, 2500, 700], False],  # wider than it, and off its corner
        ["Right", [200, 150, 900, 700], True],
    ]
    two = screens_config(tmp_path, ("Left", SCREEN), ("Right", RIGHT_SCREEN))
    assert placed_on_screens(two, places) == [
        "screens: ['Left', 'Right']",
        '["Right", [1466, 100, 800, 600], [100, 100, 800, 600], false]',
        '["Right", [1366, 380, 1920, 700], [0, 380, 1920, 700], false]',
        '["Right", [1366, 0, 1920, 1080], [200, 150, 900, 700], true]',
    ]
    one = screens_config(tmp_path, ("Left", SCREEN))  # the second screen unplugged
    assert placed_on_screens(one, places) == [
        "screens: ['Left']",
        '["Left", [100, 100, 800, 600], [100, 100, 800, 600], false]',
        '["Left", [0, 68, 1366, 700], [0, 68, 1366, 700], false]',
        '["Left", [0, 0, 1366, 768], [200, 68, 900, 700], true]',  # fitted too
    ]


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
        assert [record.getMessage() for record in caplog.records] == [
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
    (said,) = caplog.records
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


# ----- the whole app, twice, as a person runs it ---------------------------------------------
def test_no_restore_is_a_flag_of_the_app_with_its_help() -> None:
    parser = build_parser(only=())
    assert parser.parse_args(["--no-restore"]).no_restore
    assert not parser.parse_args([]).no_restore
    assert "--no-restore" in parser.format_help()
    assert "open the app clean" in " ".join(parser.format_help().split())


# A start of the app as `supalink [--no-restore]` runs it; once started it prints what came
# back, then (argv[2] == "use") does what a person does: moves the main window, opens the
# profile's monitor, adds a channel, shows the Agent tab; then File ▸ Quit.
RUN_THE_APP = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from supalink import cli
from supalink.app import launch

profile, step, channel, *flags = sys.argv[1:]
QMessageBox.question = lambda *args, **kwargs: QMessageBox.StandardButton.Yes
run_windows = launch.run_windows


def noting(qt_app, context, **options):
    def started(window):
        monitors = context.monitors.windows
        print("main:", json.dumps(window.geometry().getRect()), flush=True)
        print("monitors:", json.dumps({name: [list(w.channels()), w.current_tab_name()]
                                       for name, w in monitors.items()}), flush=True)
        timer = QTimer(window)

        def listening_then_quit():
            if all(channel in w.notifications.listening.text() for w in monitors.values()):
                timer.stop()
                print("listening:", [w.notifications.listening.text()[:13]
                                     for w in monitors.values()], flush=True)
                window.menus.quit_action.trigger()

        if step == "use":
            window.setGeometry(300, 80, 900, 600)
            window.reload_profiles(select=profile)
            window.open_monitor()
            monitor = monitors[profile]
            monitor.notifications.channel_name.setText(channel)
            monitor.notifications.add_channel()
            monitor.show_tab("Agent")
        timer.timeout.connect(listening_then_quit)
        timer.start(100)

    return run_windows(qt_app, context, after_start=started, **options)


launch.run_windows = noting
sys.exit(cli.main(flags))
"""


def run_the_app(home: Path, platform: str, secret_service: SecretService, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", RUN_THE_APP, *args],
        env={
            **os.environ,
            **secret_service.environment(),
            "SUPALINK_HOME": str(home),
            "QT_QPA_PLATFORM": platform,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
def test_the_app_left_with_a_monitor_comes_back_with_it_unless_told_not_to(
    tmp_path: Path, pg: PostgresServer, secret_service: SecretService
) -> None:
    """Issue 31's report: the main window left at 900x600 at (300,80), a monitor open and
    listening on `jobs`; the app quit and started again."""
    home = tmp_path / "home"
    profile = save_profile(home, pg)
    jobs = channel_name("jobs")
    platform = screens_config(tmp_path, ("Left", SCREEN))
    lines = run_the_app(home, platform, secret_service, profile, "use", jobs)
    assert lines[0].endswith(", 1100, 760]")  # its default size, where the platform put it
    assert lines[1] == "monitors: {}"  # nothing remembered yet
    assert lines[2] == "listening: ['Listening on ']"

    remembered = {profile: [[jobs], "Agent"]}
    lines = run_the_app(home, platform, secret_service, profile, "look", jobs)
    assert lines == [
        "main: [300, 80, 900, 600]",
        f"monitors: {json.dumps(remembered)}",
        "listening: ['Listening on ']",
    ]

    lines = run_the_app(home, platform, secret_service, profile, "look", jobs, "--no-restore")
    assert lines[0].endswith(", 1100, 760]")
    assert lines[1] == "monitors: {}"
    lines = run_the_app(home, platform, secret_service, profile, "look", jobs)
    assert lines[:2] == ["main: [300, 80, 900, 600]", f"monitors: {json.dumps(remembered)}"]

"""The app remembers its session (issue 31): where its windows were, per screen and fitted
to the screen they open on, and which monitors were open with their channels and tab; the
whole app run again finds them, and `supalink --no-restore` starts clean and loses nothing
by merely running. When the session is saved and what is reopened: test_session_keeper.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMainWindow

from supalink.app.session import MonitorState, Place, Session, fitted, session_from
from supalink.app.session_keeper import place_of, place_window
from supalink.cli import build_parser
from tests.support.monitoring import channel_name
from tests.support.postgres import PostgresServer
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService

SCREEN = (0, 0, 1366, 768)
RIGHT_SCREEN = (1366, 0, 1920, 1080)  # a second screen to the right of the first


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

"""File ▸ Quit quits the app, its monitors and a demo's PostgreSQL with it (closing the main
window alone leaves the monitors running): `supalink --demo` in a real process, its Quit
triggered from inside once the test says so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

# The demo as `supalink --demo` runs it, with two things added from inside: the question
# answers Yes (an offscreen modal box would wait forever), and File ▸ Quit is triggered
# once the file named in argv[1] exists.
DEMO_THEN_QUIT = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from supalink.app import launch

go = Path(sys.argv[1])

def question(parent, title, text, *args, **kwargs):
    print(f"asked: {title}: {text}", flush=True)
    return QMessageBox.StandardButton.Yes

QMessageBox.question = question
run_windows = launch.run_windows

def with_quit(qt_app, context, *, after_start=None, log_file=None):
    def started(window):
        after_start(window)
        timer = QTimer(window)

        def check():
            if go.exists() and context.monitors.open_count:
                timer.stop()
                window.menus.quit_action.trigger()

        timer.timeout.connect(check)
        timer.start(100)

    return run_windows(qt_app, context, after_start=started, log_file=log_file)

launch.run_windows = with_quit
sys.exit(launch.run_demo())
"""


@pytest.mark.slow
def test_file_quit_with_a_monitor_open_asks_then_ends_the_app_and_the_demo_server(
    tmp_path: Path, system_tools: object
) -> None:
    go = tmp_path / "quit-now"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SUPALINK_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", DEMO_THEN_QUIT, str(go)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "PostgreSQL on 127.0.0.1:" in line, process.stderr and process.stderr.read()
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        folder = Path(line.rstrip().rsplit("(its files: ", 1)[1].removesuffix(")"))
        time.sleep(1.0)  # the window up, the monitor opened on the demo's server
        assert process.poll() is None
        go.touch()
        stdout, stderr = process.communicate(timeout=30)  # the stops are bounded (~5 s each)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "asked: Quit Supalink: A monitor is open." in stdout
    assert "Traceback" not in stderr
    with pytest.raises(psycopg.OperationalError):  # the demo's server stopped with the app
        psycopg.connect(host="127.0.0.1", port=port, user="x", connect_timeout=2)
    assert not folder.exists()

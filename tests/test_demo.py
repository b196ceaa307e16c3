"""`supalink --demo`: a throwaway PostgreSQL, the app on it, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from supalink import demo
from supalink.profiles import Target

SUPALINK = str(Path(sys.executable).with_name("supalink"))


def test_the_demo_server_takes_its_password_and_leaves_nothing(system_tools: object) -> None:
    server = demo.start_demo_server()
    try:
        kwargs = Target.from_profile(server.profile(), server.password).connection_kwargs()
        with psycopg.connect(**kwargs) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (demo.DEMO_ROLE,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(**Target.from_profile(server.profile(), "wrong").connection_kwargs())
    finally:
        server.stop()
    assert not server.root.exists()


def test_without_server_programs_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "find_server_programs", lambda: None)
    with pytest.raises(demo.DemoUnavailable, match="apt install postgresql"):
        demo.start_demo_server()


def test_supalink_demo_opens_the_app_and_quits_cleanly(
    tmp_path: Path, system_tools: object
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SUPALINK_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [SUPALINK, "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "PostgreSQL on 127.0.0.1:" in line
    port = int(line.split("127.0.0.1:")[1].split(",")[0])
    time.sleep(3)  # the monitor opens and the notifier runs
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    with pytest.raises(psycopg.OperationalError):  # the demo server is gone
        psycopg.connect(host="127.0.0.1", port=port, user="x", connect_timeout=2)
    assert not (tmp_path / "config" / "settings.json").exists()  # the user's settings untouched

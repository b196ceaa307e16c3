"""`supalink --demo`: a throwaway PostgreSQL, the app on it, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from supalink import demo
from supalink.profiles import Target
from tests.support.cli import SUPALINK
from tests.support.signals import wait_until_caught


def test_the_demo_server_takes_its_password_and_leaves_nothing(system_tools: object) -> None:
    server = demo.start_demo_server()
    try:
        kwargs = Target.from_profile(server.profile(), server.password).connection_kwargs()
        with psycopg.connect(**kwargs) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (demo.DEMO_ROLE,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(**Target.from_profile(server.profile(), "wrong").connection_kwargs())
        assert server.root.is_dir()
    finally:
        server.stop()
    assert not server.root.exists()
    assert server._watchdog is None  # ended and reaped with the server


def test_without_server_programs_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "find_server_programs", lambda: None)
    with pytest.raises(demo.DemoUnavailable, match="apt install postgresql"):
        demo.start_demo_server()


@pytest.mark.slow
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
    # Its SIGTERM handler in place (a loaded machine may take seconds), then the monitor
    # opens and the notifier runs.
    assert wait_until_caught(process, signal.SIGTERM), "SIGTERM never handled"
    time.sleep(3)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    with pytest.raises(psycopg.OperationalError):  # the demo server is gone
        psycopg.connect(host="127.0.0.1", port=port, user="x", connect_timeout=2)
    assert not (tmp_path / "config" / "settings.json").exists()  # the user's settings untouched
    assert not demo_folder(line).exists()


def demo_folder(line: str) -> Path:
    """The demo's folder, as its first line names it."""
    return Path(line.rstrip().rsplit("(its files: ", 1)[1].removesuffix(")"))


def postmaster_of(folder: Path) -> int:
    return int((folder / "data" / "postmaster.pid").read_text().split("\n", 1)[0])


def naming(folder: Path) -> list[int]:
    """Live processes with the folder in their command line: its server, its watchdog."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if str(folder).encode() in (proc / "cmdline").read_bytes() and not gone(int(proc.name)):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")  # a zombie waiting for init to reap it is gone too
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z"


@pytest.mark.slow
def test_supalink_demo_killed_leaves_no_server_and_no_folder(
    tmp_path: Path, system_tools: object
) -> None:
    """SIGKILL gives the app no chance to clean up: its watchdog does."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SUPALINK_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [SUPALINK, "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "PostgreSQL on 127.0.0.1:" in line, line
        folder = demo_folder(line)
        postmaster = postmaster_of(folder)
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        with pytest.raises(psycopg.OperationalError, match="password"):  # it runs
            psycopg.connect(host="127.0.0.1", port=port, user="x", connect_timeout=5)
    finally:
        process.kill()
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()
    deadline = time.monotonic() + 10
    while not (gone(postmaster) and not folder.exists() and not naming(folder)):
        assert time.monotonic() < deadline, (gone(postmaster), folder.exists(), naming(folder))
        time.sleep(0.05)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, user="x", connect_timeout=2)

"""Files that are not what a config or settings file should be: a FIFO (whose open waits for a
writer for good), a device (/dev/urandom through a symlink: endless), a file past the size
Supalink reads, JSON nested 10,000 deep (Python's parser raises RecursionError), two profiles
of one name. Each is one line and an exit code, at once, with nothing changed; the app opens
with a FIFO for its settings. Real FIFOs and devices; the commands in this process (bounded
in time as a process would be), the app as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from supalink.files import MAX_READ_BYTES
from supalink.paths import AppPaths
from tests.support.cli import SUPALINK, run_cli
from tests.support.signals import wait_until_caught

# Bounds on a command that must not wait on the file at all: a hang is what they catch, and
# they are far past what a loaded machine takes to run one.
RUN_BOUND = 60.0
URI = "postgresql://u@127.0.0.1:1/db?sslmode=require"
DEEP = 10_000


def nested(depth: int) -> bytes:
    return b'{"mcpServers": {"supabase": ' + b"[" * depth + b"]" * depth + b"}}"


def fifo(path: Path) -> None:
    os.mkfifo(path)


def urandom(path: Path) -> None:
    path.symlink_to("/dev/urandom")


def too_large(path: Path) -> None:
    with path.open("wb") as file:  # sparse: 70 MB of holes, nothing read before the refusal
        file.truncate(70 * 1000 * 1000)


def too_deep(path: Path) -> None:
    path.write_bytes(nested(DEEP))


Make = Callable[[Path], None]
CAUSES: dict[str, tuple[Make, str]] = {
    "fifo": (fifo, "cannot read {path}: it is a named pipe (FIFO), not a plain file"),
    "urandom": (urandom, "cannot read {path}: it is a character device, not a plain file"),
    "70 MB": (too_large, "cannot read {path}: it is larger than 64 MiB, the most Supalink reads"),
    "10,000 deep": (
        too_deep,
        "{path} is nested deeper than 256 levels, which no config file needs; fix the file by hand",
    ),
}
CONFIG_ACTIONS = {
    "write": ["write", "--uri", URI, "--template", "supalink", "--yes"],
    "remove": ["remove", "--yes"],
    "show": ["show"],
    "verify": ["verify"],
}


def snapshot(folder: Path) -> dict[str, tuple[int, int, int, int]]:
    """What `folder` holds, told apart without opening anything (a FIFO's open would wait):
    names, types and modes, sizes, change times. Lock files left out, as they may stay."""
    found = {}
    for entry in sorted(folder.rglob("*")):
        if not entry.name.endswith(".lock"):
            status = entry.lstat()
            key = str(entry.relative_to(folder))
            found[key] = (status.st_mode, status.st_size, status.st_mtime_ns, status.st_ino)
    return found


def supalink(*argv: str, home: Path) -> subprocess.CompletedProcess[bytes]:
    """In this process, bounded as the process was: a wait on the file fails the test."""
    return run_cli(*argv, home=home, timeout=RUN_BOUND)


def test_the_read_bound_is_well_above_any_config_file() -> None:
    assert MAX_READ_BYTES == 64 * 1024 * 1024


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("action", CONFIG_ACTIONS)
def test_a_config_file_that_is_no_config_file_is_one_line_at_once(
    tmp_path: Path, cause: str, action: str
) -> None:
    folder = tmp_path / "Claude"
    folder.mkdir()
    path = folder / "claude_desktop_config.json"
    make, words = CAUSES[cause]
    make(path)
    before = snapshot(folder)
    argv = ["config", *CONFIG_ACTIONS[action], "--client", "claude", "--config", str(path)]
    result = supalink(*argv, home=tmp_path / "home")
    expected = f"supalink config: {words.format(path=path)}\n"
    assert (result.returncode, result.stderr.decode()) == (1, expected)
    assert result.stdout == b""
    assert snapshot(folder) == before
    assert list((tmp_path / "home").rglob("*.bak")) == []


def test_a_config_file_nested_just_within_the_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_bytes(nested(250))
    result = supalink(
        "config", "show", "--client", "claude", "--config", str(path), home=tmp_path / "home"
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert json.loads(result.stdout) == json.loads(nested(250))["mcpServers"]


@pytest.mark.parametrize("cause", ["fifo", "urandom", "70 MB"])
@pytest.mark.parametrize("command", [["profile", "list"], ["profile", "remove", "p1"]])
def test_a_settings_file_that_is_no_file_is_one_line_at_once(
    tmp_path: Path, cause: str, command: list[str]
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    path.parent.mkdir(parents=True)
    make, words = CAUSES[cause]
    make(path)
    before = snapshot(path.parent)
    result = supalink(*command, home=home)
    expected = f"supalink profile: {words.format(path=path)}\n"
    assert (result.returncode, result.stderr.decode()) == (1, expected)
    assert snapshot(path.parent) == before


def test_a_config_write_for_a_profile_with_a_fifo_for_settings_is_one_line(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    config = tmp_path / "claude_desktop_config.json"
    argv = ["config", "write", "--client", "claude", "--config", str(config), "--profile", "p1"]
    result = supalink(*argv, home=home)
    expected = f"supalink config: {CAUSES['fifo'][1].format(path=path)}\n"
    assert (result.returncode, result.stderr.decode()) == (1, expected)
    assert not config.exists()


TWICE = {
    "schema_version": 1,
    "profiles": [
        {"name": "p1", "host": "127.0.0.1", "user": "a"},
        {"name": "p2", "host": "127.0.0.1", "user": "b"},
        {"name": "p1", "host": "127.0.0.2", "user": "c"},
    ],
}
SET_ASIDE = {
    "10,000 deep": (nested(DEEP), "it is nested deeper than 256 levels"),
    "a name twice": (json.dumps(TWICE).encode(), "profile 'p1' is in it more than once"),
}


@pytest.mark.parametrize("case", SET_ASIDE)
def test_a_settings_file_nested_too_deep_or_with_a_name_twice_is_set_aside(
    tmp_path: Path, case: str
) -> None:
    text, why = SET_ASIDE[case]
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    path.parent.mkdir(parents=True)
    path.write_bytes(text)
    result = supalink("profile", "list", home=home)
    assert result.returncode == 0
    (kept,) = path.parent.glob("settings.corrupt-*.json")
    assert kept.read_bytes() == text
    assert not path.exists()
    assert result.stderr.decode() == (
        f"supalink: The settings file could not be read ({why}). It was kept as {kept} and "
        "Supalink started with no profiles; passwords in the keyring are untouched.\n"
    )


def test_a_fifo_for_the_log_file_costs_a_command_nothing(tmp_path: Path) -> None:
    """Its open for appending waited for a reader for good, in every command and the app."""
    home = tmp_path / "home"
    log_file = AppPaths.under(home).log_file
    log_file.parent.mkdir(parents=True)
    os.mkfifo(log_file)
    added = ["profile", "add", "p1", "--host", "127.0.0.1", "--no-save-password"]
    result = supalink(*added, home=home)
    assert (result.returncode, result.stderr) == (0, b"")
    assert supalink("profile", "list", home=home).stdout.startswith(b"p1")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["settings", "log"])
def test_the_app_with_a_fifo_for_its_settings_or_log_opens_and_quits_on_sigterm(
    tmp_path: Path, which: str
) -> None:
    """Its main thread opened the FIFO and waited there for good, SIGTERM's handler never
    ran: now the window opens (saying why there are no profiles), and SIGTERM quits."""
    home = tmp_path / "home"
    paths = AppPaths.under(home)
    path = paths.settings_file if which == "settings" else paths.log_file
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with subprocess.Popen(
        [SUPALINK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SUPALINK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
    ) as app:
        try:
            # Its SIGTERM handler in place (a loaded machine may take seconds), then running.
            assert wait_until_caught(app, signal.SIGTERM), "SIGTERM never handled"
            with pytest.raises(subprocess.TimeoutExpired):
                app.wait(timeout=1)  # still running: the window is open
            app.send_signal(signal.SIGTERM)
            _, stderr = app.communicate(timeout=30)
        finally:
            app.kill()
    assert app.returncode == 0, stderr
    assert b"Traceback" not in stderr

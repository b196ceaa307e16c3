"""The entry points as a user runs them: the console script and `python -m supalink` as
processes of their own."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink import __version__
from tests.support.cli import SUPALINK


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version_from_the_console_script() -> None:
    result = run(SUPALINK, "--version")
    assert result.returncode == 0
    assert result.stdout == f"supalink {__version__}\n"
    assert result.stderr == ""


def test_version_from_python_dash_m() -> None:
    result = run(sys.executable, "-m", "supalink", "--version")
    assert result.returncode == 0
    assert result.stdout == f"supalink {__version__}\n"


def test_usage_error_is_one_line_and_exit_2() -> None:
    result = run(SUPALINK, "--no-such-flag")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_no_arguments_opens_the_gui_and_sigterm_quits_it(tmp_path: Path) -> None:
    env = {**os.environ, "SUPALINK_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen(
        [SUPALINK], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    log_file = tmp_path / "log" / "supalink.log"
    deadline = time.monotonic() + 30
    while not (log_file.exists() and "app started" in log_file.read_text()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the window never came up"
        time.sleep(0.05)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    assert time.monotonic() - sent < 5
    assert process.returncode == 0
    assert "app stopped" in log_file.read_text()
    process.communicate()


def test_self_check_opens_the_windows_and_prints_versions(tmp_path: Path) -> None:
    result = run(SUPALINK, "--self-check", env={"SUPALINK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["supalink"] == __version__
    for key in ("python", "qt", "pyside6", "psycopg", "libpq", "keyring"):
        assert lines[key], key
    assert lines["qt platform"] == "offscreen"
    assert lines["windows"] == "main, monitor"
    assert not (tmp_path / "config" / "settings.json").exists()


def test_every_kind_of_error_has_an_exit_code() -> None:
    from supalink.cli import EXIT_CODES
    from supalink.errors import Kind

    assert set(EXIT_CODES) == set(Kind)
    assert {kind for kind, code in EXIT_CODES.items() if code == 2} == {
        Kind.BAD_INPUT,
        Kind.NOT_FOUND,
        Kind.CONFLICT,
    }


@pytest.fixture
def logger_kept() -> Iterator[None]:
    """The subcommand's log handler (main adds it) removed again after the test."""
    logger = logging.getLogger("supalink")
    before = list(logger.handlers)
    yield
    for handler in set(logger.handlers) - set(before):
        logger.removeHandler(handler)
        handler.close()


@pytest.mark.usefixtures("logger_kept")
def test_an_error_of_a_capability_package_exits_by_its_kind_with_the_cli_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from supalink.cli import main

    monkeypatch.setenv("SUPALINK_HOME", str(tmp_path))
    assert main(["profile", "show", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "supalink profile: error: no profile named 'nowhere' (see `supalink profile list`)\n"
    )
    assert main(["profile", "add", "here", "--host", "localhost"]) == 0
    assert main(["profile", "add", "here", "--host", "localhost"]) == 2
    assert capsys.readouterr().err == (
        "supalink profile: error: a profile named 'here' already exists\n"
    )

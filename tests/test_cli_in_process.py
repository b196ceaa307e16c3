"""`run_cli`, the CLI in this process: it gives what the process gives, and leaves this
process as it found it (the tests that use it must stay independent of each other)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supalink import cli
from tests.support.cli import run_cli, spawn_cli
from tests.support.secret_service import SecretService

REF = "abcdefghijklmnopqrst"
URI = "postgresql://someone:Sekr3t-Pw-4711@db.example.com:5432/postgres"

SAME_AS_A_PROCESS = {
    "version": ["--version"],
    "usage error": ["--no-such-flag"],
    "subcommand usage error": ["parse"],
    "parse": ["parse", URI, "--json"],
    "malformed uri": ["parse", "postgresql://u:Sekr3t-Pw-4711@[::1x]/db"],
    "url": ["url", "--ref", "abcdefghijklmnopqrst", "--mode", "session", "--region", "eu-west-2"],
    "no profiles": ["profile", "list", "--json"],
    "unknown profile": ["profile", "show", "nobody"],
}


@pytest.mark.parametrize("argv", SAME_AS_A_PROCESS.values(), ids=list(SAME_AS_A_PROCESS))
def test_in_process_the_cli_gives_the_bytes_and_exit_code_of_a_process(
    tmp_path: Path, argv: list[str]
) -> None:
    ours = run_cli(*argv, home=tmp_path / "in-process")
    theirs = spawn_cli(*argv, home=tmp_path / "process")
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr.replace(b"process", b"in-process"),
    )


def test_stdin_is_given_and_text_is_decoded(tmp_path: Path) -> None:
    result = run_cli(
        "url",
        "--ref",
        "abcdefghijklmnopqrst",
        "--mode",
        "direct",
        "--password-stdin",
        home=tmp_path,
        stdin="Sekr3t-Pw-4711\n",
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("postgresql://postgres:")
    assert "Sekr3t" not in result.stdout


def test_a_run_leaves_environment_folder_logging_signals_and_keyring_as_they_were(
    tmp_path: Path, secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    import keyring.backend
    import keyring.core

    monkeypatch.chdir(tmp_path)
    chosen = keyring.get_keyring()
    viable = keyring.backend.get_all_keyring()
    environ = dict(os.environ)
    handlers = {name: list(logging.getLogger(name).handlers) for name in ("supalink", "psycopg")}
    level = logging.getLogger("supalink").level
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # Logs to its file, finds no keyring on the bus its environment names, changes folder.
    result = run_cli(
        "profile",
        "add",
        "p",
        "--ref",
        REF,
        "--mode",
        "direct",
        "--password-stdin",
        home=tmp_path / "home",
        stdin="pw\n",
        cwd=elsewhere,
        env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'nobody'}", "SOMETHING": "new"},
    )
    assert result.returncode == 1
    assert b"no usable keyring" in result.stderr
    assert (tmp_path / "home" / "log" / "supalink.log").exists()

    assert dict(os.environ) == environ
    assert Path.cwd() == tmp_path
    assert {name: logging.getLogger(name).handlers for name in handlers} == handlers
    assert logging.getLogger("supalink").level == level
    assert {number: signal.getsignal(number) for number in signals} == signals
    assert keyring.core._keyring_backend is chosen
    assert keyring.backend.get_all_keyring() is viable

    # The next run chooses afresh: the Secret Service of this process's bus.
    saved = run_cli(
        "profile",
        "add",
        "p",
        "--ref",
        REF,
        "--mode",
        "direct",
        "--password-stdin",
        home=tmp_path / "home",
        stdin="pw\n",
    )
    assert saved.returncode == 0, saved.stderr
    assert run_cli("profile", "remove", "p", home=tmp_path / "home").returncode == 0


def test_an_exception_is_a_traceback_on_stderr_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(argv: list[str]) -> int:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(cli, "main", broken)
    result = run_cli("--version", home=tmp_path)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.startswith(b"Traceback (most recent call last):\n")
    assert result.stderr.endswith(b"RuntimeError: broken on purpose\n")


def test_a_run_that_hangs_is_stopped_at_its_timeout_as_subprocess_run_stops_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def hangs(argv: list[str]) -> int:
        print("before")
        with fifo.open("rb"):  # waits for a writer for good
            return 0

    monkeypatch.setattr(cli, "main", hangs)
    alarm = signal.getsignal(signal.SIGALRM)
    outer_delay, _ = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's, if it has one
    stdout = sys.stdout
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as expired:
        run_cli("profile", "list", home=tmp_path, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5
    assert expired.value.cmd == ["supalink", "profile", "list"]
    assert (signal.getsignal(signal.SIGALRM), sys.stdout) == (alarm, stdout)
    if outer_delay:  # set again for what it had left
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] < outer_delay


def test_a_run_that_freezes_or_stops_the_collector_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config verify` freezes it before its process ends; here nothing of the test process
    may stay frozen out of collection."""
    import gc

    def freezes(argv: list[str]) -> int:
        gc.freeze()
        (gc.disable if gc.isenabled() else gc.enable)()
        return 0

    monkeypatch.setattr(cli, "main", freezes)
    before = (gc.get_freeze_count(), gc.isenabled())  # off after the app's loop has run here
    assert before[0] == 0  # else nothing could tell what the run froze
    assert run_cli("--version", home=tmp_path).returncode == 0
    assert (gc.get_freeze_count(), gc.isenabled()) == before


def test_what_a_run_leaves_open_in_a_cycle_is_collected_by_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process would close it at its exit, silently: here it must not turn up as an
    'unclosed socket' ResourceWarning in some later test."""
    import gc
    import socket
    import warnings

    class Holder:
        pass

    def leaves_a_socket(argv: list[str]) -> int:
        holder = Holder()
        holder.cycle = holder  # type: ignore[attr-defined]
        holder.socket = socket.socket()  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(cli, "main", leaves_a_socket)
    assert run_cli("--version", home=tmp_path).returncode == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(warning.message) for warning in caught] == []

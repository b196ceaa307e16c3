"""`supalink config watch` and `config logs` as a user runs them: a real watch process while
another process rewrites the file as a client does, and a planted client log."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from supalink.mcp.watch import POLL_SECONDS
from tests.support.cli import SUPALINK, run_cli

ENTRY = {"command": "/usr/bin/supalink", "args": ["mcp-serve", "--profile", "prod"]}
DETECTION_BOUND = 2.0  # the issue's: a rewrite is reported within 2 s


def config_text(**servers: Any) -> str:
    return json.dumps({"globalShortcut": "Ctrl+Space", "mcpServers": servers}, indent=2)


def replace_file(path: Path, text: str) -> None:
    """As Claude Desktop writes its file: a new one renamed over it, by another process."""
    script = (
        "import os, sys; p = sys.argv[1]; open(p + '.tmp', 'w').write(sys.argv[2]); "
        "os.replace(p + '.tmp', p)"
    )
    subprocess.run([sys.executable, "-c", script, str(path), text], check=True)


class Lines:
    """A process's output line by line, each waited for with a bound (a thread reads, so
    lines that came in one read are not lost in a buffer a select cannot see)."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)

    def next(self, within: float) -> str:
        try:
            return self._lines.get(timeout=within)
        except queue.Empty:
            raise AssertionError(f"no line within {within} s") from None


@contextlib.contextmanager
def stopped(process: subprocess.Popen[str]) -> Iterator[None]:
    """The process is gone when the test ends, however it ends."""
    try:
        yield
    finally:
        process.kill()
        process.wait()


def test_a_running_watch_reports_a_removal_and_a_rewrite_by_another_process_in_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(config_text(supabase=ENTRY))
    with (
        subprocess.Popen(
            [SUPALINK, "config", "watch", "--client", "claude", "--config", str(path), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "SUPALINK_HOME": str(tmp_path / "home")},
        ) as watch,
        stopped(watch),
    ):
        assert watch.stderr is not None
        assert watch.stdout is not None
        out = Lines(watch.stdout)
        assert "Watching the supabase entry" in Lines(watch.stderr).next(30.0)
        seen: list[tuple[str, float]] = []
        for text in (config_text(), config_text(supabase=ENTRY)):
            changed = time.monotonic()
            replace_file(path, text)
            for _ in range(2):  # "replaced" and then what became of the entry
                line = json.loads(out.next(DETECTION_BOUND + 1.0))
                assert line["server"] == "supabase"
                assert line["at"].endswith("Z")
                seen.append((line["event"], time.monotonic() - changed))
        assert [event for event, _ in seen] == ["replaced", "removed", "replaced", "restored"]
        assert max(delay for _, delay in seen) < DETECTION_BOUND
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(timeout=10) == 0


def test_watch_in_words_and_a_bad_server_name(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(config_text(supabase=ENTRY))
    with (
        subprocess.Popen(
            [SUPALINK, "config", "watch", "--client", "claude", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as watch,
        stopped(watch),
    ):
        assert watch.stderr is not None
        assert watch.stdout is not None
        out = Lines(watch.stdout)
        Lines(watch.stderr).next(30.0)
        path.write_text(config_text())
        line = out.next(DETECTION_BOUND + 1.0)
        assert line.rstrip().endswith(f"removed: the supabase entry is gone from {path}")
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=10) == 0
    bad = run_cli(
        "config",
        "watch",
        "--client",
        "claude",
        "--config",
        str(path),
        "--server-name",
        " ",
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1


def config_logs(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`supalink config logs --client claude` for a user whose home folder is `home`."""
    env = {key: value for key, value in os.environ.items() if key != "XDG_CONFIG_HOME"}
    return run_cli(
        "config",
        "logs",
        "--client",
        "claude",
        *args,
        home=home / "supalink",
        environ={**env, "HOME": str(home)},
        text=True,
    )


def test_logs_prints_the_servers_lines_masked_and_says_when_there_is_none(tmp_path: Path) -> None:
    home = tmp_path / "home"
    logs = home / ".config" / "Claude" / "logs"
    logs.mkdir(parents=True)
    password = "pw-in-a-log-7788"
    (logs / "mcp-server-supabase.log").write_text(
        f"connecting to postgresql://agent:{password}@db.example.com/postgres\nServer exited\n"
    )
    (logs / "mcp.log").write_text("[info] [other] x\n[error] [supabase] Server disconnected.\n")
    shown = config_logs(home)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert password not in shown.stdout
    assert shown.stdout.splitlines() == [
        f"== {logs / 'mcp-server-supabase.log'} ==",
        "connecting to postgresql://agent:****@db.example.com/postgres",
        "Server exited",
        f"== {logs / 'mcp.log'} ==",
        "[error] [supabase] Server disconnected.",
    ]
    none = config_logs(home, "--server-name", "other-one")
    assert none.returncode == 0
    assert none.stdout.splitlines() == [
        f"{logs / 'mcp-server-other-one.log'}: no log yet (Claude Desktop has not started a "
        "server here).",
        f"{logs / 'mcp.log'}: nothing about other-one yet.",
    ]


def test_logs_are_not_shown_while_the_configs_passwords_cannot_be_found(tmp_path: Path) -> None:
    """A trailing comma in the file: the password in its entry's variable cannot be found
    to be masked, and the server's log echoes it."""
    home = tmp_path / "home"
    logs = home / ".config" / "Claude" / "logs"
    logs.mkdir(parents=True)
    password = "plain-Secret-9"
    (logs / "mcp-server-supabase.log").write_text(f"the server got {password}\n")
    cfg = home / "c.json"
    entry = {"command": "uvx", "env": {"PGPASSWORD": password}}
    cfg.write_text(config_text(supabase=entry).removesuffix("}") + ",}")
    shown = config_logs(home, "--config", str(cfg))
    assert (shown.returncode, shown.stdout) == (1, "")
    assert shown.stderr == (
        f"supalink config: {cfg} is not valid JSON: Expecting property name enclosed in "
        "double quotes (a comment or a trailing comma: JSONC, which this client does not "
        "read) at line 11, column 2; no log is shown while the passwords in it cannot be "
        "found to mask them\n"
    )
    cfg.write_text(config_text(supabase=entry))  # whole again: the log is shown, masked
    whole = config_logs(home, "--config", str(cfg))
    assert whole.returncode == 0, whole.stderr
    assert "the server got ****" in whole.stdout.splitlines()
    assert password not in whole.stdout


STOP_BOUND = 1.0  # the issue's: SIGINT or SIGTERM ends a watch within a second


def watching(path: Path, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SUPALINK, "config", "watch", "--client", "claude", "--config", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPALINK_HOME": str(home)},
    )


def until(out: Lines, last: str, allowed: set[str]) -> list[dict[str, str]]:
    """The events up to `last`, each within the detection bound; any before it must be
    among `allowed` (what another look, between two steps of a change, may see)."""
    seen: list[dict[str, str]] = []
    while not seen or seen[-1]["event"] != last:
        seen.append(json.loads(out.next(DETECTION_BOUND + 1.0)))
        assert seen[-1]["event"] in {*allowed, last}, seen
    return seen


def stops_in_time(process: subprocess.Popen[str], number: signal.Signals) -> float:
    sent = time.monotonic()
    process.send_signal(number)
    assert process.wait(timeout=10) == 0
    return time.monotonic() - sent


@pytest.mark.slow
def test_a_running_watch_tells_every_change_of_the_file_and_stops_on_sigint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(config_text(supabase=ENTRY))
    with watching(path, tmp_path / "home") as watch, stopped(watch):
        assert watch.stderr is not None
        assert watch.stdout is not None
        out = Lines(watch.stdout)
        assert "(holds it)" in Lines(watch.stderr).next(30.0)

        replace_file(path, "{not json")
        (*_, invalid) = until(out, "invalid", {"replaced"})
        assert invalid["detail"] == (
            f"{path} is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 1, column 2"
        )
        replace_file(path, json.dumps({"mcpServers": []}))
        (*_, shape) = until(out, "wrong-shape", {"replaced"})
        assert "'mcpServers' at line 1, column 16 is not an object" in shape["detail"]
        path.unlink()
        path.mkdir()
        (*_, folder) = until(out, "not-a-file", {"deleted", "removed"})
        assert folder["detail"] == f"cannot read {path}: it is a folder, not a file"
        path.rmdir()
        assert [line["event"] for line in until(out, "removed", {"deleted"})][-2:] == [
            "deleted",
            "removed",
        ]
        replace_file(path, config_text(supabase=ENTRY))
        assert [line["event"] for line in until(out, "restored", {"recovered"})] == [
            "recovered",
            "restored",
        ]
        assert stops_in_time(watch, signal.SIGINT) < STOP_BOUND


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_watch_of_a_fifo_says_so_and_stops_within_a_second(
    tmp_path: Path, number: signal.Signals
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    os.mkfifo(path)
    with watching(path, tmp_path / "home") as watch, stopped(watch):
        assert watch.stderr is not None
        errors = Lines(watch.stderr)
        assert errors.next(30.0) == (
            f"Watching the supabase entry in {path} (which cannot be read now: cannot read "
            f"{path}: it is a named pipe (FIFO), not a plain file); Ctrl-C stops.\n"
        )
        time.sleep(2 * POLL_SECONDS)  # a look or two at the FIFO: none may wait on it
        assert stops_in_time(watch, number) < STOP_BOUND

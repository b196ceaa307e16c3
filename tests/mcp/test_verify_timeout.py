"""`verify --timeout T` returns within T + 1 s whatever the server does: never answers,
ignores its stdin closing and SIGTERM, or hangs in the middle of a call. Real processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supalink.mcp import ServerEntry
from supalink.mcp.verify import verify_entry
from tests.support.cli import run_cli

SUPALINK = str(Path(sys.executable).with_name("supalink"))
TIMEOUT = 2.0
CLI_TIMEOUT = 10.0  # the server started (a Python start) even on a machine loaded by benchmarks
# Each server writes its pid (and its child's, which shares its process group) first.
SILENT = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""
# Answers initialize and tools/list, then never the call; ignores the end of its stdin.
HANGS_IN_CALL = """
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
tool = {"name": "query", "inputSchema": {"type": "object", "properties": {"sql": {}}}}
for line in sys.stdin:
    message = json.loads(line)
    if message.get("method") == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {},
                  "serverInfo": {"name": "hang", "version": "0"}}
    elif message.get("method") == "tools/list":
        result = {"tools": [tool]}
    elif message.get("method") == "tools/call":
        time.sleep(120)
    else:
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
time.sleep(120)
"""


def server(tmp_path: Path, script: str) -> tuple[ServerEntry, Path]:
    path = tmp_path / "server.py"
    path.write_text(script)
    pids = tmp_path / "pids"
    return ServerEntry(sys.executable, (str(path), str(pids))), pids


def assert_gone(pids: Path) -> None:
    """The server and its child are not left running (the group was killed)."""
    deadline = time.monotonic() + 5
    for pid in map(int, pids.read_text().split()):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            # A killed child of the server waits to be reaped by init: a zombie is gone.
            stat = Path(f"/proc/{pid}/stat")
            if stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z":
                break
            assert time.monotonic() < deadline, f"process {pid} still runs"
            time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "stage"),
    [(SILENT, "initialize"), (HANGS_IN_CALL, "calling query with 'select 1'")],
    ids=["silent", "hangs-in-call"],
)
def test_verify_returns_within_its_timeout_plus_one_second(
    tmp_path: Path, script: str, stage: str
) -> None:
    import mcp.client.session  # noqa: F401  (loaded: the budget is the server's alone)

    entry, pids = server(tmp_path, script)
    started = time.monotonic()
    report = asyncio.run(verify_entry(entry, timeout=TIMEOUT))
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 1, elapsed
    assert not report.ok
    assert report.summary == f"no answer within {TIMEOUT:g} s during {stage}"
    assert_gone(pids)


@pytest.mark.slow
def test_config_verify_returns_within_its_timeout_plus_one_second(tmp_path: Path) -> None:
    """A budget long enough that the server is started even on a loaded machine (a process
    start and the SDK's import come first), so its killing is what is tested."""
    timeout = CLI_TIMEOUT
    entry, pids = server(tmp_path, SILENT)
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(json.dumps({"mcpServers": {"hang": entry.as_json()}}))
    started = time.monotonic()
    result = subprocess.run(
        [
            SUPALINK,
            "config",
            "verify",
            "--client",
            "claude",
            "--config",
            str(config),
            "--server-name",
            "hang",
            "--timeout",
            str(timeout),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path / "home")},
    )
    elapsed = time.monotonic() - started
    assert elapsed < timeout + 1, elapsed
    assert result.returncode == 1
    assert result.stderr.startswith(f"supalink config: no answer within {timeout:g} s during ")
    assert_gone(pids)


@pytest.mark.parametrize("timeout", ["0", "-1", "nan", "inf"])
def test_a_timeout_that_is_no_bound_is_bad_input(tmp_path: Path, timeout: str) -> None:
    argv = ["config", "verify", "--client", "claude", "--config", str(tmp_path / "c.json")]
    result = run_cli(*argv, "--timeout", timeout, home=tmp_path / "home", text=True)
    assert result.returncode == 2
    assert result.stderr == (
        "supalink config: error: --timeout must be a positive number of seconds\n"
    )


def test_the_server_is_found_with_proc_and_with_ps(tmp_path: Path) -> None:
    """What is killed: this process's children that lead a group of their own, as the SDK
    starts a server; ps (macOS and the BSDs) finds the same as /proc."""
    from supalink.mcp.processes import child_groups

    before = child_groups()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    leader = subprocess.Popen(sleeper, start_new_session=True)
    member = subprocess.Popen(sleeper)  # in this process's group: never killed
    try:
        assert child_groups() - before == {leader.pid}
        assert child_groups(proc=tmp_path / "no-proc") - before == {leader.pid}
    finally:
        for process in (leader, member):
            process.kill()
            process.wait()

"""`supalink monitor` that never reached the database: exit 1 with one line saying so."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.monitor.test_cli import Monitor, after_the_warning, run_monitor
from tests.support.postgres import PostgresServer

PASSWORD = "never-shown-Zq81"


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound and not listening: every connection to it is refused, and no other
    process can take it while the test runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.slow
def test_a_run_that_never_connected_exits_1_saying_so(tmp_path: Path, refusing_port: int) -> None:
    uri = f"postgresql://someone:{PASSWORD}@127.0.0.1:{refusing_port}/postgres?sslmode=disable"
    result = run_monitor(tmp_path, "--uri", uri, "--duration", "2", "--json")
    assert result.returncode == 1, result.stderr
    [line] = after_the_warning(result.stderr).decode().splitlines()
    # 2 s and the time the stop took.
    assert re.match(r"supalink monitor: never connected to the database in \d+\.\d s ", line)
    assert "(last error: " in line
    assert PASSWORD not in result.stdout.decode() + line
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"error", "health"} & {event["event"] for event in events}
    assert all(event["event"] != "listening" for event in events)


def test_ctrl_c_before_it_ever_connected_exits_1(tmp_path: Path, refusing_port: int) -> None:
    uri = f"postgresql://someone@127.0.0.1:{refusing_port}/postgres?sslmode=disable"
    with Monitor("--uri", uri, "--channel", "jobs", "--json", home=tmp_path) as monitor:
        monitor.wait_for(
            lambda events: any(e["event"] in ("error", "disconnected") for e in events),
            what="a failed connection",
        )
        monitor.process.send_signal(signal.SIGINT)
        code, stderr = monitor.finish()
    assert code == 1, stderr
    assert stderr.count(b"\n") == 1
    assert b"never connected to the database" in stderr


def test_a_run_that_connected_exits_0(pg: PostgresServer, tmp_path: Path) -> None:
    with Monitor("--uri", pg.uri(), "--channel", "jobs", "--json", home=tmp_path) as monitor:
        monitor.wait_for(lambda events: any(e["event"] == "listening" for e in events))
        time.sleep(0.1)
        monitor.process.send_signal(signal.SIGINT)
        code, stderr = monitor.finish()
    assert code == 0, stderr
    assert after_the_warning(stderr) == b""

"""A call that ends ends its statement: the client's cancel, the client's end, the server's
SIGTERM and even its SIGKILL leave no backend running the call's statement and no lock it
took, as the database itself shows (pg_stat_activity, pg_locks), and another client of the
database can still connect."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.agent.conftest import Login, LoginFactory
from tests.support.postgres import PostgresServer, integer
from tests.support.profiles import SUPALINK

# The bound is a second from the cancel to the backend gone; the margin is for a
# loaded machine (a backend lingers some tens of ms after its statement ends).
GONE_WITHIN_SECONDS = 3.0
START_SECONDS = 30.0


class Served:
    """`supalink mcp-serve` started as a client starts it, spoken to line by line."""

    def __init__(self, login: Login, home: Path, args: tuple[str, ...] | list[str] = ()) -> None:
        env = {**os.environ, "SUPALINK_HOME": str(home), "AGENT_URI": login.uri()}
        self.stderr_path = home / "stderr.log"
        home.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [SUPALINK, "mcp-serve", "--uri-env", "AGENT_URI", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.early: dict[Any, dict[str, Any]] = {}  # answers read while waiting for another
        self.reader = threading.Thread(target=self._read, args=(self.stdout,), daemon=True)
        self.reader.start()
        self.send(1, "initialize", self._hello())
        self.answer(1)
        self.notify("notifications/initialized")

    @staticmethod
    def _hello() -> dict[str, Any]:
        from mcp.types import LATEST_PROTOCOL_VERSION

        return {
            "protocolVersion": LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        }

    def _read(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def _write(self, body: dict[str, Any]) -> None:
        self.stdin.write((json.dumps({"jsonrpc": "2.0", **body}) + "\n").encode())
        self.stdin.flush()

    def send(self, request_id: int, method: str, params: dict[str, Any]) -> None:
        self._write({"id": request_id, "method": method, "params": params})

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self._write({"method": method, **({"params": params} if params else {})})

    def query(self, request_id: int, sql: str) -> None:
        self.send(request_id, "tools/call", {"name": "query", "arguments": {"sql": sql}})

    def answer(self, request_id: int, timeout: float = START_SECONDS) -> dict[str, Any]:
        """The answer to `request_id`, in whatever order the answers come."""
        if request_id in self.early:
            return self.early.pop(request_id)
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, "the server closed its stdout"
            if line.get("id") == request_id:
                return line
            if "id" in line:
                self.early[line["id"]] = line

    def close(self) -> None:
        """As a client leaves: stdin closed, then a kill if the server lingers."""
        if not self.stdin.closed:
            self.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)
        self.stdout.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[Login], Served]]:
    started: list[Served] = []

    def start(login: Login) -> Served:
        server = Served(login, tmp_path / f"home-{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not within the bound"
        time.sleep(0.02)
    return time.monotonic() - started


def marker() -> str:
    return f"m{uuid.uuid4().hex[:12]}"


def advisory_locks(pg: PostgresServer, key: int) -> int:
    with pg.admin_connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s", (key,)
        ).fetchone()
    assert row is not None
    return integer(row[0])


def test_a_cancelled_call_stops_its_statement_on_the_server_within_a_second(
    make_login: LoginFactory, served: Callable[[Login], Served], pg: PostgresServer
) -> None:
    login = make_login()
    server = served(login)
    mark = marker()
    server.query(5, f"select pg_sleep(55) as {mark}")
    wait_for(lambda: bool(login.backends(f"%{mark}%")), START_SECONDS)
    cancelled_at = time.monotonic()
    server.notify("notifications/cancelled", {"requestId": 5, "reason": "test"})
    took = wait_for(lambda: not login.backends(f"%{mark}%"), GONE_WITHIN_SECONDS)
    print(f"cancel to backend idle: {took * 1000:.0f} ms")
    # The server goes on: its next call is answered at once.
    server.query(6, "select 1")
    assert "result" in server.answer(6, timeout=10)
    assert time.monotonic() - cancelled_at < GONE_WITHIN_SECONDS + 10


def test_many_cancelled_calls_leave_no_backend_and_others_can_connect(
    make_login: LoginFactory, served: Callable[[Login], Served], pg: PostgresServer
) -> None:
    login = make_login()
    server = served(login)
    mark = marker()
    for request_id in range(10, 55):  # 45 calls: more than the pool holds
        server.query(request_id, f"select pg_sleep(55) as {mark}")
    wait_for(lambda: len(login.backends(f"%{mark}%")) >= 4, START_SECONDS)
    for request_id in range(10, 55):
        server.notify("notifications/cancelled", {"requestId": request_id})
    wait_for(lambda: not login.backends(f"%{mark}%"), GONE_WITHIN_SECONDS + 2)
    with pg.admin_connect() as conn:  # another client of the database is served
        assert conn.execute("SELECT 1").fetchone() == (1,)
    server.query(60, "select 1")
    assert "result" in server.answer(60, timeout=10)


@pytest.mark.parametrize(
    "end", ["stdin closed", "SIGTERM", pytest.param("SIGKILL", marks=pytest.mark.slow)]
)
def test_when_the_client_or_the_server_goes_its_statement_and_locks_go_too(
    make_login: LoginFactory,
    served: Callable[[Login], Served],
    pg: PostgresServer,
    end: str,
) -> None:
    """The client's end (stdin closed) and a polite stop (SIGTERM) cancel the statement;
    a server killed outright leaves a backend that notices its client gone within
    client_connection_check_interval (1 s)."""
    login = make_login()
    server = served(login)
    mark, key = marker(), 424_242 + hash(end) % 1000
    server.query(5, f"select pg_advisory_xact_lock({key}), pg_sleep(55) as {mark}")
    wait_for(lambda: bool(login.backends(f"%{mark}%")), START_SECONDS)
    assert advisory_locks(pg, key) == 1
    if end == "stdin closed":
        server.stdin.close()
    else:
        server.process.send_signal(signal.SIGTERM if end == "SIGTERM" else signal.SIGKILL)
    took = wait_for(lambda: not login.backends(f"%{mark}%"), GONE_WITHIN_SECONDS)
    print(f"{end}: backend gone after {took * 1000:.0f} ms")
    assert advisory_locks(pg, key) == 0
    assert server.process.wait(timeout=10) is not None

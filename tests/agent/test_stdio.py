"""`supalink mcp-serve`'s stdin and stdout (agent/stdio.py), spoken to byte for byte by a
real process: pipes as the SDK's client starts a server, a socket pair as Node.js (Claude
Desktop) does, plain files, which the event loop cannot watch, a message far beyond
asyncio's default line limit, and lines that are no message: each is answered with a
JSON-RPC error, a line over the limit without ever being held whole, and the server goes
on serving."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from supalink.agent.stdio import MAX_MESSAGE_BYTES, id_in_head
from tests.agent.conftest import Victim
from tests.support.postgres import PostgresServer
from tests.support.profiles import SUPALINK

EXIT_WAIT_SECONDS = 30


def _message(request_id: int | None, method: str, params: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        body["id"] = request_id
    if params is not None:
        body["params"] = params
    return (json.dumps(body) + "\n").encode()


def _initialize() -> bytes:
    from mcp.types import LATEST_PROTOCOL_VERSION

    return _message(
        1,
        "initialize",
        {
            "protocolVersion": LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    ) + _message(None, "notifications/initialized")


def _query(request_id: int, sql: str) -> bytes:
    return _message(request_id, "tools/call", {"name": "query", "arguments": {"sql": sql}})


def _env(tmp_path: Path, pg: PostgresServer) -> dict[str, str]:
    return {**os.environ, "SUPALINK_HOME": str(tmp_path), "AGENT_URI": pg.uri()}


SERVE = [SUPALINK, "mcp-serve", "--uri-env", "AGENT_URI"]


class Wire:
    """A server process and the client's ends of its stdin and stdout."""

    def __init__(
        self, process: subprocess.Popen[bytes], send: IO[bytes] | _SocketEnd, receive: IO[bytes]
    ) -> None:
        self.process = process
        self.send = send
        self.receive = receive

    def write(self, data: bytes) -> None:
        self.send.write(data)
        self.send.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        """The response to `request_id` (notifications the server sends are skipped)."""
        while True:
            line = self.receive.readline()
            assert line, f"the server closed its stdout; exit code {self.process.poll()}"
            message: dict[str, Any] = json.loads(line)
            if message.get("id") == request_id:
                return message

    def next_message(self) -> dict[str, Any]:
        line = self.receive.readline()
        assert line, f"the server closed its stdout; exit code {self.process.poll()}"
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> int:
        """Close the server's stdin, as a client does, and wait for it to exit."""
        self.send.close()
        try:
            return self.process.wait(timeout=EXIT_WAIT_SECONDS)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.receive.close()
            if isinstance(self.send, _SocketEnd):
                self.send.sock.close()


def _on_pipes(env: dict[str, str]) -> Wire:
    process = subprocess.Popen(
        SERVE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None
    assert process.stdout is not None
    return Wire(process, process.stdin, process.stdout)


class _SocketEnd(io.RawIOBase):
    """The client's end of a socket pair as a file to write to; closing it shuts down the
    sending side only, which the server reads as the end of its stdin."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sock.sendall(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.sock.shutdown(socket.SHUT_WR)
        super().close()


def _on_socket_pairs(env: dict[str, str]) -> Wire:
    """stdin and stdout each on a socket pair, as libuv (Node.js) starts children."""
    to_server, server_in = socket.socketpair()
    from_server, server_out = socket.socketpair()
    with server_in, server_out:
        process = subprocess.Popen(
            SERVE,
            stdin=server_in.fileno(),
            stdout=server_out.fileno(),
            stderr=subprocess.DEVNULL,
            env=env,
        )
    with from_server:
        return Wire(process, _SocketEnd(to_server), from_server.makefile("rb"))


def _on_one_socket(env: dict[str, str]) -> Wire:
    """One socket for both, as inetd-like launchers do: served by the SDK's own streams."""
    ours, theirs = socket.socketpair()
    with theirs:
        process = subprocess.Popen(
            SERVE, stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=subprocess.DEVNULL, env=env
        )
    return Wire(process, _SocketEnd(ours), ours.makefile("rb"))


@contextlib.contextmanager
def _initialized(wire: Wire) -> Iterator[dict[str, Any]]:
    """The server on `wire` past `initialize` (its answer); then its stdin is closed, and it
    must exit with 0."""
    try:
        wire.write(_initialize())
        yield wire.answer(1)
    except BaseException:
        wire.close()
        raise
    assert wire.close() == 0


def _text(answer: dict[str, Any]) -> str:
    result = answer["result"]
    assert not result.get("isError"), result
    return "\n".join(block["text"] for block in result["content"])


@pytest.mark.parametrize(
    "start",
    [pytest.param(_on_pipes, marks=pytest.mark.slow), _on_socket_pairs],
    ids=["pipes", "socket pairs"],
)
def test_the_server_talks_on_the_loop_with_its_standard_descriptors_diverted(
    tmp_path: Path, pg: PostgresServer, victim: Victim, start: Any
) -> None:
    wire = start(_env(tmp_path, pg))
    with _initialized(wire) as hello:
        assert hello["result"]["serverInfo"]["name"] == "supalink"
        pid = wire.process.pid
        # fd 0 reads nothing, fd 1 is stderr: stray output cannot reach the wire.
        assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
        assert os.readlink(f"/proc/{pid}/fd/1") == os.readlink(f"/proc/{pid}/fd/2")
        # Served on the event loop: no thread besides the main one reads or writes the wire
        # (the SDK's own streams keep a worker thread for each).
        assert os.listdir(f"/proc/{pid}/task") == [str(pid)]
        wire.write(_query(2, f"select count(*) as n from {victim.schema}.items"))
        assert '"rows":[[' in _text(wire.answer(2))


def test_a_message_far_beyond_a_default_line_limit_is_taken_whole(
    tmp_path: Path, pg: PostgresServer
) -> None:
    """asyncio's readline stops at 64 KiB by default; an agent may send megabytes."""
    wire = _on_pipes(_env(tmp_path, pg))
    with _initialized(wire):
        padding = "x" * 3_000_000
        wire.write(_query(2, f"select 'end' as last /* {padding} */"))
        assert '[["end"]]' in _text(wire.answer(2))
        wire.write(_query(3, "select 2"))  # and the next message is read from its start
        assert "[[2]]" in _text(wire.answer(3))


def test_one_socket_for_stdin_and_stdout_is_served_by_the_sdks_own_streams(
    tmp_path: Path, pg: PostgresServer
) -> None:
    wire = _on_one_socket(_env(tmp_path, pg))
    with _initialized(wire) as hello:
        assert hello["result"]["serverInfo"]["name"] == "supalink"
        wire.write(_query(2, "select 2"))
        assert "[[2]]" in _text(wire.answer(2))
        assert len(os.listdir(f"/proc/{wire.process.pid}/task")) > 1  # the SDK's threads


def test_a_file_for_stdout_is_served_by_the_sdks_own_streams(
    tmp_path: Path, pg: PostgresServer
) -> None:
    """A file is nothing the event loop can wait on: `mcp-serve > answers.jsonl`."""
    answers = tmp_path / "answers.jsonl"
    with answers.open("wb") as stdout:
        process = subprocess.Popen(
            SERVE,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=_env(tmp_path, pg),
        )
    assert process.stdin is not None
    replies: dict[int, Any] = {}
    try:
        process.stdin.write(_initialize() + _message(2, "tools/list"))
        process.stdin.flush()
        deadline = time.monotonic() + EXIT_WAIT_SECONDS
        while len(replies) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            lines = answers.read_bytes().split(b"\n")[:-1]  # whole lines only
            replies = {m["id"]: m for m in map(json.loads, lines) if "id" in m}
    finally:
        process.stdin.close()
        assert process.wait(timeout=EXIT_WAIT_SECONDS) == 0
    assert replies[1]["result"]["serverInfo"]["name"] == "supalink"
    assert "query" in {tool["name"] for tool in replies[2]["result"]["tools"]}


def test_the_server_exits_when_the_client_closes_its_stdin(
    tmp_path: Path, pg: PostgresServer
) -> None:
    with _initialized(_on_pipes(_env(tmp_path, pg))):
        pass  # leaving closes its stdin: it must exit 0 within EXIT_WAIT_SECONDS


def _refusal(request_id: int | str | None, code: int) -> dict[str, Any]:
    """The shape of a JSON-RPC error answer, its message left out."""
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code}}


def _without_message(message: dict[str, Any]) -> dict[str, Any]:
    error = {key: value for key, value in message.get("error", {}).items() if key != "message"}
    return {**message, "error": error}


PARSE_ERROR = -32700
INVALID_REQUEST = -32600
# Each line, the id and code of its answer, and words its message holds.
NO_MESSAGES = [
    (b"{bad\n", None, PARSE_ERROR, "Parse error: not JSON"),
    # Cut short: not JSON, but its id can be read, and the client waits on it.
    (b'{"jsonrpc":"2.0","id":5,"method":"tools/list"\n', 5, PARSE_ERROR, "Parse error"),
    (
        b'{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"\xff"}}\n',
        6,
        PARSE_ERROR,
        "unicode",
    ),
    (b"[1, 2]\n", None, INVALID_REQUEST, "not a JSON-RPC 2.0 request"),
    (b"42\n", None, INVALID_REQUEST, "not a JSON-RPC 2.0 request"),
    # JSON to Python's parser, refused by the SDK's: the id is read all the same.
    (
        b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"query",'
        b'"arguments":{"sql":"select \'\\ud800\'"}}}\n',
        7,
        INVALID_REQUEST,
        "holds a lone surrogate",
    ),
    (b'{"jsonrpc":"1.0","id":"nine","method":"ping"}\n', "nine", INVALID_REQUEST, "JSON-RPC 2.0"),
    # The SDK takes these for notifications and would never answer.
    (b'{"jsonrpc":"2.0","id":true,"method":"ping"}\n', None, INVALID_REQUEST, "id must be"),
    (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}\n', None, INVALID_REQUEST, "id must be"),
]


@pytest.mark.parametrize(
    "start",
    [pytest.param(_on_pipes, marks=pytest.mark.slow), _on_socket_pairs],
    ids=["pipes", "socket pairs"],
)
def test_each_line_that_is_no_message_is_answered_with_an_error_and_serving_goes_on(
    tmp_path: Path, pg: PostgresServer, start: Any
) -> None:
    wire = start(_env(tmp_path, pg))
    with _initialized(wire):
        for line, request_id, code, words in NO_MESSAGES:
            # A blank line before is no message either, and is not answered.
            wire.write(b"\n" + line)
            answer = wire.next_message()
            assert _without_message(answer) == _refusal(request_id, code), line
            assert words in answer["error"]["message"], line
        wire.write(_query(20, "select 1"))
        assert "[[1]]" in _text(wire.answer(20))


def _kib(status: Path, field: str) -> int:
    """A `VmRSS:    1234 kB` line of /proc/PID/status."""
    for line in status.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in {status}")


def test_a_line_over_the_limit_is_refused_without_being_held_and_serving_goes_on(
    tmp_path: Path, pg: PostgresServer
) -> None:
    """17 MiB: what passes 16 MiB is dropped as it arrives. The reader this replaced held a
    line whole, and its decoded copy beside it."""
    size = MAX_MESSAGE_BYTES + 1024 * 1024
    head = b'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"query",'
    head += b'"arguments":{"sql":"select 1 /* '
    tail = b' */"}}}\n'
    chunk = b"x" * (256 * 1024)
    wire = _on_pipes(_env(tmp_path, pg))
    with _initialized(wire):
        wire.write(_query(2, "select 1"))  # the pool open, a query's memory taken
        assert "[[1]]" in _text(wire.answer(2))
        pid = wire.process.pid
        status = Path(f"/proc/{pid}/status")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from here
        baseline = _kib(status, "VmRSS")

        def send_the_line() -> None:
            # From a thread: the server answers before it has read the whole line.
            wire.write(head)
            left = size - len(head) - len(tail)
            while left > 0:
                wire.write(chunk[:left])
                left -= len(chunk)
            wire.write(tail)

        sender = threading.Thread(target=send_the_line)
        sender.start()
        try:
            answer = wire.next_message()
        finally:
            sender.join(EXIT_WAIT_SECONDS)
        assert _without_message(answer) == _refusal(8, INVALID_REQUEST)
        assert "larger than 16 MiB" in answer["error"]["message"]
        wire.write(_query(3, "select 2"))  # read from its start: the long line's end was found
        assert "[[2]]" in _text(wire.answer(3))
        grown = (_kib(status, "VmHWM") - baseline) * 1024
    assert grown < size, f"the peak grew by {grown / 2**20:.1f} MiB for a {size / 2**20} MiB line"


def test_the_limit_is_exact(tmp_path: Path, pg: PostgresServer) -> None:
    """A message of MAX_MESSAGE_BYTES is taken; one byte more is refused."""
    wire = _on_pipes(_env(tmp_path, pg))
    with _initialized(wire):
        for request_id, size in ((2, MAX_MESSAGE_BYTES), (3, MAX_MESSAGE_BYTES + 1)):
            start = b'{"jsonrpc":"2.0","id":%d,"method":"tools/list"' % request_id
            wire.write(start + b" " * (size - len(start) - 1) + b"}\n")
        assert "query" in {tool["name"] for tool in wire.answer(2)["result"]["tools"]}
        assert _without_message(wire.answer(3)) == _refusal(3, INVALID_REQUEST)


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"na', 8),
        (b'{"id": -3 }', -3),
        (b'{"params":{"id":1},"id":"a\\"b"}', 'a"b'),  # the top level's, escapes read
        (b'{"sql":"{\\"id\\":5}","id":6}', 6),  # braces and quotes in a string are text
        (b'{"method":"id","x":"id"}', None),  # values, not keys
        (b'{"id":1.5}', None),
        (b'{"id":1e3}', None),
        (b'{"id":true}', None),
        (b'{"id":null}', None),
        (b'{"id":"\\ud800"}', None),  # cannot be echoed
        (b'{"id":"abc', None),  # cut inside the id
        (b'[{"id":1}]', None),  # a batch is not a message
        (b"", None),
    ],
)
def test_the_id_is_read_from_a_lines_head_only_at_the_top_level(
    head: bytes, found: int | str | None
) -> None:
    assert id_in_head(head) == found

"""The agent's server's stdin and stdout, read and written on the event loop.

The SDK's `stdio_server` reads and writes the standard streams through anyio's worker
threads: each message in and each message out is a hop to a thread and back, about 0.5 ms
of a 2.8 ms `select 1` round trip through the SDK's client here. Every MCP client starts a
server with pipes (or, from Node.js, socket pairs) on fd 0 and 1, and those the event loop
can watch: on POSIX, this reads and writes them on the loop, with no thread. Anything else
(a file, a terminal, /dev/null, Windows, where the selector loop cannot watch a pipe) is
served by the SDK's `stdio_server` as it is.

On the loop, every line the client sends is answered: a line the SDK's parser refuses is
answered with JSON-RPC's parse error (-32700) or invalid request (-32600), with its id
where the id can be read (the SDK's own reader drops such a line and the client waits
forever), and a line longer than `MAX_MESSAGE_BYTES` is dropped as it arrives, never held
whole (stdio_lines.py), and refused the same way.

While serving, fd 0 reads the null device and fd 1 writes to stderr, as the SDK arranges
for its own streams: stray output from a library cannot corrupt the wire, and nothing can
read the client's messages from under the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Final

from supalink.agent.stdio_lines import HEAD_BYTES, LineReader, Overlong

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from mcp.shared.message import SessionMessage
    from mcp_types import JSONRPCMessage

# The longest message the server takes in. An agent's statement is kilobytes; a message of
# this size, decoded and parsed, stays well within the process's memory.
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
_TOO_LARGE: Final = (
    f"Invalid Request: the message is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB, "
    "the most this server takes"
)
# JSON-RPC 2.0's codes for a line that is not JSON, and for JSON that is not a message.
_PARSE_ERROR: Final = -32700
_INVALID_REQUEST: Final = -32600

_RequestId = int | str
# Told of each line answered with an error here: its id (if read), why, and the line (or the
# first kB of one too long to hold).
OnRefused = Callable[[_RequestId | None, str, bytes], None]


# A JSON string or brace, in the head of a line that cannot be parsed whole.
_STRING: Final = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_TOKEN: Final = re.compile(_STRING + rb"|[{}\[\]]", re.DOTALL)
_ID_VALUE: Final = re.compile(rb"\s*:\s*(-?(?:0|[1-9]\d*)(?![\d.eE])|" + _STRING + rb")", re.DOTALL)


def id_in_head(head: bytes) -> _RequestId | None:
    """The id of a message that cannot be parsed, read from the start of its line: the
    value of the top-level key `id` when it is an integer or a string, else None."""
    depth = 0
    for token in _TOKEN.finditer(head):
        text = token.group()
        if text in (b"{", b"["):
            depth += 1
        elif text in (b"}", b"]"):
            depth -= 1
        elif depth == 1 and text == b'"id"' and (value := _ID_VALUE.match(head, token.end())):
            with contextlib.suppress(ValueError, RecursionError):
                return _usable_id(json.loads(value.group(1)))
            return None
    return None


def _usable_id(value: object) -> _RequestId | None:
    """`value` as an id to answer with: an integer (not a boolean) or a string that is
    Unicode text; anything else cannot be echoed, and the answer's id is null."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return value
    return None


def _refusal(line: bytes, error: Exception) -> tuple[_RequestId | None, int, str]:
    """The id, code and message that answer a line the SDK's parser refused with `error`.

    Python's own parser tells JSON from not JSON: it takes what the SDK's refuses, such as
    a string holding a lone surrogate, so such a request's id can still be read."""
    from pydantic import ValidationError

    reason = ""
    if isinstance(error, ValidationError):
        errors = error.errors(include_url=False, include_input=False)
        if errors and errors[0]["type"] == "json_invalid":
            reason = errors[0]["msg"].removeprefix("Invalid JSON: ")
    try:
        payload = json.loads(line)
    except (ValueError, RecursionError):
        detail = f" ({reason})" if reason else ""
        return id_in_head(line[:HEAD_BYTES]), _PARSE_ERROR, f"Parse error: not JSON{detail}"
    found = _usable_id(payload.get("id")) if isinstance(payload, dict) else None
    if not reason:
        message = "not a JSON-RPC 2.0 request, notification or response"
    elif _holds_a_lone_surrogate(payload):
        message = "a string in it holds a lone surrogate (U+D800 to U+DFFF), which is not text"
    else:
        message = f"JSON this server cannot read ({reason})"
    return found, _INVALID_REQUEST, f"Invalid Request: {message}"


def _holds_a_lone_surrogate(payload: object) -> bool:
    """The usual JSON the SDK's parser refuses and Python's takes (jiter's own words for it
    are about hex escapes)."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _has_id(line: bytes) -> bool:
    """Whether a line the SDK took as a notification has an `id` it dropped (a float, a
    boolean, null): a request the client waits on. A key spelled with escapes holds a
    backslash, so only lines with `"id"` or a backslash are parsed again."""
    if b'"id"' not in line and b"\\" not in line:
        return False
    with contextlib.suppress(ValueError, RecursionError):
        payload = json.loads(line)
        return isinstance(payload, dict) and "id" in payload
    return False


class _Wire:
    """The client's messages in, the server's answers out, both on the loop."""

    def __init__(
        self,
        lines: LineReader,
        writer: asyncio.StreamWriter,
        on_refused: OnRefused | None = None,
    ) -> None:
        import mcp_types
        from mcp.shared.message import SessionMessage

        self._lines = lines
        self._writer = writer
        self._on_refused = on_refused
        self._parse = mcp_types.jsonrpc_message_adapter.validate_json
        self._notification = mcp_types.JSONRPCNotification
        self._error = mcp_types.JSONRPCError
        self._error_data = mcp_types.ErrorData
        self._session_message = SessionMessage

    async def send(self, message: JSONRPCMessage) -> None:
        """One message, written whole as one line: lines from the reader's refusals and
        from the answers never interleave."""
        text = message.model_dump_json(by_alias=True, exclude_unset=True)
        self._writer.write((text + "\n").encode("utf-8"))
        await self._writer.drain()

    async def refuse(
        self, request_id: _RequestId | None, code: int, message: str, line: bytes = b""
    ) -> None:
        """Answer a line the server cannot take, and tell whoever records it (the audit: the
        line is a call too, when it is one)."""
        if self._on_refused is not None:
            with contextlib.suppress(Exception):  # recording never stops the reading
                self._on_refused(request_id, message, line)
        await self.send(
            self._error(
                jsonrpc="2.0",
                id=request_id,
                error=self._error_data(code=code, message=message),
            )
        )

    async def read(self, received: MemoryObjectSendStream[SessionMessage | Exception]) -> None:
        """Each line to the server as a message, or answered with an error here."""
        import anyio

        async with received:
            while (line := await self._lines.next_line()) is not None:
                if isinstance(line, Overlong):
                    await self.refuse(
                        id_in_head(line.head), _INVALID_REQUEST, _TOO_LARGE, line.head
                    )
                    continue
                try:
                    message = self._parse(line, by_name=False)
                except Exception as error:  # whatever the parser raises, the line is answered
                    if line.strip():  # a blank line is no message, and wants no answer
                        await self.refuse(*_refusal(line, error), line)
                    continue
                if isinstance(message, self._notification) and _has_id(line):
                    await self.refuse(
                        None,
                        _INVALID_REQUEST,
                        "Invalid Request: a request's id must be a string or an integer",
                        line,
                    )
                    continue
                try:
                    await received.send(self._session_message(message))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the server stopped reading

    async def write(self, answers: MemoryObjectReceiveStream[SessionMessage]) -> None:
        async with answers:
            async for answer in answers:
                await self.send(answer.message)


def _on_loop_possible() -> bool:
    """Pipes or sockets on fd 0 and 1, what the event loop can wait on (a file or /dev/null
    it cannot), and not one socket for both: asyncio's write side takes its socket turning
    readable for the client hanging up, which data for the read side would look like."""
    try:
        incoming, outgoing = os.fstat(0), os.fstat(1)
    except OSError:
        return False
    if not all(stat.S_ISFIFO(s.st_mode) or stat.S_ISSOCK(s.st_mode) for s in (incoming, outgoing)):
        return False
    return (incoming.st_dev, incoming.st_ino) != (outgoing.st_dev, outgoing.st_ino)


def _divert() -> tuple[int, int, Callable[[], None]]:
    """The wire's own descriptors (above the standard ones), with fd 0 on the null device
    and fd 1 on stderr meanwhile; and what points 0 and 1 back at the wire."""
    import fcntl

    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    # Kept to point 0 and 1 back: the transports close the wire's descriptors.
    saved_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    saved_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)

    def restore() -> None:
        for saved, fd in ((saved_in, 0), (saved_out, 1)):
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
            with contextlib.suppress(OSError):
                os.close(saved)

    return wire_in, wire_out, restore


async def _on_loop(
    wire_in: int, wire_out: int
) -> tuple[LineReader, asyncio.StreamWriter, asyncio.BaseTransport, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    incoming, lines = await loop.connect_read_pipe(
        lambda: LineReader(MAX_MESSAGE_BYTES), os.fdopen(wire_in, "rb", buffering=0)
    )
    outgoing, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(outgoing, protocol, None, loop)
    return lines, writer, incoming, outgoing


@contextlib.asynccontextmanager
async def stdio_streams(
    on_refused: OnRefused | None = None,
) -> AsyncIterator[
    tuple[
        MemoryObjectReceiveStream[SessionMessage | Exception],
        MemoryObjectSendStream[SessionMessage],
    ]
]:
    """The read and write streams for `Server.run`, as `mcp.server.stdio.stdio_server`
    gives them. `on_refused(id, why, line)` hears of each line answered here with an error
    (on the loop's path only: the SDK's own streams answer none)."""
    if sys.platform == "win32" or not _on_loop_possible():
        from mcp.server.stdio import stdio_server

        async with stdio_server() as streams:
            yield streams
        return
    import anyio
    from mcp.shared.message import SessionMessage

    wire_in, wire_out, restore = _divert()
    transports: list[asyncio.BaseTransport] = []
    try:
        lines, writer, incoming, outgoing = await _on_loop(wire_in, wire_out)
        transports = [incoming, outgoing]
        wire = _Wire(lines, writer, on_refused)
        # Plain anyio streams, unbuffered as the SDK's: the SDK's dispatcher only looks for
        # the sender's context on them (`last_context`), and runs handlers in its own without.
        received_in, received = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        answers, answers_out = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(wire.read, received_in)
            tasks.start_soon(wire.write, answers_out)
            yield received, answers
    finally:
        for transport in transports:
            transport.close()
        if transports:
            await asyncio.sleep(0)  # their connection_lost closes the wire's descriptors
        restore()
